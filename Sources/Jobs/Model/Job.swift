import Foundation

public typealias JobID = UUID

/// What kind of work a job is; `compute` jobs name their algorithm in `payload.algorithm`.
public enum JobType: String, Sendable, CaseIterable, Codable {
    case compute
    case fheCompute = "fhe_compute"
}

/// Queue order: higher runs first, then older first.
public enum Priority: String, Sendable, CaseIterable, Codable {
    case low, normal, high

    /// The value stored in the queue's index (higher is served first).
    public var rank: Int {
        switch self { case .low: 0; case .normal: 1; case .high: 2 }
    }

    public init?(rank: Int) {
        guard let p = Priority.allCases.first(where: { $0.rank == rank }) else { return nil }
        self = p
    }
}

/// The state machine of a job:
///
///     queued -> running -> succeeded -> confirmed
///     queued -> cancelled;  running -> cancelled | failed | queued (retry, lease rescue)
///
/// Every store applies a transition as a guarded update (`WHERE status = expected`), so two
/// processes never move one job twice.
public enum JobStatus: String, Sendable, CaseIterable, Codable {
    case queued, running, succeeded, confirmed, failed, cancelled

    public var isTerminal: Bool {
        switch self {
        case .confirmed, .failed, .cancelled: true
        case .queued, .running, .succeeded: false
        }
    }

    /// The states a job leaves again: queued, running, succeeded (awaiting confirmation).
    public static let nonTerminal: [JobStatus] = allCases.filter { !$0.isTerminal }

    /// True once the job's result (or failure) is final, confirmed or not.
    public var isFinished: Bool { self != .queued && self != .running }
}

/// Why a job failed, for the client.
public struct JobFailure: Sendable, Equatable, Codable {
    public var code: String
    public var message: String
    public init(code: String, message: String) { self.code = code; self.message = message }

    public static func timedOut(after seconds: Int) -> JobFailure {
        JobFailure(code: "TIMEOUT", message: "the job ran longer than its timeout of \(seconds) s")
    }
    public static let leaseExpired = JobFailure(
        code: "WORKER_LOST", message: "the worker running the job stopped answering on every attempt")
}

/// Where a result was committed: a local signed ledger entry or a transaction on chain.
public struct Confirmation: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case ledger, chain }
    public var kind: Kind
    /// The ledger entry hash, or the transaction hash.
    public var reference: String
    public var blockNumber: Int64?
    public var confirmedAt: Date

    public init(kind: Kind, reference: String, blockNumber: Int64?, confirmedAt: Date) {
        self.kind = kind; self.reference = reference; self.blockNumber = blockNumber; self.confirmedAt = confirmedAt
    }
}

public struct Job: Sendable, Equatable, Identifiable, Codable {
    public var id: JobID
    public var tenant: String
    public var owner: String
    public var type: JobType
    public var status: JobStatus
    public var priority: Priority
    public var useFHE: Bool
    public var payload: JSONValue
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Earliest time a queued job may run (later than `createdAt` after a failed attempt).
    public var runAfter: Date
    public var attempts: Int
    public var maxAttempts: Int
    public var timeoutSeconds: Int
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var result: JSONValue?
    public var resultHash: String?
    public var failure: JobFailure?
    public var confirmation: Confirmation?
    /// Confidential jobs only: keys, input blob and quote (set at submission).
    public var fhe: ConfidentialJob?
    /// Confidential jobs only, while and after they run: bootstraps done (written by the worker
    /// at most about once a second).
    public var progress: FHEProgress?
    /// Where the job's terminal states (and its confirmation) are POSTed, signed
    /// (`WebhookDispatcher`); checked at submission against the webhook policy.
    public var callbackURL: String?

    public init(
        id: JobID = UUID(), tenant: String, owner: String, type: JobType, priority: Priority,
        useFHE: Bool, payload: JSONValue, createdAt: Date, maxAttempts: Int, timeoutSeconds: Int
    ) {
        self.id = id; self.tenant = tenant; self.owner = owner; self.type = type
        self.status = .queued; self.priority = priority; self.useFHE = useFHE; self.payload = payload
        self.createdAt = createdAt; self.updatedAt = createdAt; self.runAfter = createdAt
        self.attempts = 0; self.maxAttempts = maxAttempts; self.timeoutSeconds = timeoutSeconds
    }
}

extension Date {
    /// Microseconds since 1970, the form both stores keep times in (sortable, exact).
    public var microsecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
    public init(microsecondsSince1970 us: Int64) { self.init(timeIntervalSince1970: Double(us) / 1_000_000) }
}
