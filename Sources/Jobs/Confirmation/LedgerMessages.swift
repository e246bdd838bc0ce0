import Crypto
import Foundation

/// The bytes the ledger signs. Every message the service signs starts with a context line of
/// its own (`fhe-jobs ledger-entry v1`, `fhe-jobs ledger-head v1`, `fhe-jobs fhe-result-response
/// v1`, `fhe-jobs webhook v1` in `WebhookMessages`), so a signature over one kind can never be presented as another; each line ends in `\n`.
public enum LedgerMessages {
    /// An entry: its place, the job it commits, and the entry it extends.
    ///
    ///     fhe-jobs ledger-entry v1
    ///     sequence: 7
    ///     job: 5f0c…(lowercase UUID)
    ///     result: 9a1b…(the job's result hash)
    ///     status: succeeded
    ///     previous: 3c4d…(the previous entry's hash, or none for the first)
    ///
    /// The entry's hash is the SHA-256 of these bytes; its signature is over the same bytes.
    public static func entry(sequence: Int64, jobID: JobID, resultHash: String, status: JobStatus, previousHash: String?) -> Data {
        Data("""
            fhe-jobs ledger-entry v1
            sequence: \(sequence)
            job: \(jobID.uuidString.lowercased())
            result: \(resultHash)
            status: \(status.rawValue)
            previous: \(previousHash ?? "none")

            """.utf8)
    }

    /// A head: how many entries the ledger holds and the newest one's hash. A verifier that
    /// keeps the newest head it has seen detects a ledger cut back below it.
    ///
    ///     fhe-jobs ledger-head v1
    ///     size: 7
    ///     head: 8e2f…(entry 7's hash, or none when the ledger is empty)
    public static func head(size: Int64, headHash: String?) -> Data {
        Data("""
            fhe-jobs ledger-head v1
            size: \(size)
            head: \(headHash ?? "none")

            """.utf8)
    }

    /// How entries were hashed and signed before they had a context line: SHA-256 of the
    /// fields on lines after `fhe-jobs-ledger-v1`, the signature over the hash's hex. Ledgers
    /// written then still verify; no other signed message is 64 hex digits, so these
    /// signatures cannot stand for another kind either.
    public static func legacyEntryHash(sequence: Int64, jobID: JobID, resultHash: String, status: JobStatus, previousHash: String?) -> String {
        let text = "fhe-jobs-ledger-v1\n\(sequence)\n\(jobID.uuidString.lowercased())\n\(resultHash)\n\(status.rawValue)\n\(previousHash ?? "")"
        return SHA256.hash(data: Data(text.utf8)).hexString
    }
}

/// The ledger's signed head (`LedgerMessages.head`), as the service publishes it.
public struct LedgerHead: Sendable, Equatable, Codable {
    /// The number of entries; the newest has this sequence number.
    public var size: Int64
    /// The newest entry's hash; nil for an empty ledger.
    public var headHash: String?
    /// Ed25519 over `LedgerMessages.head`, base64.
    public var signature: String

    public init(size: Int64, headHash: String?, signature: String) {
        self.size = size; self.headHash = headHash; self.signature = signature
    }

    public static func signed(size: Int64, headHash: String?, by key: Curve25519.Signing.PrivateKey) throws -> LedgerHead {
        let signature = try key.signature(for: LedgerMessages.head(size: size, headHash: headHash))
        return LedgerHead(size: size, headHash: headHash, signature: signature.base64EncodedString())
    }

    public func isSigned(by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let raw = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(raw, for: LedgerMessages.head(size: size, headHash: headHash))
    }
}
