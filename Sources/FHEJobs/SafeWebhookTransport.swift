import Foundation
import Jobs
import SafeFetch

/// Webhooks through SafeFetch, under the rules `encrypted_data_url` follows (`SafeInputFetcher`):
/// only allowed hosts, `https` (or `http` where allowed), every resolved address checked and
/// the connection pinned to it, and the check made again at each delivery, so a callback host
/// that resolved to a public address at submission and to an internal one later is refused
/// then. No redirect is followed; at most `policy.maxBytes` of an answer are read.
public struct SafeWebhookTransport: WebhookTransport {
    let fetcher: SafeFetcher
    let policy: FetchPolicy

    /// `policy.maxBytes` bounds what is read of a receiver's answer (the body is ignored: a
    /// few KiB do), `policy.timeout` the whole attempt; `file:` roots and redirects are unused.
    public init(policy: FetchPolicy, fetcher: SafeFetcher = SafeFetcher()) {
        var policy = policy
        policy.fileRoot = nil
        policy.maxRedirects = 0
        self.policy = policy
        self.fetcher = fetcher
    }

    public func checkCallback(_ url: String) async throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw JobServiceError.refused(Refusal("URL_NOT_ALLOWED", status: 400, "callbackUrl is not an http(s) URL"))
        }
        do {
            try await fetcher.check(parsed, policy: policy)
        } catch {
            // The same codes and statuses as a refused encrypted_data_url.
            throw SafeInputFetcher.refusal(error)
        }
    }

    public func send(_ url: String, body: Data, headers: [(name: String, value: String)]) async -> WebhookSendOutcome {
        guard let parsed = URL(string: url) else { return .refused("the callback URL is not a URL") }
        do {
            let answer = try await fetcher.post(parsed, body: body, headers: headers, policy: policy)
            return .answered(status: answer.status, retryAfter: answer.retryAfter)
        } catch {
            switch error {
            case .urlNotAllowed, .addressNotAllowed, .redirectNotAllowed, .tooManyRedirects:
                return .refused(error.description)
            case .fetchFailed, .timedOut, .tooLarge, .checksumMismatch, .consumerFailed:
                return .unreachable(error.description)
            }
        }
    }
}
