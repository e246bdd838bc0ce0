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
    /// Only the ASCII digits 0-9, a-f, A-F count: `UInt8(_:radix:)` would also take a sign
    /// ("+f" as 0x0f), which the fuzzer found.
    public init(ethereumHex text: String) throws {
        var digits = Array(text.utf8)[...]
        if digits.starts(with: "0x".utf8) || digits.starts(with: "0X".utf8) { digits = digits.dropFirst(2) }
        guard digits.count % 2 == 0 else { throw EncodingError.invalidHex(text) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            guard let high = hexDigitValue(digits[index]), let low = hexDigitValue(digits[index + 1]) else {
                throw EncodingError.invalidHex(text)
            }
            bytes.append(high << 4 | low)
            index += 2
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
        let digits = Array(text.utf8).dropFirst(2)
        guard text.hasPrefix("0x"), (1...16).contains(digits.count) else { throw EncodingError.invalidHex(text) }
        var value: UInt64 = 0
        for digit in digits {
            guard let nibble = hexDigitValue(digit) else { throw EncodingError.invalidHex(text) }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }
}

/// The value of one ASCII hex digit.
private func hexDigitValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}
