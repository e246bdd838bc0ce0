import Foundation
import Testing
@testable import Chain

/// Ethereum's encodings against published vectors and against eth-account/eth-abi (Python),
/// whose outputs for the same inputs are written here.
@Suite struct EncodingTests {
    private func hex(_ data: Data) -> String { String(data.ethereumHex.dropFirst(2)) }

    @Test func keccakMatchesEthereumNotSHA3() {
        // Published Keccak-256 digests (the SHA3-256 of "" is a7ffc6f8..., a different value).
        #expect(hex(Keccak256.hash(Data())) == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(hex(Keccak256.hash(Array("abc".utf8))) == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        #expect(hex(Keccak256.hash(Array("The quick brown fox jumps over the lazy dog".utf8)))
            == "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")
        // Around the 136-byte rate, and several blocks (eth-hash's values).
        #expect(hex(Keccak256.hash([UInt8](repeating: 0x61, count: 135))) == "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446")
        #expect(hex(Keccak256.hash([UInt8](repeating: 0x61, count: 136))) == "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e")
        #expect(hex(Keccak256.hash((0..<200).map { UInt8($0) })) == "bfb0aa97863e797943cf7c33bb7e880bb4543f3d2703c0923c6901c2af57b890")
    }

    @Test func rlpVectors() throws {
        // The examples of the Ethereum RLP specification.
        let cases: [(RLP, String)] = [
            (.bytes(Data("dog".utf8)), "83646f67"),
            (.list([.bytes(Data("cat".utf8)), .bytes(Data("dog".utf8))]), "c88363617483646f67"),
            (.bytes(Data()), "80"), (.list([]), "c0"), (.uint(0), "80"), (.uint(15), "0f"), (.uint(1024), "820400"),
            (.list([.list([]), .list([.list([])]), .list([.list([]), .list([.list([])])])]), "c7c0c1c0c3c0c1c0"),
            (.bytes(Data("Lorem ipsum dolor sit amet, consectetur adipisicing elit".utf8)),
             "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974"),
        ]
        for (item, expected) in cases {
            #expect(hex(item.encoded) == expected)
            #expect(try RLP.decode(item.encoded) == item)
        }
    }

    @Test func rlpRefusesMalformedInput() {
        for bad in ["8100", "83646f", "b80161", "c3646f", "83646f6700", "f9000100", "bf0000000000000000ff"] {
            #expect(throws: EncodingError.self) { try RLP.decode(try Data(ethereumHex: bad)) }
        }
    }

    @Test func eip55Addresses() throws {
        for text in ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                     "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"] {
            #expect(try EthereumAddress(text).description == text)
            #expect(try EthereumAddress(text.lowercased()).description == text)
        }
        #expect(throws: EncodingError.invalidAddressChecksum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")) {
            try EthereumAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
        }
        #expect(throws: EncodingError.self) { try EthereumAddress("0x1234") }
    }

    @Test func keysAndAddresses() throws {
        // The key 1 is the generator point; its address is well known.
        let one = try AccountKey(privateKey: Data(count: 31) + Data([1]))
        #expect(one.address.description == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
        #expect(!String(describing: one).contains("0000000000000001"))
        #expect(throws: EncodingError.self) { try AccountKey(privateKey: Data(count: 32)) }
        let order = try Data(ethereumHex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        #expect(throws: EncodingError.self) { try AccountKey(privateKey: order) }
        #expect(throws: EncodingError.self) { try AccountKey(privateKey: Data(count: 31)) }
    }

    @Test func eip1559SigningMatchesEthAccount() throws {
        let key = try AccountKey(privateKey: Data(repeating: 0x46, count: 32))
        #expect(key.address.description == "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
        let call = try EIP1559Transaction(chainID: 1337, nonce: 7, maxPriorityFeePerGas: 2_000_000_000, maxFeePerGas: 30_000_000_000,
                                          gasLimit: 120_000, to: EthereumAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
                                          data: Data([0xde, 0xad, 0xbe, 0xef])).signed(by: key)
        #expect(hex(call.raw) == "02f8728205390784773594008506fc23ac008301d4c0945aaeb6053f3e94c9b9a09f33669435e7ef1beaed8084deadbeefc080a086a6c09d23bb5aa70e0d0a5bee4e0ca19becc8a585c21d6d9671c3c148dbc52fa02b0f02834a8b2cccc34aa2f60125f5b8a1b25018b1e49fde1cdc0af60583b642")
        #expect(hex(call.hash) == "6b1d3eb6b269b2fd036d7216607f485d4ec7ab2f09475624e9ff9dabbbdd9212")
        let create = try EIP1559Transaction(chainID: 1337, nonce: 0, maxPriorityFeePerGas: 2_000_000_000, maxFeePerGas: 30_000_000_000,
                                            gasLimit: 120_000, to: nil, data: Data([0x60, 0x01, 0x60, 0x00, 0x55])).signed(by: key)
        #expect(hex(create.raw) == "02f85f8205398084773594008506fc23ac008301d4c08080856001600055c001a0c9efe136795959bf545c54dfd494e50fb5e0162dfb8fbf3fac746efb63b0a318a0280fbb98610d2b6b97798cbb70b0c658fcbe7eb3727932650dbbc5dbd71ac568")
        // Decoding recovers the fields and the sender, as a node does.
        let decoded = try SignedTransaction.decode(raw: call.raw)
        #expect(decoded == call)
        var tampered = call.raw
        tampered[tampered.count - 40] ^= 1
        #expect((try? SignedTransaction.decode(raw: tampered))?.sender != key.address)
    }

    @Test func abiEncodingAndRevertReasons() throws {
        #expect(hex(ABI.selector("transfer(address,uint256)")) == "a9059cbb")
        let encoded = ABI.encode([.array([.bytes32(Data(repeating: 1, count: 32)), .bytes32(Data(repeating: 2, count: 32))]),
                                  .array([.bytes32(Data(repeating: 3, count: 32)), .bytes32(Data(repeating: 4, count: 32))]),
                                  .array([.uint(1), .uint(2)])])
        #expect(hex(encoded) == "000000000000000000000000000000000000000000000000000000000000006000000000000000000000000000000000000000000000000000000000000000c00000000000000000000000000000000000000000000000000000000000000120000000000000000000000000000000000000000000000000000000000000000201010101010101010101010101010101010101010101010101010101010101010202020202020202020202020202020202020202020202020202020202020202000000000000000000000000000000000000000000000000000000000000000203030303030303030303030303030303030303030303030303030303030303030404040404040404040404040404040404040404040404040404040404040404000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002")
        let revert = try Data(ethereumHex: "08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000116e6f74206120636f6e6669726d61746f72000000000000000000000000000000")
        #expect(ABI.revertReason(revert) == "not a confirmator")
        #expect(ABI.revertReason(revert.prefix(40)) == nil)
        #expect(ABI.revertReason(Data()) == nil)
        let jobID = UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF")!
        #expect(hex(JobsRegistry.jobKey(jobID)) == String(repeating: "0", count: 32) + "00112233445566778899aabbccddeeff")
    }

    @Test func replacementFeesRiseByMoreThanTenPercentUpToTheCap() throws {
        var policy = FeePolicy()
        let next = try #require(policy.replacement(of: (maxFeePerGas: 1_000, maxPriorityFeePerGas: 100), market: (maxFeePerGas: 500, maxPriorityFeePerGas: 50)))
        #expect(next.maxFeePerGas >= 1_100 && next.maxPriorityFeePerGas >= 110)
        let market = try #require(policy.replacement(of: (maxFeePerGas: 1_000, maxPriorityFeePerGas: 100), market: (maxFeePerGas: 5_000, maxPriorityFeePerGas: 300)))
        #expect(market == (5_000, 300))
        let tiny = try #require(policy.replacement(of: (maxFeePerGas: 1, maxPriorityFeePerGas: 1), market: (maxFeePerGas: 0, maxPriorityFeePerGas: 0)))
        #expect(tiny.maxFeePerGas >= 2 && tiny.maxPriorityFeePerGas >= 2)
        #expect(policy.replacement(of: (maxFeePerGas: .max, maxPriorityFeePerGas: .max), market: (maxFeePerGas: 0, maxPriorityFeePerGas: 0)) != nil)
        // At the cap a transaction waits rather than outbidding the operator's limit.
        policy.maxFeePerGasCap = 1_100
        #expect(policy.replacement(of: (maxFeePerGas: 1_000, maxPriorityFeePerGas: 100), market: (maxFeePerGas: 500, maxPriorityFeePerGas: 50)) == nil)
        #expect(policy.replacement(of: (maxFeePerGas: 900, maxPriorityFeePerGas: 100), market: (maxFeePerGas: 500, maxPriorityFeePerGas: 50)) != nil)
    }
}
