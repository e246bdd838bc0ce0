import Foundation

/// An `http(s)` URL the policy admits, taken apart once: the scheme, the host as the HTTP
/// client will read it, and the port.
struct HTTPTarget: Sendable {
    let url: URL
    /// `https` or `http`.
    let scheme: String
    /// The host exactly as `URL.host` gives it (AsyncHTTPClient reads the same property, so
    /// this is the key its DNS override is looked up by), brackets removed.
    let rawHost: String
    /// The host, lowercase: what the allow-list matches and what the resolver is asked.
    let host: String
    let port: Int
    /// The address, when the URL names one instead of a host name.
    let literal: IPAddress?

    var authority: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "\(shown):\(port)"
    }

    init(_ url: URL, policy: FetchPolicy) throws(FetchError) {
        guard let scheme = url.scheme?.lowercased() else { throw .urlNotAllowed(.malformed) }
        guard scheme == "https" || (scheme == "http" && policy.allowsHTTP) else {
            throw .urlNotAllowed(.schemeNotAllowed(scheme))
        }
        guard url.user == nil, url.password == nil else { throw .urlNotAllowed(.credentialsInURL) }
        guard var rawHost = url.host, !rawHost.isEmpty else { throw .urlNotAllowed(.malformed) }
        if rawHost.hasPrefix("["), rawHost.hasSuffix("]") { rawHost = String(rawHost.dropFirst().dropLast()) }
        let host = rawHost.lowercased()
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port ?? defaultPort
        guard policy.allowedHosts.contains(where: { $0.admits(host: host, port: port, defaultPort: defaultPort) }) else {
            throw .urlNotAllowed(.hostNotAllowed(url.port == nil ? host : "\(host):\(port)"))
        }
        self.url = url
        self.scheme = scheme
        self.rawHost = rawHost
        self.host = host
        self.port = port
        self.literal = IPAddress(host)
    }

    /// The target a redirect from here leads to, if it may be followed: same scheme, same
    /// host, same port (RFC 9110 §15.4 leaves following to the client; we follow only these).
    func redirect(to location: String?, policy: FetchPolicy) throws(FetchError) -> HTTPTarget {
        guard let location, let next = URL(string: location, relativeTo: url)?.absoluteURL else {
            throw .redirectNotAllowed(.badLocation)
        }
        let nextScheme = next.scheme?.lowercased() ?? ""
        guard nextScheme == scheme else { throw .redirectNotAllowed(.otherScheme(nextScheme)) }
        let target: HTTPTarget
        do {
            target = try HTTPTarget(next, policy: policy)
        } catch .urlNotAllowed(.hostNotAllowed) {
            throw .redirectNotAllowed(.otherHost(Self.authority(of: next, scheme: scheme)))
        }
        guard target.host == host, target.port == port else {
            throw .redirectNotAllowed(.otherHost(target.authority))
        }
        return target
    }

    private static func authority(of url: URL, scheme: String) -> String {
        let host = url.host?.lowercased() ?? ""
        return "\(host):\(url.port ?? (scheme == "https" ? 443 : 80))"
    }
}
