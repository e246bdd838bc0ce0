import Foundation
import Jobs

/// An account key kept in a file as 64 hex digits (optionally `0x`-prefixed), mode 0600.
public enum AccountKeyFile {
    public static func load(_ path: String) throws -> AccountKey {
        let found: Data?
        do { found = try SecretFile.read(path) } catch { throw ChainError.unexpected("the key file: \(error)") }
        guard let contents = found else { throw ChainError.unexpected("cannot read the key file \(path)") }
        let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = try? Data(ethereumHex: text), bytes.count == 32, let key = try? AccountKey(privateKey: bytes) else {
            throw ChainError.unexpected("the key file \(path) must hold one secp256k1 private key as 64 hex digits")
        }
        return key
    }

    /// Writes a new key, readable by its owner only; refuses to overwrite a file.
    public static func create(_ path: String) throws -> AccountKey {
        let key = try AccountKey.generate()
        let text = key.withPrivateKeyBytes { Data($0).ethereumHex } + "\n"
        do { try SecretFile.create(path, contents: Data(text.utf8)) } catch { throw ChainError.unexpected("\(error)") }
        return key
    }
}
