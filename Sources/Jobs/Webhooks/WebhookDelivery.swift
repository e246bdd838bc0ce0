import Foundation

/// One notification of a job's callback URL: made by the store, in the transaction that moves
/// a job with a callback URL to `succeeded`, `failed`, `cancelled` or `confirmed` (a trigger of
/// each store's migrations), so no transition is left unannounced by a crash. Deliveries of one
/// job are numbered from 1 in the order of its transitions and attempted in that order.
public struct WebhookDelivery: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable, Codable {
        /// Waiting for its first or next attempt (or being attempted, under a lease).
        case pending
        /// The receiver answered 2xx.
        case delivered
        /// Given up: a final refusal (4xx other than 408/429, a redirect, an address the
        /// policy refuses), or the attempts or the age ran out.
        case failed
    }

    public var jobID: JobID
    /// 1, 2, ... per job, in the order of the transitions.
    public var sequence: Int
    /// `job.succeeded`, `job.failed`, `job.cancelled` or `job.confirmed`.
    public var event: String
    public var state: State
    /// Attempts begun, counted when one is leased: an attempt cut short by a crash counts too.
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// When it was delivered or given up.
    public var finishedAt: Date?
    /// The outcome of every attempt that got one, oldest first (only when read for display).
    public var history: [WebhookAttempt]

    public init(jobID: JobID, sequence: Int, event: String, state: State, attempts: Int, createdAt: Date, nextAttemptAt: Date,
                leaseOwner: String? = nil, leaseExpiresAt: Date? = nil, finishedAt: Date? = nil, history: [WebhookAttempt] = []) {
        self.jobID = jobID; self.sequence = sequence; self.event = event; self.state = state; self.attempts = attempts
        self.createdAt = createdAt; self.nextAttemptAt = nextAttemptAt; self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt; self.finishedAt = finishedAt; self.history = history
    }

    /// The id receivers see (`Webhook-Id`), the same on every attempt of this delivery, so a
    /// receiver that got it twice (an answer lost on the way back) can tell.
    public var deliveryID: String { "\(jobID.uuidString.lowercased()).\(sequence)" }
}

/// What one attempt came to.
public struct WebhookAttempt: Sendable, Equatable {
    /// 1-based, as counted by ``WebhookDelivery/attempts``.
    public var number: Int
    public var at: Date
    /// The receiver's HTTP status, nil when none came (no connection, a timeout, a refusal).
    public var statusCode: Int?
    /// Why the attempt did not deliver, one line; nil when it did.
    public var error: String?
    public var durationSeconds: Double

    public init(number: Int, at: Date, statusCode: Int?, error: String?, durationSeconds: Double) {
        self.number = number; self.at = at; self.statusCode = statusCode; self.error = error; self.durationSeconds = durationSeconds
    }
}

/// Where a delivery goes after an attempt.
public enum WebhookNextStep: Sendable, Equatable {
    case delivered
    /// Attempt again, not before this.
    case retry(at: Date)
    case giveUp
}
