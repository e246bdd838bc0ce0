import Crypto
import Foundation
import Jobs

/// An opaque refresh token: 256 bits from the system's CSPRNG, base64url without padding,
/// after a fixed prefix that lets secret scanners recognise a leaked one. The service keeps
/// only its SHA-256 (`hash`); 256 random bits make guessing hopeless and a plain hash enough
/// (RFC 6819 section 5.1.4.2.2: high entropy; 5.1.4.1.3: no cleartext at rest).
public struct RefreshToken: Sendable, Equatable, CustomStringConvertible {
    public static let prefix = "fjr_"
    /// 32 bytes in base64url are 43 characters.
    static let encodedLength = 43

    /// The token as the client holds it.
    public let text: String

    public static func generate() -> RefreshToken {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return RefreshToken(unchecked: prefix + bytes.base64URLEncodedString)
    }

    private init(unchecked text: String) { self.text = text }

    /// A presented token, if it has the shape of one this service issues; anything else
    /// cannot be a token it issued, and is refused without a database lookup.
    public init?(presented text: String) {
        guard text.utf8.count == Self.prefix.utf8.count + Self.encodedLength, text.hasPrefix(Self.prefix),
              text.utf8.dropFirst(Self.prefix.utf8.count).allSatisfy({ c in
                  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f
              }) else { return nil }
        self.text = text
    }

    /// Hex SHA-256 of the text: what the store keeps and looks tokens up by.
    public var hash: String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// Never the token itself, so that a log line or an interpolation cannot leak it.
    public var description: String { "RefreshToken(\(hash.prefix(12))…)" }
}
