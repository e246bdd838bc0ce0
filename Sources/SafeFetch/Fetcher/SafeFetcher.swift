import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// Fetches a client-supplied URL on the server (an encrypted input named at job submission)
/// without letting the client reach anything the ``FetchPolicy`` does not name: no internal
/// service, no cloud metadata endpoint, no file outside the file root.
///
/// Every connection is made to an address the fetcher resolved and checked itself, so a name
/// that answers a public address to the check and a private one to the connection (DNS
/// rebinding) cannot get through; see ``SafeFetcher/fetch(_:policy:sha256:consume:)``.
public struct SafeFetcher: Sendable {
    let resolver: any HostResolver
    let eventLoopGroup: any EventLoopGroup
    let trustRoots: NIOSSLTrustRoots

    /// - Parameters:
    ///   - resolver: Where host names are resolved; tests inject one.
    ///   - eventLoopGroup: Where connections run.
    ///   - trustRoots: The certificate authorities a server's chain must lead to. Certificate
    ///     and host name verification are always on: they are what ties a connection made to a
    ///     checked IP address back to the host name in the URL.
    public init(
        resolver: any HostResolver = SystemHostResolver(),
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup,
        trustRoots: NIOSSLTrustRoots = .default
    ) {
        self.resolver = resolver
        self.eventLoopGroup = eventLoopGroup
        self.trustRoots = trustRoots
    }

    /// Fetches `url` and streams its body to `consume`, chunk by chunk, as it arrives.
    ///
    /// The body is never held beyond one chunk: a chunk that would take the total past
    /// ``FetchPolicy/maxBytes`` ends the fetch before `consume` sees it, and a declared
    /// Content-Length past it ends the fetch before any chunk. The SHA-256 is checked after the
    /// last chunk, so on ``FetchError/checksumMismatch(expected:actual:)`` (or any other error)
    /// the caller discards what it consumed.
    ///
    /// - Parameters:
    ///   - url: `https:`, `http:` (if the policy allows it) or `file:` (if it has a file root).
    ///   - policy: What the URL may reach.
    ///   - expected: The SHA-256 the client claims for the data, hex; nil not to check.
    ///   - consume: Receives the body's chunks in order; an error it throws ends the fetch as
    ///     ``FetchError/consumerFailed(_:)``.
    /// - Returns: The byte count and SHA-256 of what `consume` received.
    public func fetch(
        _ url: URL,
        policy: FetchPolicy,
        sha256 expected: String? = nil,
        consume: @escaping @Sendable (Data) async throws -> Void
    ) async throws(FetchError) -> FetchResult {
        let deadline = ContinuousClock.now + policy.timeout
        do {
            return try await Self.within(policy.timeout) {
                if url.scheme?.lowercased() == "file" {
                    return try await self.fetchFile(url, policy: policy, expected: expected, consume: consume)
                }
                return try await self.fetchHTTP(url, policy: policy, deadline: deadline, expected: expected, consume: consume)
            }
        } catch let error as FetchError {
            throw error
        } catch {
            throw Self.classify(error, timeout: policy.timeout, deadline: deadline)
        }
    }

    /// Runs `body`, cancelling it and throwing ``FetchError/timedOut(after:)`` once `timeout`
    /// has passed. AsyncHTTPClient's request deadline covers only what it does; this covers
    /// redirects, resolution, file reads and the consumer too.
    static func within<T: Sendable>(
        _ timeout: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw FetchError.timedOut(after: timeout)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The fetch error for an error of the HTTP client, NIO, TLS or the consumer.
    static func classify(_ error: any Error, timeout: Duration, deadline: ContinuousClock.Instant) -> FetchError {
        if let consumer = error as? ConsumerError {
            return .consumerFailed(String(describing: consumer.underlying))
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout:
                return .timedOut(after: timeout)
            case .cancelled:
                return ContinuousClock.now >= deadline ? .timedOut(after: timeout) : .fetchFailed(.cancelled)
            default:
                return .fetchFailed(.connection(String(describing: client)))
            }
        }
        if error is CancellationError {
            return ContinuousClock.now >= deadline ? .timedOut(after: timeout) : .fetchFailed(.cancelled)
        }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            return .fetchFailed(.tls(String(describing: error)))
        }
        return .fetchFailed(.connection(String(describing: error)))
    }
}

/// An error thrown by the caller's consumer, kept apart from the fetch's own errors.
struct ConsumerError: Error {
    let underlying: any Error
}

extension SafeFetcher {
    /// Hands a chunk to the consumer, marking what it throws as the consumer's.
    static func deliver(_ chunk: Data, to consume: @Sendable (Data) async throws -> Void) async throws {
        do {
            try await consume(chunk)
        } catch {
            throw ConsumerError(underlying: error)
        }
    }
}
