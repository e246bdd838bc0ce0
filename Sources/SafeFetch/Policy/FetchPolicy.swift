import Foundation

/// What a client-supplied URL may reach. The default policy refuses every URL: a deployment
/// names the hosts it trusts to serve input data.
public struct FetchPolicy: Sendable {
    /// The hosts an `https` (or `http`) URL may name, and every redirect hop with them.
    public var allowedHosts: Set<AllowedHost>
    /// Whether `http` URLs are fetched too; `https` always is.
    public var allowsHTTP: Bool
    /// Whether a host may resolve to loopback, private, link-local or shared (CGNAT)
    /// addresses (``AddressKind/isPrivate``). False in production; tests set it to use
    /// 127.0.0.1. Unspecified, multicast, broadcast and reserved addresses are refused even then.
    public var allowPrivateAddresses: Bool
    /// The directory `file:` URLs are served from; nil refuses every `file:` URL. A file is
    /// served only if its path, with symbolic links and `..` resolved, is inside this root.
    public var fileRoot: URL?
    /// A directory no `file:` URL may read (the service's data directory). The fetcher refuses
    /// every `file:` URL while ``fileRoot`` contains it or lies inside it.
    public var forbiddenRoot: URL?
    /// The most bytes a body may have; the fetch stops as soon as it would pass this.
    public var maxBytes: Int
    /// The time the whole fetch may take, redirects and the consumer's work included.
    public var timeout: Duration
    /// The most redirects followed, each to the same scheme, host and port.
    public var maxRedirects: Int

    public init(
        allowedHosts: Set<AllowedHost> = [],
        allowsHTTP: Bool = false,
        allowPrivateAddresses: Bool = false,
        fileRoot: URL? = nil,
        forbiddenRoot: URL? = nil,
        maxBytes: Int,
        timeout: Duration = .seconds(60),
        maxRedirects: Int = 3
    ) {
        precondition(maxBytes >= 0 && maxRedirects >= 0, "limits are not negative")
        precondition(timeout > .zero, "the timeout is positive")
        self.allowedHosts = allowedHosts
        self.allowsHTTP = allowsHTTP
        self.allowPrivateAddresses = allowPrivateAddresses
        self.fileRoot = fileRoot
        self.forbiddenRoot = forbiddenRoot
        self.maxBytes = maxBytes
        self.timeout = timeout
        self.maxRedirects = maxRedirects
    }

    /// `scheme://host:port` of an `http(s)` URL the policy admits, nil for any other URL: the
    /// name under which a caller keeps state per host (a circuit breaker), one per allowed
    /// host and scheme at most, whatever URLs clients send.
    public func admittedOrigin(of url: URL) -> String? {
        guard let target = try? HTTPTarget(url, policy: self) else { return nil }
        return "\(target.scheme)://\(target.authority)"
    }

    /// Whether a connection may go to `address`.
    func admits(_ kind: AddressKind) -> Bool {
        kind == .global || (allowPrivateAddresses && kind.isPrivate)
    }
}
