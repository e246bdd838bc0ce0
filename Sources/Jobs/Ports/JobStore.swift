import Foundation

/// Durable storage of jobs, the queue, idempotency keys, usage, the audit trail and the local
/// ledger. Two adapters implement it (SQLite, the embedded default, and PostgreSQL for several
/// processes) and share one behavioural test suite.
///
/// Every method that moves a job applies a guarded update: it changes the job only if it is
/// still in the state (and, for a running job, held by the worker) the caller expects, and
/// says whether it did.
public protocol JobStore: KeySetStore, UploadedServerKeyStore, RefreshTokenStore, WebhookStore {
    /// Applies the versioned migrations not yet applied.
    func migrate() async throws
    /// Fails if the database cannot be reached (readiness).
    func ping() async throws

    // MARK: Submission

    /// Claims an idempotency key for a request, or reports what became of an earlier request
    /// with the same key (see `IdempotencyReservation`). A reservation left `inProgress` by a
    /// crashed process lapses after `inFlightTimeout`; a completed one after `window`.
    func reserveIdempotencyKey(_ claim: IdempotencyClaim, requestHash: String, now: Date,
                               window: TimeInterval, inFlightTimeout: TimeInterval) async throws -> IdempotencyReservation
    /// Forgets a reservation whose request failed, so a retry is evaluated afresh; only while
    /// it is still the claim's (a request that stalled past its lapse must not free the key of
    /// the request that took it over).
    func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws

    /// In one transaction: checks the tenant's quotas, inserts the queued job, counts it in the
    /// tenant's usage, with a claim stores the response for replays, and with `audit` appends
    /// the submission's audit record. A claim that no longer holds its key (it lapsed and
    /// another request took the key over) inserts nothing and answers `.reservationLost`, so
    /// one key never makes two jobs. Nothing is written, the audit record included, unless the
    /// job is inserted: a refused submission is audited by its caller, with its own outcome.
    func insertJob(_ job: Job, quota: Quota, idempotency: (claim: IdempotencyClaim, response: StoredResponse)?,
                   audit: AuditRecord?) async throws -> InsertOutcome

    // MARK: Reading

    /// The job, if it exists and (when `tenant` is given) is that tenant's: requests name
    /// their tenant, a second layer behind `Principal.canSee`; nil for the service's own work.
    func job(id: JobID, tenant: String?) async throws -> Job?
    func listJobs(_ query: JobQuery) async throws -> [Job]

    /// Moves a queued or running job (of `tenant`, when given) to `cancelled`; returns the job
    /// as it is afterwards (unchanged if it had already finished), or nil if there is no such job.
    func cancelJob(id: JobID, tenant: String?, now: Date) async throws -> Job?

    // MARK: Queue

    /// Leases the next runnable job (highest priority, then oldest) of the given type, or of
    /// any type when `type` is nil, to a worker, counting an attempt; nil if none is runnable.
    /// Workers lease confidential jobs apart from the others, so that a process runs a bounded
    /// number of FHE jobs (each takes every core) while its other workers go on.
    func leaseNextJob(workerID: String, leaseDuration: TimeInterval, now: Date, type: JobType?) async throws -> Job?
    /// Extends a lease; false if the worker no longer holds the job (cancelled, rescued).
    func heartbeat(jobID: JobID, workerID: String, leaseDuration: TimeInterval, now: Date) async throws -> Bool
    /// The progress of a running confidential job; false if the worker no longer holds it.
    func recordProgress(jobID: JobID, workerID: String, progress: FHEProgress) async throws -> Bool
    /// running -> succeeded, with the result, its hash and the compute time metered.
    func completeJob(jobID: JobID, workerID: String, result: JSONValue, resultHash: String,
                     computeSeconds: Double, now: Date) async throws -> Bool
    /// running -> queued (to run again at `retryAt`) or, with `retryAt` nil, running -> failed.
    func failJob(jobID: JobID, workerID: String, failure: JobFailure, retryAt: Date?,
                 computeSeconds: Double, now: Date) async throws -> Bool
    /// running -> queued without counting the attempt (graceful shutdown).
    func releaseJob(jobID: JobID, workerID: String, now: Date) async throws -> Bool
    /// Jobs whose lease expired (their worker died) go back to the queue, or fail when they
    /// have used every attempt. Returns how many were rescued or failed.
    func rescueExpiredLeases(now: Date) async throws -> Int
    /// Jobs per status, for metrics and quotas.
    /// Jobs queued, running, and succeeded but not yet confirmed: each read from its status's
    /// partial index, so the cost follows the work in flight, not the jobs ever submitted.
    func countNonTerminalJobs() async throws -> [JobStatus: Int]

    // MARK: Confirmation

    /// Succeeded jobs not yet confirmed, oldest first.
    func jobsAwaitingConfirmation(limit: Int) async throws -> [Job]
    /// succeeded -> confirmed.
    func markConfirmed(jobID: JobID, confirmation: Confirmation, now: Date) async throws -> Bool
    /// Appends an entry to the local ledger in one transaction: `makeEntry` receives the
    /// previous entry's hash (nil for the first) and returns the signed entry to append.
    /// A job already in the ledger returns its existing entry (a job is committed once).
    func appendLedgerEntry(jobID: JobID, makeEntry: @Sendable (_ previousHash: String?, _ sequence: Int64) throws -> LedgerEntry) async throws -> LedgerEntry
    func ledgerEntries(fromSequence: Int64, limit: Int) async throws -> [LedgerEntry]
    /// The entry with the highest sequence, nil for an empty ledger.
    func newestLedgerEntry() async throws -> LedgerEntry?
    /// Records `publicKey` (base64) as the service's signing identity if none is recorded yet,
    /// and answers the recorded one: every process of one service must sign with one key.
    func registerSigningKey(_ publicKey: String, now: Date) async throws -> String

    // MARK: Result retrieval

    /// Marks `nonce` used for the job's result retrieval, atomically: of concurrent calls with
    /// one nonce exactly one is `.consumed`. A job holds at most about `limit` used nonces
    /// (concurrent first uses may pass it by their number), then `.limitReached`.
    func consumeRetrievalNonce(jobID: JobID, nonce: String, limit: Int, now: Date) async throws -> NonceConsumption

    // MARK: Metering and audit

    func usage(tenant: String, month: String) async throws -> Usage
    func appendAudit(_ record: AuditRecord) async throws
    /// Newest first; `before` is the id of the last record of the previous page.
    func listAudit(tenant: String?, before: Int64?, limit: Int) async throws -> [AuditRecord]
}

extension JobStore {
    /// A job inserted without an audit record (the service's own work, tests).
    public func insertJob(_ job: Job, quota: Quota, idempotency: (claim: IdempotencyClaim, response: StoredResponse)?) async throws -> InsertOutcome {
        try await insertJob(job, quota: quota, idempotency: idempotency, audit: nil)
    }

    /// The job, whichever its tenant (workers, confirmers, the service's own lookups).
    public func job(id: JobID) async throws -> Job? { try await job(id: id, tenant: nil) }

    public func cancelJob(id: JobID, now: Date) async throws -> Job? { try await cancelJob(id: id, tenant: nil, now: now) }

    /// The next runnable job of any type.
    public func leaseNextJob(workerID: String, leaseDuration: TimeInterval, now: Date) async throws -> Job? {
        try await leaseNextJob(workerID: workerID, leaseDuration: leaseDuration, now: now, type: nil)
    }
}

/// A tenant's idempotency key (keys are per tenant).
public struct IdempotencyKey: Sendable, Hashable {
    public var tenant: String
    public var key: String
    public init(tenant: String, key: String) { self.tenant = tenant; self.key = key }
}

/// One request's claim on an idempotency key: the key, and a token only that request holds,
/// which completing or releasing the reservation must present.
public struct IdempotencyClaim: Sendable, Hashable {
    public var key: IdempotencyKey
    public var holder: UUID
    public init(key: IdempotencyKey, holder: UUID = UUID()) { self.key = key; self.holder = holder }
}

/// The response first given to an idempotent request, replayed to its retries.
public struct StoredResponse: Sendable, Equatable {
    public var statusCode: Int
    public var jobID: JobID
    /// The response body as first sent (JSON).
    public var body: Data
    public init(statusCode: Int, jobID: JobID, body: Data) { self.statusCode = statusCode; self.jobID = jobID; self.body = body }
}

public enum IdempotencyReservation: Sendable, Equatable {
    /// This request owns the key: go on and create the job.
    case reserved
    /// An earlier request with this key is still being processed.
    case inProgress
    /// An earlier request with the same body finished: replay its response.
    case completed(StoredResponse)
    /// The key was used with a different body.
    case mismatch
}

/// Per-tenant limits checked when a job is inserted.
public struct Quota: Sendable, Equatable {
    /// Jobs queued or running at once.
    public var maxActiveJobs: Int
    /// Jobs submitted per calendar month (UTC).
    public var maxJobsPerMonth: Int
    public init(maxActiveJobs: Int, maxJobsPerMonth: Int) { self.maxActiveJobs = maxActiveJobs; self.maxJobsPerMonth = maxJobsPerMonth }
}

public enum InsertOutcome: Sendable, Equatable {
    case inserted
    case activeJobsQuotaExceeded(limit: Int)
    case monthlyQuotaExceeded(limit: Int)
    /// The idempotency claim lapsed and another request holds the key now.
    case reservationLost
}

/// A tenant's metered use in one month.
public struct Usage: Sendable, Equatable {
    public var tenant: String
    public var month: String
    public var jobsSubmitted: Int64
    public var jobsSucceeded: Int64
    public var jobsFailed: Int64
    public var computeSeconds: Double
    public var bytesStored: Int64
    /// Bootstraps of the confidential jobs submitted, as quoted (a replayed submission is not
    /// counted again; a retried attempt is not billed twice).
    public var fheBootstraps: Int64
    /// The part of `computeSeconds` spent on confidential jobs.
    public var fheComputeSeconds: Double
    public init(tenant: String, month: String, jobsSubmitted: Int64 = 0, jobsSucceeded: Int64 = 0,
                jobsFailed: Int64 = 0, computeSeconds: Double = 0, bytesStored: Int64 = 0,
                fheBootstraps: Int64 = 0, fheComputeSeconds: Double = 0) {
        self.tenant = tenant; self.month = month; self.jobsSubmitted = jobsSubmitted; self.jobsSucceeded = jobsSucceeded
        self.jobsFailed = jobsFailed; self.computeSeconds = computeSeconds; self.bytesStored = bytesStored
        self.fheBootstraps = fheBootstraps; self.fheComputeSeconds = fheComputeSeconds
    }

    /// "YYYY-MM" of a date in UTC: the metering period.
    public static func month(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", c.year!, c.month!)
    }

    /// When the metering period after `date`'s begins (the first of the next month, 00:00 UTC):
    /// when a monthly quota has room again.
    public static func nextMonth(after date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date)) ?? date
        return calendar.date(byAdding: .month, value: 1, to: start) ?? date.addingTimeInterval(31 * 86_400)
    }
}

/// One state-changing request: who, for which tenant, what, on what, when, with what outcome.
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64?
    public var at: Date
    public var tenant: String
    public var actor: String
    public var action: String
    public var target: String?
    public var outcome: String
    public var requestID: String
    public init(id: Int64? = nil, at: Date, tenant: String, actor: String, action: String, target: String?, outcome: String, requestID: String) {
        self.id = id; self.at = at; self.tenant = tenant; self.actor = actor; self.action = action
        self.target = target; self.outcome = outcome; self.requestID = requestID
    }
}

/// An entry of the local signed ledger: a hash chain of (jobId, resultHash) commitments.
public struct LedgerEntry: Sendable, Equatable {
    public var sequence: Int64
    public var jobID: JobID
    public var resultHash: String
    public var status: JobStatus
    public var previousHash: String?
    /// SHA-256 of `LedgerMessages.entry` of the fields above, hex.
    public var entryHash: String
    /// Ed25519 signature of `LedgerMessages.entry` by the service's signing key, base64.
    public var signature: String
    public var recordedAt: Date
    public init(sequence: Int64, jobID: JobID, resultHash: String, status: JobStatus, previousHash: String?,
                entryHash: String, signature: String, recordedAt: Date) {
        self.sequence = sequence; self.jobID = jobID; self.resultHash = resultHash; self.status = status
        self.previousHash = previousHash; self.entryHash = entryHash; self.signature = signature; self.recordedAt = recordedAt
    }
}
