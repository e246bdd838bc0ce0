/// Why a fetch did not deliver the data, with a stable ``code`` for the HTTP API's problem
/// documents and a ``message`` for a person.
public enum FetchError: Error, Sendable, Equatable {
    /// URL_NOT_ALLOWED: the URL's scheme or host is not allowed, or a file is outside the root.
    case urlNotAllowed(URLRefusal)
    /// ADDRESS_NOT_ALLOWED: the host resolved to an address of a kind the policy refuses.
    case addressNotAllowed(host: String, address: IPAddress, kind: AddressKind)
    /// FETCH_FAILED: resolution, connection, TLS or reading failed, or the status was not 2xx.
    case fetchFailed(FetchFailure)
    /// FETCH_TOO_LARGE: the body passed the policy's byte limit (announced or counted).
    case tooLarge(limit: Int)
    /// FETCH_TIMEOUT: the whole fetch took longer than the policy's timeout.
    case timedOut(after: Duration)
    /// CHECKSUM_MISMATCH: the body's SHA-256 is not the one the client gave.
    case checksumMismatch(expected: String, actual: String)
    /// TOO_MANY_REDIRECTS: more redirects than the policy follows.
    case tooManyRedirects(limit: Int)
    /// REDIRECT_NOT_ALLOWED: a redirect to another scheme or host, or without a usable Location.
    case redirectNotAllowed(RedirectRefusal)
    /// INTERNAL: the caller's consumer of the body threw (the blob store failed, say); not the
    /// client's fault, so it is not a FETCH_ code.
    case consumerFailed(String)

    /// The code an HTTP API surfaces; stable across releases.
    public var code: String {
        switch self {
        case .urlNotAllowed: "URL_NOT_ALLOWED"
        case .addressNotAllowed: "ADDRESS_NOT_ALLOWED"
        case .fetchFailed: "FETCH_FAILED"
        case .tooLarge: "FETCH_TOO_LARGE"
        case .timedOut: "FETCH_TIMEOUT"
        case .checksumMismatch: "CHECKSUM_MISMATCH"
        case .tooManyRedirects: "TOO_MANY_REDIRECTS"
        case .redirectNotAllowed: "REDIRECT_NOT_ALLOWED"
        case .consumerFailed: "INTERNAL"
        }
    }

    /// One sentence for the client. It names the client's own URL and host, never an address
    /// the client did not see other than the forbidden one it caused us to resolve.
    public var message: String {
        switch self {
        case .urlNotAllowed(let refusal):
            "The URL is not allowed: \(refusal)."
        case .addressNotAllowed(let host, let address, let kind):
            "The host \(host) resolves to \(address) (\(kind.rawValue)), an address that may not be fetched."
        case .fetchFailed(let failure):
            "The fetch failed: \(failure)."
        case .tooLarge(let limit):
            "The data is larger than the limit of \(limit) bytes."
        case .timedOut(let after):
            "The fetch did not finish within \(after)."
        case .checksumMismatch(let expected, let actual):
            "The data's SHA-256 is \(actual), not the expected \(expected)."
        case .tooManyRedirects(let limit):
            "The URL redirected more than \(limit) times."
        case .redirectNotAllowed(let refusal):
            "The redirect is not allowed: \(refusal)."
        case .consumerFailed:
            "Storing the fetched data failed."
        }
    }
}

extension FetchError: CustomStringConvertible {
    public var description: String { "\(code): \(message)" }
}

/// Why a URL is refused before anything is fetched.
public enum URLRefusal: Sendable, Equatable, CustomStringConvertible {
    /// Not an absolute URL with a host (or a path, for `file:`).
    case malformed
    /// The scheme is not `https`, `http` with ``FetchPolicy/allowsHTTP``, or `file` with a root.
    case schemeNotAllowed(String)
    /// The host and port are not in ``FetchPolicy/allowedHosts``.
    case hostNotAllowed(String)
    /// The URL carries a user name or password.
    case credentialsInURL
    /// The file, with links and `..` resolved, is outside ``FetchPolicy/fileRoot``.
    case fileOutsideRoot
    /// ``FetchPolicy/fileRoot`` overlaps ``FetchPolicy/forbiddenRoot``: no file is served.
    case fileRootOverlapsForbiddenRoot
    /// The path names a directory, device, socket or pipe.
    case notARegularFile

    public var description: String {
        switch self {
        case .malformed: "it is not an absolute URL with a host"
        case .schemeNotAllowed(let scheme): "the scheme \(scheme) is not allowed"
        case .hostNotAllowed(let host): "the host \(host) is not allowed"
        case .credentialsInURL: "it carries credentials"
        case .fileOutsideRoot: "the file is outside the directory that files are served from"
        case .fileRootOverlapsForbiddenRoot: "file URLs are disabled because their root overlaps the data directory"
        case .notARegularFile: "it does not name a regular file"
        }
    }
}

/// Why a connection, its TLS handshake or its answer failed.
public enum FetchFailure: Sendable, Equatable, CustomStringConvertible {
    /// The server answered a status other than 2xx (or a redirect without being followed).
    case status(Int)
    /// The host name did not resolve.
    case resolution(host: String)
    /// No connection could be made, or it broke.
    case connection(String)
    /// The TLS handshake or the certificate's verification failed.
    case tls(String)
    /// A `file:` URL could not be read.
    case io(String)
    /// The fetch's task was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .status(let status): "the server answered HTTP status \(status)"
        case .resolution(let host): "the host \(host) did not resolve"
        case .connection(let reason): "the connection failed (\(reason))"
        case .tls(let reason): "the TLS handshake failed (\(reason))"
        case .io(let reason): "the file could not be read (\(reason))"
        case .cancelled: "it was cancelled"
        }
    }
}

/// Why a redirect is not followed.
public enum RedirectRefusal: Sendable, Equatable, CustomStringConvertible {
    /// The Location names another host or port (given as `host:port`).
    case otherHost(String)
    /// The Location names another scheme.
    case otherScheme(String)
    /// The redirect has no Location, or one that is not a URL.
    case badLocation

    public var description: String {
        switch self {
        case .otherHost(let host): "it leads to another host, \(host)"
        case .otherScheme(let scheme): "it leads to another scheme, \(scheme)"
        case .badLocation: "it has no usable Location"
        }
    }
}
