import Crypto
import Foundation
import Jobs

/// The key that wraps every owner's TFHE secret key at rest (AES-256-GCM, see `KeyWrapping`).
///
/// It comes from `--kek-file` (a file holding the base64 of 32 bytes) or `FHE_JOBS_KEK` (the
/// base64 itself), never from the database that holds the wrapped keys: a copy of the
/// database alone opens nothing. Only the processes that make or open secret keys need it
/// (`serve`, `serve --workers 0`); a `worker` computes under server keys and never does.
public struct KeyEncryptionKey: Sendable {
    let key: SymmetricKey
    /// Names the key without revealing it: the first 16 hex digits of
    /// SHA-256("fhe-jobs kek-id v1" || key), stored beside each wrapped key so that a wrong
    /// key is told apart from a corrupted row, and rotation knows what to rewrap.
    public let id: String

    public init(rawBytes: some ContiguousBytes) throws(KeyServiceError) {
        let key = SymmetricKey(data: rawBytes)
        guard key.bitCount == 256 else {
            throw .invalidKeyEncryptionKey("it must be 32 bytes (base64 of 32 random bytes), not \(key.bitCount / 8)")
        }
        self.key = key
        var hasher = SHA256()
        hasher.update(data: Data("fhe-jobs kek-id v1".utf8))
        key.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        id = String(hasher.finalize().hexString.prefix(16))
    }

    /// Reads the base64 form (surrounding white space ignored).
    public init(base64: String) throws(KeyServiceError) {
        guard var bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .invalidKeyEncryptionKey("it is not base64")
        }
        defer { bytes.resetBytes(in: 0..<bytes.count) }
        try self.init(rawBytes: bytes)
    }

    /// From `--kek-file` if given, else `FHE_JOBS_KEK`; nil when neither is set.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(KeyServiceError) -> KeyEncryptionKey? {
        if let file {
            let bytes: Data?
            do { bytes = try SecretFile.read(file) } catch { throw .invalidKeyEncryptionKey("the key-encryption key file: \(error)") }
            guard let bytes else { throw .invalidKeyEncryptionKey("cannot read the key-encryption key file \(file)") }
            return try KeyEncryptionKey(base64: String(decoding: bytes, as: UTF8.self))
        }
        guard let value = environment["FHE_JOBS_KEK"] else { return nil }
        return try KeyEncryptionKey(base64: value)
    }

    /// A new random key, as base64 (for `fhe-jobs fhe new-kek`).
    public static func generateBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}

/// Why the key service refused or failed.
public enum KeyServiceError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidKeyEncryptionKey(String)
    /// No key-encryption key was configured where a secret key must be made or opened.
    case keyEncryptionKeyMissing
    /// The wrapped key was made under another key-encryption key (named by its id).
    case wrongKeyEncryptionKey(expected: String, found: String)
    /// The wrapped key does not open: the row was changed or moved to another owner.
    case unwrapFailed(keySet: String)
    case unknownKeySet(String)
    case storage(String)
    /// `--key-service` is not `unix:/path` or `https://host:port`.
    case invalidEndpoint(String)
    /// A certificate, private key or CA file of the key service's mutual TLS.
    case invalidTLSFiles(String)
    /// The key service in another process failed (its reason, which names no secret).
    case remote(String)

    public var description: String {
        switch self {
        case .invalidKeyEncryptionKey(let why): "invalid key-encryption key: \(why)"
        case .keyEncryptionKeyMissing:
            "no key-encryption key: set --kek-file or FHE_JOBS_KEK (base64 of 32 bytes; `fhe-jobs fhe new-kek` makes one)"
        case .wrongKeyEncryptionKey(let expected, let found):
            "the key sets were wrapped under key-encryption key \(expected), and this process has \(found)"
        case .unwrapFailed(let id): "the wrapped secret key of key set \(id) does not open: it was altered or moved"
        case .unknownKeySet(let id): "no key set \(id)"
        case .storage(let why): why
        case .invalidEndpoint(let why): "invalid key service address \(why)"
        case .invalidTLSFiles(let why): "the key service's TLS files: \(why)"
        case .remote(let why): "the key service failed: \(why)"
        }
    }
}
