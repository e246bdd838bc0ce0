/// Why the job service refused a request. Each case maps to one error code of openapi.yml.
public enum JobServiceError: Error, Equatable, Sendable {
    case invalidRequest(String)
    case unsupportedJobType(String)
    case notFound
    case forbidden(String)
    case idempotencyKeyReused
    case idempotencyInProgress
    /// A plan's quota is used up; `retryAfter` is when it has room again, if that is known
    /// (the monthly quota's next month; the active jobs' quota frees up as jobs finish).
    case quotaExceeded(String, retryAfter: Duration?)
    /// The queue holds as many jobs as this server admits (`QueueAdmission`).
    case queueFull(QueueFullError)
    case notCancellable(JobStatus)
    case jobNotFinished(JobStatus)
    case notConfidential
    case invalidConfiguration(String)
    /// A confidential submission refused with a code of its own (a malformed ciphertext, a
    /// foreign key set, a URL that is not allowed, a job over the plan's bootstraps, ...).
    case refused(Refusal)
}

/// A refusal with one of openapi.yml's error codes, its HTTP status, and details a client
/// can act on (the quote of a job that is too expensive).
public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: String
    public var status: Int
    public var message: String
    public var quote: FHEQuote?
    /// Whether the same request may succeed later, where the code alone does not say (a fetch
    /// that failed on a 5xx may, one that failed on a 404 will not); nil leaves it to the
    /// code's rule in the HTTP layer's table (`APIProblem`).
    public var retryable: Bool?

    public init(_ code: String, status: Int, _ message: String, quote: FHEQuote? = nil, retryable: Bool? = nil) {
        self.code = code; self.status = status; self.message = message; self.quote = quote; self.retryable = retryable
    }

    public var description: String { "\(code): \(message)" }
}
