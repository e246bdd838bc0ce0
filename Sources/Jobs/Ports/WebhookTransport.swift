import Foundation

/// How webhooks leave the service: the callback URL checked against the deployment's policy
/// at submission, and each delivery POSTed under the same policy, its address checked again
/// at the moment of sending (a name that resolved to a public address at submission may
/// resolve to an internal one later). The adapter is `SafeWebhookTransport` (SafeFetch).
public protocol WebhookTransport: Sendable {
    /// Refuses a callback URL the policy does not admit, with `JobServiceError.refused`
    /// carrying the policy's code (URL_NOT_ALLOWED, ADDRESS_NOT_ALLOWED, FETCH_FAILED).
    func checkCallback(_ url: String) async throws
    /// POSTs `body` with `headers` to `url`; never throws: every outcome is recorded.
    func send(_ url: String, body: Data, headers: [(name: String, value: String)]) async -> WebhookSendOutcome
}

/// What one POST came to.
public enum WebhookSendOutcome: Sendable, Equatable {
    /// The receiver answered (any status; redirects are answers, never followed).
    case answered(status: Int, retryAfter: String?)
    /// No answer: no connection, a reset, a timeout, a TLS failure. Worth another attempt.
    case unreachable(String)
    /// Not sent: the URL or the address it resolves to now is not allowed. Final.
    case refused(String)
}
