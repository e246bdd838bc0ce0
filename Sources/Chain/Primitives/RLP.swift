import Foundation

/// Recursive Length Prefix, Ethereum's serialization of transactions (Yellow Paper, appendix B).
public indirect enum RLP: Equatable, Sendable {
    case bytes(Data)
    case list([RLP])

    /// An unsigned integer as RLP encodes it: big-endian with no leading zero bytes.
    public static func uint(_ value: UInt64) -> RLP { .bytes(Data(bigEndianMinimal: value)) }

    public var encoded: Data {
        switch self {
        case .bytes(let data):
            if data.count == 1, data[data.startIndex] < 0x80 { return data }
            return Self.header(length: data.count, offset: 0x80) + data
        case .list(let items):
            let payload = items.reduce(into: Data()) { $0 += $1.encoded }
            return Self.header(length: payload.count, offset: 0xC0) + payload
        }
    }

    private static func header(length: Int, offset: UInt8) -> Data {
        if length < 56 { return Data([offset + UInt8(length)]) }
        let lengthBytes = Data(bigEndianMinimal: UInt64(length))
        return Data([offset + 55 + UInt8(lengthBytes.count)]) + lengthBytes
    }

    /// Decodes exactly one item spanning all of `data`; lengths are checked against the
    /// input before anything is read, and non-canonical encodings are refused.
    public static func decode(_ data: Data) throws -> RLP {
        let bytes = [UInt8](data)
        var position = 0
        let item = try decodeItem(bytes, &position, end: bytes.count, depth: 0)
        guard position == bytes.count else { throw EncodingError.invalidRLP("\(bytes.count - position) trailing bytes") }
        return item
    }

    private static func decodeItem(_ bytes: [UInt8], _ position: inout Int, end: Int, depth: Int) throws -> RLP {
        guard depth < 64 else { throw EncodingError.invalidRLP("nested too deeply") }
        guard position < end else { throw EncodingError.invalidRLP("truncated") }
        let prefix = bytes[position]
        position += 1
        switch prefix {
        case 0..<0x80:
            return .bytes(Data([prefix]))
        case 0x80..<0xB8:
            let length = Int(prefix - 0x80)
            let payload = try take(bytes, &position, length, end: end)
            if length == 1, let only = payload.first, only < 0x80 { throw EncodingError.invalidRLP("single byte not encoded as itself") }
            return .bytes(Data(payload))
        case 0xB8..<0xC0:
            let length = try longLength(bytes, &position, byteCount: Int(prefix - 0xB7), end: end)
            return .bytes(Data(try take(bytes, &position, length, end: end)))
        case 0xC0..<0xF8:
            return .list(try decodeList(bytes, &position, length: Int(prefix - 0xC0), end: end, depth: depth))
        default:
            let length = try longLength(bytes, &position, byteCount: Int(prefix - 0xF7), end: end)
            return .list(try decodeList(bytes, &position, length: length, end: end, depth: depth))
        }
    }

    private static func decodeList(_ bytes: [UInt8], _ position: inout Int, length: Int, end: Int, depth: Int) throws -> [RLP] {
        guard length <= end - position else { throw EncodingError.invalidRLP("list longer than its input") }
        let listEnd = position + length
        var items: [RLP] = []
        while position < listEnd { items.append(try decodeItem(bytes, &position, end: listEnd, depth: depth + 1)) }
        return items
    }

    private static func longLength(_ bytes: [UInt8], _ position: inout Int, byteCount: Int, end: Int) throws -> Int {
        let lengthBytes = try take(bytes, &position, byteCount, end: end)
        guard lengthBytes.first != 0 else { throw EncodingError.invalidRLP("length with leading zero") }
        guard byteCount <= 4 else { throw EncodingError.invalidRLP("length too large") }
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard length >= 56 else { throw EncodingError.invalidRLP("long form for a short length") }
        return length
    }

    private static func take(_ bytes: [UInt8], _ position: inout Int, _ count: Int, end: Int) throws -> ArraySlice<UInt8> {
        guard count <= end - position else { throw EncodingError.invalidRLP("truncated") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    public var bytesValue: Data? { if case .bytes(let data) = self { data } else { nil } }
    public var listValue: [RLP]? { if case .list(let items) = self { items } else { nil } }
}

extension Data {
    /// Big-endian bytes without leading zeros (empty for zero).
    init(bigEndianMinimal value: UInt64) {
        var bytes: [UInt8] = []
        var rest = value
        while rest > 0 { bytes.insert(UInt8(rest & 0xFF), at: 0); rest >>= 8 }
        self.init(bytes)
    }
}
