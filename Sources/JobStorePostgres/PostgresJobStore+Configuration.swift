import Foundation
import PostgresNIO

/// A database URL the store cannot use, with what is wrong with it. The URL itself is not
/// repeated, since it may hold a password.
public struct PostgresURLError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { "invalid PostgreSQL URL: \(reason)" }
}

extension PostgresJobStore {
    /// The client configuration for a libpq-style URL:
    ///
    ///     postgres://user:password@host:port/database?sslmode=require
    ///
    /// `postgresql://` works too. The user is required; the password (percent-encoded if it
    /// holds reserved characters), the port (5432) and the database (the user's name, as the
    /// server decides) may be left out. `sslmode` has libpq's meaning: `disable` (plain
    /// TCP), `prefer` (the default: TLS if the server offers it, certificate unchecked),
    /// `require` (TLS, certificate unchecked), `verify-ca` (TLS, certificate chain checked
    /// against the system's trusted roots) or `verify-full` (chain and host name checked).
    /// Other query parameters are refused rather than ignored.
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        func invalid(_ reason: String) -> PostgresURLError { PostgresURLError(reason: reason) }

        guard let components = URLComponents(string: url) else { throw invalid("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard var host = components.host, !host.isEmpty else { throw invalid("no host") }
        // An IPv6 address is bracketed in a URL ([::1]) but not when connecting.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let user = components.user, !user.isEmpty else { throw invalid("no user name") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw invalid("port \(port) is out of range") }
        guard components.fragment == nil else { throw invalid("a fragment (#...) is not allowed") }

        var encodedPath = components.percentEncodedPath
        if encodedPath.hasPrefix("/") { encodedPath.removeFirst() }
        guard !encodedPath.contains("/"), let database = encodedPath.removingPercentEncoding else {
            throw invalid("the path must be a single database name")
        }

        var tls = PostgresClient.Configuration.TLS.prefer(Self.tlsConfiguration(verification: .none))
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"): tls = .disable
            case ("sslmode", "prefer"): tls = .prefer(Self.tlsConfiguration(verification: .none))
            case ("sslmode", "require"): tls = .require(Self.tlsConfiguration(verification: .none))
            case ("sslmode", "verify-ca"): tls = .require(Self.tlsConfiguration(verification: .noHostnameVerification))
            case ("sslmode", "verify-full"): tls = .require(Self.tlsConfiguration(verification: .fullVerification))
            case ("sslmode", let value):
                throw invalid("sslmode \(value ?? "") is not one of disable, prefer, require, verify-ca, verify-full")
            case (let name, _):
                throw invalid("unsupported parameter \(name) (only sslmode is)")
            }
        }

        return PostgresClient.Configuration(host: host, port: port, username: user, password: components.password,
                                            database: database.isEmpty ? nil : database, tls: tls)
    }

    private static func tlsConfiguration(verification: CertificateVerification) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verification
        return configuration
    }
}
