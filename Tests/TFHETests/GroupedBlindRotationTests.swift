import Foundation
import Testing
import TFHEKernelABI
@testable import TFHE

/// Blind rotation by groups of key coefficients (`BlindRotationMethod`): block binary keys
/// (tfhe-go's) and multi-bit keys (TFHE-rs's), on the insecure unit-test sets of both torus
/// widths and both bootstrap orders.
@Suite("Block binary and multi-bit blind rotation")
struct GroupedBlindRotationTests {
    static let sets = [
        "insecure_test_64_block_binary", "insecure_test_64_multi_bit",
        "insecure_test_32_block_binary", "insecure_test_32_multi_bit",
    ]

    /// One at a time and batched, on every kernel set this CPU runs: the portable set's words,
    /// and the table's values (`EngineKernelsTests.compareBootstraps`).
    @Test(arguments: EngineKernelsTests.setNames, sets)
    func bootstrapsMatchThePortableSet(set name: String, parameters: String) throws {
        let params = try TestParameters.load(parameters)
        if params.torusBits == 32 {
            try EngineKernelsTests.compareBootstraps(UInt32.self, set: name, params)
        } else {
            try EngineKernelsTests.compareBootstraps(UInt64.self, set: name, params)
        }
    }

    /// Every message through random tables, with fresh keys per round: a wrong exponent, a
    /// pattern read with the wrong bit order or a monomial in the wrong slot gives wrong
    /// values for most messages.
    @Test(arguments: sets)
    func everyMessageThroughRandomTables(parameters: String) throws {
        let params = try TestParameters.load(parameters)
        if params.torusBits == 32 {
            try Self.randomTables(UInt32.self, params)
        } else {
            try Self.randomTables(UInt64.self, params)
        }
    }

    static func randomTables<T: TorusScalar>(_: T.Type, _ params: ParameterSet) throws {
        let messages = UInt64(1) << (params.messageBits + params.carryBits)
        var rng = TestGenerator(UInt64(params.lweDimension) * 31 + UInt64(params.torusBits))
        for round in 0..<3 {
            let client = try ClientKey<T>(parameters: params, seed: Seed(high: 0xb10c, low: UInt64(round)))
            let server = ServerKey(clientKey: client, seed: Seed(high: 0xb10d, low: UInt64(round)))
            let scratch = server.makeScratch()
            for _ in 0..<8 {
                let values = (0..<messages).map { _ in UInt64.random(in: 0..<messages, using: &rng) }
                let table = try server.lookupTable(values: values)
                for m in 0..<messages {
                    var out = LWECiphertext<T>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
                    try server.programmableBootstrap(try client.encrypt(m), table: table, scratch: scratch, into: &out)
                    #expect(try client.decrypt(out) == values[Int(m)], "\(params.name), round \(round), message \(m)")
                }
            }
        }
    }

    /// The Fourier-domain monomials the grouped steps multiply by are the forward transforms
    /// of X^e and X^e - 1, for exponents across [0, 2N), on every kernel set's slot order.
    @Test(arguments: [256, 512, 2048])
    func monomialsAreTheTransformsOfMonomials(polynomialSize n: Int) throws {
        let fft = NegacyclicFFT(polynomialSize: n)
        let m = n / 2
        let computed = AlignedBuffer<Double>(count: n), transformed = AlignedBuffer<Double>(count: n)
        let polynomial = AlignedBuffer<Double>(count: n)
        for e in [0, 1, 2, 7, n - 1, n, n + 1, n + 5, 2 * n - 1] {
            for minusOne in [false, true] {
                BlindRotation.monomial(power: e, minusOne: minusOne, tables: fft.tables, into: computed.pointer)
                for j in 0..<n { polynomial.pointer[j] = 0 }
                // X^e = -X^{e-N} for e ≥ N in Z[X]/(X^N + 1).
                polynomial.pointer[e % n] = e < n ? 1 : -1
                if minusOne { polynomial.pointer[0] -= 1 }
                fft.forward(UnsafePointer(polynomial.pointer), re: transformed.pointer, im: transformed.pointer + m)
                let worst = (0..<n).map { abs(computed.pointer[$0] - transformed.pointer[$0]) }.max()!
                #expect(worst < 1e-12, "N=\(n), X^\(e)\(minusOne ? " - 1" : ""): largest difference \(worst)")
            }
        }
    }

    /// A block binary key has at most one 1 per block, and each block takes its B + 1 forms
    /// equally often (a chi-squared test at false alarm 10^-6 over 6,000 blocks).
    @Test func blockBinaryKeysAreUniformOverTheirBlocks() throws {
        let blockSize = 3, blocks = 6000
        var generator = AESCTRGenerator(seed: Seed(high: 0xb1, low: 1))
        let key = BinarySecretKey<UInt64>(count: blockSize * blocks, blockSize: blockSize, generator: &generator)
        #expect(key.isBlockBinary(blockSize: blockSize))
        var counts = [Int](repeating: 0, count: blockSize + 1)
        key.withCoefficients { words in
            for block in 0..<blocks {
                let one = (0..<blockSize).first { words[block * blockSize + $0] == 1 } ?? blockSize
                counts[one] += 1
            }
        }
        let expected = Double(blocks) / Double(blockSize + 1)
        let chiSquared = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 3 degrees of freedom: P(χ² > 30.7) ≈ 10^-6.
        #expect(chiSquared < 30.7, "block forms \(counts)")
        // The check has teeth: a uniform binary key is not block binary.
        let uniform = BinarySecretKey<UInt64>(count: blockSize * blocks, generator: &generator)
        #expect(!uniform.isBlockBinary(blockSize: blockSize))
    }

    /// Each multi-bit group's 2^g GGSWs encrypt the indicators of its bits' pattern: exactly
    /// one of them encrypts 1, the one of the group's actual bits.
    @Test func multiBitKeysEncryptTheIndicatorOfEachPattern() throws {
        let params = try TestParameters.load("insecure_test_64_multi_bit")
        guard case .multiBit(let g) = params.blindRotation else { Issue.record("not a multi-bit set"); return }
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x3b, low: 1))
        for group in 0..<(params.lweDimension / g) {
            var actual = 0
            for i in 0..<g where client.lweKey[g * group + i] == 1 { actual |= 1 << i }
            for pattern in 0..<(1 << g) {
                let plaintext = FourierBootstrappingKey.ggswPlaintext(group << g | pattern, method: params.blindRotation,
                                                                     lweKey: client.lweKey)
                #expect(plaintext == (pattern == actual ? 1 : 0), "group \(group), pattern \(pattern)")
            }
        }
    }

    /// The multi-bit modulus switch rounds Σ_{i in p} a_i once per pattern, and with the key's
    /// pattern it reads the phase the classic switch would, to within one rounding per group.
    @Test func multiBitSwitchSumsEachPattern() throws {
        let n = 6, g = 3, logTwoN = 10
        var rng = TestGenerator(77)
        let input = (0...n).map { _ in rng.next() }
        var output = [Int](repeating: -1, count: n / g * (1 << g) + 1)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer {
                BlindRotation.switchModulusMultiBit(i.baseAddress!, dimension: n, groupingFactor: g, logTwoN: logTwoN,
                                                    into: $0.baseAddress!)
            }
        }
        for group in 0..<(n / g) {
            for pattern in 0..<(1 << g) {
                var sum: UInt64 = 0
                for i in 0..<g where pattern >> i & 1 == 1 { sum &+= input[g * group + i] }
                let rounded = Int((sum &+ (1 << (63 - logTwoN))) >> (64 - logTwoN)) & ((1 << logTwoN) - 1)
                #expect(output[group << g | pattern] == rounded)
            }
        }
        #expect(output[(n / g) << g] == Int(input[n] >> (64 - logTwoN)))
    }

    /// Keys of a grouped set survive serialization and the seeded form; a client key whose
    /// LWE key breaks the block structure is refused with the reason.
    @Test(arguments: ["insecure_test_64_block_binary", "insecure_test_64_multi_bit"])
    func keysRoundTrip(parameters: String) throws {
        let params = try TestParameters.load(parameters)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x5e, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x5e, low: 2))
        #expect(server.bootstrappingKey.ggswCount == params.blindRotation.ggswCount(lweDimension: params.lweDimension))
        let read = try ServerKey<UInt64>(serialized: server.serialized(), parameters: params)
        #expect(read.bootstrappingKey.storage.array == server.bootstrappingKey.storage.array)
        let decompressed = CompressedServerKey(clientKey: client, seed: Seed(high: 0x5e, low: 2)).decompress()
        #expect(decompressed.bootstrappingKey.storage.array == server.bootstrappingKey.storage.array)
        let clientRead = try ClientKey<UInt64>(serialized: client.serialized(), parameters: params)
        #expect(clientRead.lweKey.withCoefficients(Array.init) == client.lweKey.withCoefficients(Array.init))

        guard case .blockBinary = params.blindRotation else { return }
        var bytes = client.serialized()
        // Payload: two u32 counts, then the LWE key's bytes; make the first block all ones.
        let payloadStart = bytes.count - (8 + params.lweDimension + params.bigLWEDimension)
        for i in 0..<4 { bytes[payloadStart + 8 + i] = 1 }
        let error = #expect(throws: SerializationError.self) {
            try ClientKey<UInt64>(serialized: ObjectHeader.resealed(bytes), parameters: params)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("more than one 1"))
    }

    /// Malformed `blind_rotation` objects are refused with the field at fault.
    @Test func parameterFilesAreChecked() throws {
        let url = TestParameters.folder.appendingPathComponent("insecure_test_64.json")
        var base = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func parse(_ rotation: Any, modulusSwitch: String = "standard") -> Result<ParameterSet, Error> {
            base["blind_rotation"] = rotation
            base["modulus_switch"] = modulusSwitch
            return Result { try ParameterSet.parse(json: JSONSerialization.data(withJSONObject: base), allowInsecure: true) }
        }
        func reason(_ result: Result<ParameterSet, Error>) -> String {
            if case .failure(let error) = result { return "\(error)" }
            return "accepted"
        }
        #expect(reason(parse(["method": "block_binary", "block_size": 5])).contains("'blind_rotation.block_size'"))
        #expect(reason(parse(["method": "block_binary", "block_size": 9])).contains("must be in 2...8"))
        #expect(reason(parse(["method": "multi_bit", "grouping_factor": 5])).contains("'blind_rotation.grouping_factor'"))
        #expect(reason(parse(["method": "multi_bit", "grouping_factor": 3])).contains("must divide lwe_dimension 64"))
        #expect(reason(parse(["method": "multi_bit", "grouping_factor": 2], modulusSwitch: "centered_mean")).contains("'modulus_switch'"))
        #expect(reason(parse(["method": "spiral"])).contains("unknown blind rotation"))
        #expect(reason(parse(["block_size": 2])).contains("'blind_rotation.method'"))
        let classic = try parse(["method": "classic"]).get()
        #expect(classic.blindRotation == .classic)
        // A set without the field keeps its fingerprint; the method is part of a grouped set's.
        let plain = try TestParameters.load(TestParameters.insecure64)
        #expect(classic.fingerprint == plain.fingerprint)
        let blocks = try parse(["method": "block_binary", "block_size": 4]).get()
        #expect(blocks.fingerprint != plain.fingerprint)
    }
}
