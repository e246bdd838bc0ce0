import Crypto
import Foundation

/// AES-256-GCM wrapping of a serialized TFHE client key (NIST SP 800-38D), with the row it
/// belongs to as associated data:
///
///     fhe-jobs key-wrap v1\n tenant: T\n owner: O\n key-set: ID\n parameters: FINGERPRINT\n
///
/// so that a wrapped key copied into another owner's row, or another key set's, does not open.
/// The stored form is GCM's combined representation: 12-byte random nonce || ciphertext || 16-byte tag.
enum KeyWrapping {
    struct Binding: Equatable {
        var tenant: String
        var owner: String
        var keySetID: String
        var parameterFingerprint: String

        var associatedData: Data {
            Data("""
                fhe-jobs key-wrap v1
                tenant: \(tenant)
                owner: \(owner)
                key-set: \(keySetID)
                parameters: \(parameterFingerprint)

                """.utf8)
        }
    }

    static func wrap(_ secret: Data, under kek: KeyEncryptionKey, binding: Binding) throws -> Data {
        let box = try AES.GCM.seal(secret, using: kek.key, nonce: AES.GCM.Nonce(), authenticating: binding.associatedData)
        guard let combined = box.combined else { throw KeyServiceError.storage("AES-GCM gave no combined form") }
        return combined
    }

    /// The secret bytes; the caller zeroizes them when done.
    static func unwrap(_ wrapped: Data, under kek: KeyEncryptionKey, binding: Binding) throws(KeyServiceError) -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return try AES.GCM.open(box, using: kek.key, authenticating: binding.associatedData)
        } catch {
            throw .unwrapFailed(keySet: binding.keySetID)
        }
    }
}

extension Data {
    /// Overwrites the bytes with zeros (a secret's last use). Only this copy's storage:
    /// callers keep secrets in one `Data` and do not copy it.
    mutating func zeroize() {
        resetBytes(in: 0..<count)
    }
}
