import Foundation

/// The Solidity contract ABI encoding, for the types the registry uses: uint, bytes32,
/// address, bool and dynamic arrays of those (docs.soliditylang.org, "Contract ABI Specification").
public enum ABIValue: Equatable, Sendable {
    case uint(UInt64)
    case bytes32(Data)
    case address(EthereumAddress)
    case bool(Bool)
    /// A dynamic array `T[]` of a static element type.
    case array([ABIValue])

    var isDynamic: Bool { if case .array = self { true } else { false } }

    /// The value's 32-byte word (static types) or its tail (arrays: length, then elements).
    func encodedData() -> Data {
        switch self {
        case .uint(let value): return ABI.word(value)
        case .bytes32(let bytes): return bytes + Data(count: 32 - bytes.count)
        case .address(let address): return Data(count: 12) + address.bytes
        case .bool(let flag): return ABI.word(flag ? 1 : 0)
        case .array(let items): return ABI.word(UInt64(items.count)) + items.reduce(into: Data()) { $0 += $1.encodedData() }
        }
    }
}

public enum ABI {
    /// The first four bytes of keccak256 of the canonical signature, e.g. `confirm(bytes32,bytes32,uint8)`.
    public static func selector(_ signature: String) -> Data { Keccak256.hash(Array(signature.utf8)).prefix(4) }

    /// A topic-0 of an event: keccak256 of its canonical signature.
    public static func eventTopic(_ signature: String) -> Data { Keccak256.hash(Array(signature.utf8)) }

    /// Call data: selector, then the head/tail encoding of the arguments.
    public static func call(_ signature: String, _ arguments: [ABIValue]) -> Data {
        selector(signature) + encode(arguments)
    }

    public static func encode(_ values: [ABIValue]) -> Data {
        var head = Data()
        var tail = Data()
        let headSize = 32 * values.count
        for value in values {
            if value.isDynamic {
                head += word(UInt64(headSize + tail.count))
                tail += value.encodedData()
            } else {
                head += value.encodedData()
            }
        }
        return head + tail
    }

    static func word(_ value: UInt64) -> Data {
        var bytes = Data(count: 24)
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Reads the 32-byte word at `index` of static return data.
    public static func word(_ data: Data, at index: Int) throws -> Data {
        let start = data.startIndex + 32 * index
        guard index >= 0, data.count >= 32 * (index + 1) else {
            throw EncodingError.invalidABI("return data has \(data.count) bytes, word \(index) is missing")
        }
        return data[start..<(start + 32)]
    }

    /// A uint word that must fit in 64 bits.
    public static func uint64(_ data: Data, at index: Int) throws -> UInt64 {
        let value = try word(data, at: index)
        guard value.prefix(24).allSatisfy({ $0 == 0 }) else { throw EncodingError.invalidABI("integer wider than 64 bits") }
        return value.suffix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public static func address(_ data: Data, at index: Int) throws -> EthereumAddress {
        let value = try word(data, at: index)
        guard value.prefix(12).allSatisfy({ $0 == 0 }) else { throw EncodingError.invalidABI("address word has high bits set") }
        return try EthereumAddress(bytes: Data(value.suffix(20)))
    }

    /// The reason of a Solidity/Vyper revert, `Error(string)` (selector 0x08c379a0); nil if
    /// the data is not that shape (a custom error or an empty revert).
    public static func revertReason(_ data: Data) -> String? {
        guard data.count >= 4 + 64, data.prefix(4) == selector("Error(string)") else { return nil }
        let body = Data(data.dropFirst(4))
        guard let offset = try? uint64(body, at: 0), offset % 32 == 0, offset <= UInt64(body.count),
              let length = try? uint64(body, at: Int(offset / 32)),
              length <= UInt64(body.count) - offset - 32 else { return nil }
        let start = Int(offset) + 32
        return String(decoding: body[start..<(start + Int(length))], as: UTF8.self)
    }
}
