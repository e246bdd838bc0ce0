import Foundation
import JWTKit
import Logging
import SafeFetch

/// The signing keys of an external token issuer, fetched from its JWKS URL (RFC 7517 §5; the
/// `jwks_uri` of OpenID Connect Discovery 1.0 §3), each key pinned to its `alg` as the file
/// mode pins them (`AuthKeys.addKeys`).
///
/// - The set is cached for the answer's `Cache-Control: max-age` (RFC 9111 §5.2.2.1), bounded to
///   ``Configuration/minCacheAge`` ... ``Configuration/maxCacheAge`` (``Configuration/defaultCacheAge``
///   without one; `no-store`/`no-cache` count as the minimum).
/// - A token naming a `kid` the set does not hold makes it refetch (the issuer rotated its keys),
///   but every fetch, whatever prompted it, waits ``Configuration/minRefetchInterval`` after the
///   one before: tokens with made-up kids cannot make the service hammer the issuer.
/// - While the issuer cannot be reached, the keys last fetched keep verifying for
///   ``Configuration/maxStaleness`` past their cache lifetime; after that tokens are answered 503.
/// - Fetches go through SafeFetch: `https` (plain `http` only to a loopback host, for tests), the
///   connection pinned to the resolved address, no redirect, a byte limit and a time limit.
///   Concurrent requests share one fetch.
public actor RemoteJWKS {
    public struct Configuration: Sendable {
        public var url: URL
        public var minCacheAge: TimeInterval = 60
        public var maxCacheAge: TimeInterval = 24 * 3600
        public var defaultCacheAge: TimeInterval = 300
        public var minRefetchInterval: TimeInterval = 30
        public var maxStaleness: TimeInterval = 6 * 3600
        /// The largest key set read; a larger one is refused (a JWKS is a few KiB).
        public var maxBytes = 64 * 1024
        public var maxKeys = 64
        public var timeout: Duration = .seconds(10)

        public init(url: URL) { self.url = url }
    }

    /// Why the key set could not be used, one line for the operator.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case urlNotAllowed(String)
        case fetchFailed(String)
        case status(Int)
        case invalid(String)

        public var description: String {
            switch self {
            case .urlNotAllowed(let reason): "the JWKS URL is not usable: \(reason)"
            case .fetchFailed(let reason): "the JWKS could not be fetched: \(reason)"
            case .status(let status): "the JWKS URL answered HTTP \(status), not 200"
            case .invalid(let reason): "the JWKS was refused: \(reason)"
            }
        }
    }

    /// One fetched set: its keys and pins, and until when it is fresh.
    struct KeySet: Sendable {
        let collection: JWTKeyCollection
        let pinned: [String: TokenVerifier.Algorithm]
        let freshUntil: Date

        func key(for kid: String?) -> (keys: JWTKeyCollection, algorithm: TokenVerifier.Algorithm)? {
            if let kid { return pinned[kid].map { (keys: collection, algorithm: $0) } }
            // A token without a kid is tried against the only key there is.
            return pinned.count == 1 ? pinned.values.first.map { (keys: collection, algorithm: $0) } : nil
        }
    }

    public let configuration: Configuration
    private let policy: FetchPolicy
    private let fetcher: SafeFetcher
    private let logger: Logger
    private var current: KeySet?
    private var lastAttempt: Date?
    private var inFlight: Task<KeySet, any Error>?

    public init(configuration: Configuration, fetcher: SafeFetcher = SafeFetcher(),
                logger: Logger = Logger(label: "fhe-jobs.jwks")) throws(LoadError) {
        let url = configuration.url
        guard let scheme = url.scheme?.lowercased(), var host = url.host?.lowercased(), !host.isEmpty else {
            throw .urlNotAllowed("\(url.absoluteString) is not an absolute URL with a host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let loopback = host == "localhost" || IPAddress(host)?.kind == .loopback
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw .urlNotAllowed("keys are fetched over https (http only from a loopback address, for tests)")
        }
        guard url.user == nil, url.password == nil else { throw .urlNotAllowed("it carries credentials") }
        if let port = url.port, !(1...65535).contains(port) { throw .urlNotAllowed("the port \(port) is not 1 to 65535") }
        self.configuration = configuration
        // The issuer is the operator's choice, and may live on a private network; the URL's
        // host is the only one allowed, and redirects are not followed.
        self.policy = FetchPolicy(allowedHosts: [AllowedHost(host: host, port: url.port)], allowsHTTP: scheme == "http",
                                  allowPrivateAddresses: true, maxBytes: configuration.maxBytes,
                                  timeout: configuration.timeout, maxRedirects: 0)
        self.fetcher = fetcher
        self.logger = logger
    }

    /// Fetches the set now (at start: an issuer that cannot be read stops the start with one
    /// line, instead of every request failing).
    public func load(now: Date = Date()) async throws(LoadError) {
        lastAttempt = now
        current = try await Self.fetch(configuration: configuration, policy: policy, fetcher: fetcher, now: now)
    }

    /// The keys for a token naming `kid` (nil when the set, refetched if allowed, has no such
    /// key); 503 when the issuer has been unreachable longer than the staleness bound.
    func key(for kid: String?, now: Date) async throws(APIProblem) -> (keys: JWTKeyCollection, algorithm: TokenVerifier.Algorithm)? {
        if let set = current, now < set.freshUntil {
            if let found = set.key(for: kid) { return found }
            // An unknown kid: the issuer may have rotated its keys.
            await refresh(now: now)
            return current?.key(for: kid)
        }
        await refresh(now: now)
        guard let set = current, now < set.freshUntil.addingTimeInterval(configuration.maxStaleness) else {
            throw APIProblem(.serviceUnavailable, .serviceUnavailable, "the token issuer's keys could not be fetched; retry later",
                             retryAfterSeconds: Int(configuration.minRefetchInterval))
        }
        return set.key(for: kid)
    }

    /// Fetches the set again unless a fetch is under way (then waits for it) or the last one
    /// began less than ``Configuration/minRefetchInterval`` ago. A failure keeps the old set.
    private func refresh(now: Date) async {
        if let inFlight {
            _ = try? await inFlight.value
            return
        }
        if let lastAttempt, now.timeIntervalSince(lastAttempt) < configuration.minRefetchInterval { return }
        lastAttempt = now
        let (configuration, policy, fetcher) = (self.configuration, self.policy, self.fetcher)
        let task = Task { try await Self.fetch(configuration: configuration, policy: policy, fetcher: fetcher, now: now) }
        inFlight = task
        do {
            current = try await task.value
        } catch {
            logger.warning("the JWKS could not be refetched; the keys fetched before stay in use while they may",
                           metadata: ["url": "\(configuration.url.absoluteString)", "error": "\(error)"])
        }
        inFlight = nil
    }

    static func fetch(configuration: Configuration, policy: FetchPolicy, fetcher: SafeFetcher, now: Date) async throws(LoadError) -> KeySet {
        let answer: HTTPAnswer
        do {
            answer = try await fetcher.get(configuration.url, headers: [("Accept", "application/json"), ("User-Agent", "fhe-jobs-jwks")],
                                           policy: policy)
        } catch {
            throw .fetchFailed(error.description)
        }
        guard answer.status == 200 else { throw .status(answer.status) }
        let collection = JWTKeyCollection()
        let pinned: [String: TokenVerifier.Algorithm]
        do {
            pinned = try await AuthKeys.addKeys(fromJWKS: answer.body, to: collection, maxKeys: configuration.maxKeys)
        } catch {
            throw .invalid("\(error)")
        }
        guard !pinned.isEmpty else { throw .invalid("the set holds no key") }
        let age = cacheAge(answer.header("cache-control"), configuration: configuration)
        return KeySet(collection: collection, pinned: pinned, freshUntil: now.addingTimeInterval(age))
    }

    /// The set's lifetime from `Cache-Control` (RFC 9111 §5.2.2): `max-age`, bounded; the
    /// minimum for `no-store` or `no-cache`; the default without either.
    static func cacheAge(_ header: String?, configuration: Configuration) -> TimeInterval {
        let bounds = configuration.minCacheAge...configuration.maxCacheAge
        var age = configuration.defaultCacheAge
        for directive in (header ?? "").split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch parts.first ?? "" {
            case "no-store", "no-cache":
                return configuration.minCacheAge
            case "max-age" where parts.count == 2:
                let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if value.allSatisfy(\.isASCII), let seconds = UInt64(value) { age = TimeInterval(min(seconds, 1 << 32)) }
            default:
                continue
            }
        }
        return min(max(age, bounds.lowerBound), bounds.upperBound)
    }
}
