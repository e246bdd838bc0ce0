import JWTKit

/// The claims of an access token: standard ones (RFC 7519 section 4.1) plus the tenant and
/// role this service authorizes by.
struct AccessTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var tenant: String
    var role: String

    /// Time claims are checked by `TokenVerifier` with its leeway; nothing to do here.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
