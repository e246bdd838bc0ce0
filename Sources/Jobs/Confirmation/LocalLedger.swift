import Crypto
import Foundation

/// The zero-setup `ResultConfirmer`: an append-only, hash-chained table of
/// `(jobId, resultHash, status)` entries, each signed with the service's Ed25519 key
/// (`LedgerMessages.entry`). The service publishes the entries and a signed, counted head
/// (`GET /v1/ledger/entries`, `GET /v1/ledger/head`), so anyone holding its public key can
/// check that no entry was changed, reordered, or removed since a head they saw
/// (`LedgerChainCheck`). It stands in for the chain until one is configured.
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

    /// Appends the job's entry (or finds the one it already has); final at once. The
    /// confirmation's `blockNumber` is the entry's sequence and its `reference` the entry's hash.
    public func confirm(_ job: Job) async throws -> Confirmation {
        guard let resultHash = job.resultHash else {
            throw JobServiceError.invalidRequest("job \(job.id) has no result to confirm")
        }
        let key = signingKey
        let status = job.status == .confirmed ? JobStatus.succeeded : job.status
        let entry = try await store.appendLedgerEntry(jobID: job.id) { previous, sequence in
            try Self.signedEntry(sequence: sequence, jobID: job.id, resultHash: resultHash, status: status,
                                 previousHash: previous, by: key)
        }
        return Confirmation(kind: .ledger, reference: entry.entryHash, blockNumber: entry.sequence, confirmedAt: entry.recordedAt)
    }

    /// The signed head of the ledger as it is now.
    public func head() async throws -> LedgerHead {
        let newest = try await store.newestLedgerEntry()
        return try LedgerHead.signed(size: newest?.sequence ?? 0, headHash: newest?.entryHash, by: signingKey)
    }

    /// Consecutive entries from `fromSequence`, at most `limit`.
    public func entries(fromSequence: Int64, limit: Int) async throws -> [LedgerEntry] {
        try await store.ledgerEntries(fromSequence: fromSequence, limit: limit)
    }

    public static func signedEntry(sequence: Int64, jobID: JobID, resultHash: String, status: JobStatus, previousHash: String?,
                                   by key: Curve25519.Signing.PrivateKey, at date: Date = Date()) throws -> LedgerEntry {
        let message = LedgerMessages.entry(sequence: sequence, jobID: jobID, resultHash: resultHash, status: status, previousHash: previousHash)
        return LedgerEntry(sequence: sequence, jobID: jobID, resultHash: resultHash, status: status, previousHash: previousHash,
                           entryHash: SHA256.hash(data: message).hexString,
                           signature: try key.signature(for: message).base64EncodedString(), recordedAt: date)
    }
}
