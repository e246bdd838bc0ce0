/// An error of the token endpoint as RFC 6749 section 5.2 defines it: a status of 400 and a
/// JSON object with `error` (one of the codes below) and `error_description`. OAuth clients
/// parse this shape, so the token endpoint answers it rather than problem+json; the limits
/// enforced before the endpoint (the rate limit, the body limit, the media type) answer
/// problem+json as everywhere else (openapi.yml states both).
public struct OAuthError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// A parameter is missing, repeated or malformed (section 5.2).
        case invalidRequest = "invalid_request"
        /// The refresh token is unknown, expired, revoked, or was used already (section 5.2).
        case invalidGrant = "invalid_grant"
        /// A grant type other than `refresh_token` (section 5.2).
        case unsupportedGrantType = "unsupported_grant_type"
        /// A scope other than the one granted: these tokens carry none (sections 5.2 and 6).
        case invalidScope = "invalid_scope"
    }

    public var code: Code
    /// Human-readable, ASCII only (section 5.2 limits `error_description` to %x20-21 / %x23-5B / %x5D-7E).
    public var description: String

    public init(_ code: Code, _ description: String) { self.code = code; self.description = description }
}
