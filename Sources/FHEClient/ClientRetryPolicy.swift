import Foundation
import Jobs

/// When the client sends a request again. A failure is retried only when the server says it
/// is retryable (the problem's `retryable: true`, openapi.yml) or the server could not be
/// reached, only for a request that cannot do its work twice (RFC 9110 section 9.2.2: GET,
/// HEAD, PUT, DELETE; a POST only with an Idempotency-Key, which the server answers once),
/// after the server's `Retry-After` or else an exponential backoff with jitter, and within a
/// bound on the attempts and on each wait.
public struct ClientRetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included; 1 never retries.
    public var maxAttempts: Int
    /// The longest the client waits before one retry. A server that asks for more (a monthly
    /// quota, a breaker open for minutes) is answered by giving up at once, with its wait.
    public var maxWait: Duration
    /// The waits when the server names none: exponential, with "equal jitter".
    public var backoff: RetryPolicy

    public init(maxAttempts: Int = 4, maxWait: Duration = .seconds(60), backoff: RetryPolicy = RetryPolicy(baseDelay: 0.5, maxDelay: 8)) {
        self.maxAttempts = maxAttempts; self.maxWait = maxWait; self.backoff = backoff
    }

    public static let never = ClientRetryPolicy(maxAttempts: 1)

    /// Whether a request may be sent again without the risk of doing its work twice.
    public static func isRepeatable(method: String, headers: [String: String]) -> Bool {
        switch method.uppercased() {
        case "GET", "HEAD", "PUT", "DELETE", "OPTIONS": true
        case "POST": headers.keys.contains { $0.caseInsensitiveCompare("Idempotency-Key") == .orderedSame }
        default: false
        }
    }

    /// The wait a `Retry-After` value asks for (RFC 9110 section 10.2.3): delay-seconds or an
    /// HTTP-date; nil when absent or unreadable.
    public static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        RetryPolicy.retryAfter(value, now: now)
    }

    /// The wait before attempt `attempt + 1` after `attempt` (1-based) failed, or nil to give up.
    func wait(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let wait = retryAfter ?? .seconds(backoff.delay(afterAttempt: attempt))
        return wait <= maxWait ? wait : nil
    }
}
