import Foundation
import Jobs
import SafeFetch

/// `encrypted_data_url` through SafeFetch: only allowed hosts, every resolved address checked
/// and pinned for the connection (no DNS rebinding into internal services), redirects checked
/// hop by hop, a byte limit and a total time limit. The body streams into the blob store
/// while it arrives; what runs is what was fetched and checked at submission.
///
/// Each allowed host has a circuit breaker: a host that keeps failing (no connection, no
/// answer in time, 5xx) is left alone for a while, and submissions naming it are refused at
/// once with 503 SERVICE_UNAVAILABLE and `Retry-After` instead of each waiting out the timeout.
public struct SafeInputFetcher: EncryptedInputFetcher {
    let fetcher: SafeFetcher
    let policy: FetchPolicy
    let breakers: CircuitBreakers

    public init(policy: FetchPolicy, fetcher: SafeFetcher = SafeFetcher(), breakers: CircuitBreakers = CircuitBreakers()) {
        self.policy = policy
        self.fetcher = fetcher
        self.breakers = breakers
    }

    public func fetch(_ url: String, limit: Int, into blobs: FHEBlobs, tenant: String, hold: BlobHold) async throws -> FHEBlobs.Stored {
        guard let parsed = URL(string: url), parsed.scheme != nil else {
            throw JobServiceError.refused(Refusal("URL_NOT_ALLOWED", status: 400, "payload.encrypted_data_url is not a URL"))
        }
        var limited = self.policy
        limited.maxBytes = min(limited.maxBytes, limit)
        let policy = limited
        // The fetch yields chunks as they arrive; the blob store writes them as they come. The
        // stream's buffer holds what the network delivered ahead of the disk, and a disk keeps
        // ahead of a network, so it stays small; the limit bounds it in any case.
        let (chunks, sink) = AsyncThrowingStream<Data, any Error>.makeStream()
        let fetcher = self.fetcher
        // Asked before anything starts, so an open breaker is the answer (503), not a blob
        // store that saw its source fail. `file:` URLs and refused ones have no breaker.
        let breaker = policy.admittedOrigin(of: parsed).map { breakers.breaker(named: "encrypted_data_url \($0)") }
        let permit = try breaker?.admit()
        return try await withThrowingTaskGroup(of: FHEBlobs.Stored?.self) { group in
            group.addTask {
                do {
                    _ = try await fetcher.fetch(parsed, policy: policy) { chunk in sink.yield(chunk) }
                    sink.finish()
                    if let breaker, let permit { breaker.record(permit, failed: false) }
                } catch {
                    sink.finish(throwing: error)
                    if let breaker, let permit { breaker.record(permit, error: error, isFailure: Self.isHostFailure) }
                    throw Self.refusal(error)
                }
                return nil
            }
            group.addTask { try await blobs.put(tenant: tenant, chunks: chunks, limit: policy.maxBytes, hold: hold) }
            var stored: FHEBlobs.Stored?
            var refusal: (any Error)?, failure: (any Error)?
            while true {
                do {
                    guard let next = try await group.next() else { break }
                    if let next { stored = next }
                } catch {
                    // The fetch's own refusal says more than the blob store's "source failed".
                    if case .refused = error as? JobServiceError { refusal = refusal ?? error } else { failure = failure ?? error }
                    group.cancelAll()
                }
            }
            if let error = refusal ?? failure { throw error }
            guard let stored else { throw JobServiceError.invalidConfiguration("the fetch ended without a stored blob") }
            return stored
        }
    }

    /// A fetch's failure as the API's refusal: the URL is the client's, so its failures are
    /// the client's to fix (4xx), with the fetch's own code. A host that failed to answer may
    /// answer a retry; one that answered 4xx (but 408 and 429) will answer it the same.
    static func refusal(_ error: any Error) -> any Error {
        guard let error = error as? FetchError else { return error }
        let status = switch error {
        case .tooLarge: 413
        case .fetchFailed, .timedOut: 422
        case .consumerFailed: 500
        default: 400
        }
        var retryable: Bool?
        if case .fetchFailed(let failure) = error {
            switch failure {
            case .status(let code): retryable = code >= 500 || code == 408 || code == 429
            case .resolution, .connection, .tls, .cancelled: retryable = true
            case .io: retryable = false
            }
        }
        return JobServiceError.refused(Refusal(error.code, status: status, error.message, retryable: retryable))
    }

    /// Whether a fetch failed because the host is failing (what its breaker counts), rather
    /// than because of the URL, the data or the policy: no connection, no answer in time, 5xx.
    static func isHostFailure(_ error: any Error) -> Bool {
        guard let error = error as? FetchError else { return false }
        switch error {
        case .timedOut: return true
        case .fetchFailed(.status(let code)): return code >= 500
        case .fetchFailed(.resolution), .fetchFailed(.connection), .fetchFailed(.tls): return true
        default: return false
        }
    }
}
