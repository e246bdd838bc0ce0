import Foundation

/// Errors of the Ethereum encodings (hex, RLP, ABI, addresses): bad input is a typed error.
public enum EncodingError: Error, Equatable, CustomStringConvertible {
    case invalidHex(String)
    case invalidLength(expected: Int, actual: Int, what: String)
    case invalidRLP(String)
    case invalidABI(String)
    case invalidAddressChecksum(String)
    case valueOutOfRange(String)

    public var description: String {
        switch self {
        case .invalidHex(let text): "not valid hex: \(text.prefix(80))"
        case .invalidLength(let expected, let actual, let what): "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidRLP(let reason): "invalid RLP: \(reason)"
        case .invalidABI(let reason): "invalid ABI data: \(reason)"
        case .invalidAddressChecksum(let text): "address \(text) fails its EIP-55 checksum"
        case .valueOutOfRange(let reason): "value out of range: \(reason)"
        }
    }
}

extension Data {
    /// Parses hex with or without a `0x` prefix (an odd number of digits is refused).
    public init(ethereumHex text: String) throws {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard digits.count % 2 == 0 else { throw EncodingError.invalidHex(text) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { throw EncodingError.invalidHex(text) }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }

    /// `0x`-prefixed lower-case hex, Ethereum's DATA encoding.
    public var ethereumHex: String {
        "0x" + map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}

/// Ethereum's QUANTITY encoding: `0x`-prefixed hex without leading zeros ("0x0" for zero).
public enum Quantity {
    public static func encode(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    public static func decode(_ text: String) throws -> UInt64 {
        guard text.hasPrefix("0x"), text.count > 2, text.count <= 18, let value = UInt64(text.dropFirst(2), radix: 16) else {
            throw EncodingError.invalidHex(text)
        }
        return value
    }
}
