/// One entry of ``FetchPolicy/allowedHosts``: an exact host name (or IP literal), lowercase,
/// and optionally a port. Names match exactly: `example.com` does not admit `www.example.com`,
/// nor `example.com.` with its trailing dot.
public struct AllowedHost: Hashable, Sendable {
    /// The host, lowercase, IPv6 literals without brackets.
    public let host: String
    /// The one port admitted; `nil` admits only the scheme's default port (443 or 80).
    public let port: Int?

    public init(host: String, port: Int? = nil) {
        precondition(port.map { (1...65535).contains($0) } ?? true, "a port is 1...65535")
        self.host = host.lowercased()
        self.port = port
    }

    /// Parses `host`, `host:port`, `v6`, `[v6]` or `[v6]:port`; nil for anything else.
    public init?(parsing text: String) {
        var rest = Substring(text)
        let host: Substring
        if rest.filter({ $0 == ":" }).count > 1, !rest.hasPrefix("[") {
            guard IPAddress(text) != nil else { return nil }
            host = rest
            rest = ""
        } else if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            rest = rest[colon...]
        } else {
            host = rest
            rest = ""
        }
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == "@" || $0.isWhitespace }) else { return nil }
        var port: Int?
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()), (1...65535).contains(value) else { return nil }
            port = value
        }
        self.init(host: String(host), port: port)
    }

    /// Whether this entry admits `host` (already lowercase) on `port` for a scheme whose
    /// default port is `defaultPort`.
    func admits(host: String, port: Int, defaultPort: Int) -> Bool {
        self.host == host && (self.port ?? defaultPort) == port
    }
}

extension AllowedHost: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        guard let parsed = AllowedHost(parsing: value) else { preconditionFailure("not a host[:port]: \(value)") }
        self = parsed
    }
}

extension AllowedHost: CustomStringConvertible {
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return port.map { "\(host):\($0)" } ?? host
    }
}
