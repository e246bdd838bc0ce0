import Foundation

/// A 20-byte Ethereum account address, printed with its EIP-55 mixed-case checksum.
public struct EthereumAddress: Hashable, Sendable, CustomStringConvertible, Codable {
    public let bytes: Data

    public init(bytes: Data) throws {
        guard bytes.count == 20 else { throw EncodingError.invalidLength(expected: 20, actual: bytes.count, what: "an address") }
        self.bytes = bytes
    }

    /// The last 20 bytes of the Keccak-256 of the uncompressed public key (without its 0x04).
    init(publicKey uncompressed: Data) {
        bytes = Keccak256.hash(uncompressed.dropFirst()).suffix(20)
    }

    /// Parses `0x` + 40 hex digits. All-lower or all-upper case is accepted as unchecksummed;
    /// mixed case must match EIP-55 exactly, so a mistyped address is refused.
    public init(_ text: String) throws {
        guard text.count == 42, text.hasPrefix("0x") else { throw EncodingError.invalidHex(text) }
        try self.init(bytes: Data(ethereumHex: text))
        let digits = text.dropFirst(2)
        let mixed = digits.contains(where: \.isLowercase) && digits.contains(where: \.isUppercase)
        if mixed, description != text { throw EncodingError.invalidAddressChecksum(text) }
    }

    /// EIP-55: a hex letter is upper case where the matching nibble of keccak(lower-case hex) is 8 or more.
    public var description: String {
        let lower = String(bytes.ethereumHex.dropFirst(2))
        let hash = Keccak256.hash(Array(lower.utf8))
        var result = "0x"
        for (index, character) in lower.enumerated() {
            let nibble = (hash[index / 2] >> (index % 2 == 0 ? 4 : 0)) & 0x0F
            result.append(character.isLetter && nibble >= 8 ? Character(character.uppercased()) : character)
        }
        return result
    }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
