import Crypto
import Foundation

/// The zero-setup `ResultConfirmer`: an append-only, hash-chained table of
/// `(jobId, resultHash, status)` entries, each signed with the service's Ed25519 ledger key.
/// Anyone holding the ledger's public key can check that no entry was changed, removed or
/// reordered (`verify`). It stands in for the chain until one is configured.
public struct LocalLedger: ResultConfirmer {
    private let store: any JobStore
    private let signingKey: Curve25519.Signing.PrivateKey

    public init(store: any JobStore, signingKey: Curve25519.Signing.PrivateKey) {
        self.store = store; self.signingKey = signingKey
    }

    public var publicKey: Curve25519.Signing.PublicKey { signingKey.publicKey }

    public func confirm(_ jobs: [Job]) async throws -> [JobID: Confirmation] {
        var confirmations: [JobID: Confirmation] = [:]
        for job in jobs { confirmations[job.id] = try await confirm(job) }
        return confirmations
    }

    /// Appends the job's entry (or finds the one it already has); final at once.
    public func confirm(_ job: Job) async throws -> Confirmation {
        guard let resultHash = job.resultHash else {
            throw JobServiceError.invalidRequest("job \(job.id) has no result to confirm")
        }
        let key = signingKey
        let status = job.status == .confirmed ? JobStatus.succeeded : job.status
        let entry = try await store.appendLedgerEntry(jobID: job.id) { previous, sequence in
            let hash = Self.entryHash(sequence: sequence, jobID: job.id, resultHash: resultHash, status: status, previousHash: previous)
            let signature = try key.signature(for: Data(hash.utf8)).base64EncodedString()
            return LedgerEntry(sequence: sequence, jobID: job.id, resultHash: resultHash, status: status,
                               previousHash: previous, entryHash: hash, signature: signature, recordedAt: Date())
        }
        return Confirmation(kind: .ledger, reference: entry.entryHash, blockNumber: entry.sequence, confirmedAt: entry.recordedAt)
    }

    /// SHA-256 over the entry's fields, each on its own line, hex: the chain link.
    public static func entryHash(sequence: Int64, jobID: JobID, resultHash: String, status: JobStatus, previousHash: String?) -> String {
        let text = "fhe-jobs-ledger-v1\n\(sequence)\n\(jobID.uuidString.lowercased())\n\(resultHash)\n\(status.rawValue)\n\(previousHash ?? "")"
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    public enum VerificationError: Error, Equatable {
        case brokenChain(sequence: Int64)
        case badHash(sequence: Int64)
        case badSignature(sequence: Int64)
    }

    /// Checks a run of consecutive entries from the first: hashes, links and signatures.
    public static func verify(_ entries: [LedgerEntry], publicKey: Curve25519.Signing.PublicKey) throws(VerificationError) {
        var previous: String?
        for (index, entry) in entries.enumerated() {
            guard entry.sequence == Int64(index + 1), entry.previousHash == previous else { throw .brokenChain(sequence: entry.sequence) }
            let hash = entryHash(sequence: entry.sequence, jobID: entry.jobID, resultHash: entry.resultHash,
                                 status: entry.status, previousHash: entry.previousHash)
            guard hash == entry.entryHash else { throw .badHash(sequence: entry.sequence) }
            guard let signature = Data(base64Encoded: entry.signature),
                  publicKey.isValidSignature(signature, for: Data(hash.utf8)) else { throw .badSignature(sequence: entry.sequence) }
            previous = entry.entryHash
        }
    }
}
