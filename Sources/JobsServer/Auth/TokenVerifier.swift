import Foundation
import JWTKit
import Jobs

/// Verifies OAuth 2.0 bearer access tokens (RFC 6750) that are JWTs (RFC 7519, with the
/// checks of RFC 8725, "JWT Best Current Practices"): the algorithm is pinned per key and
/// `none` never accepted (section 3.1), issuer and audience are checked (3.8, 3.9), and
/// `exp`/`nbf` allow a small clock leeway. (Package access: the fuzz targets verify tokens
/// with it, as the HTTP server's middleware does.)
package struct TokenVerifier: Sendable {
    package struct Configuration: Sendable {
        var issuer: String
        var audience: String
        var leeway: TimeInterval
        /// The only issuers whose tokens may carry the `operator` role (cross-tenant).
        var operatorIssuers: Set<String>

        package init(issuer: String, audience: String, leeway: TimeInterval = 30, operatorIssuers: Set<String> = []) {
            self.issuer = issuer; self.audience = audience; self.leeway = leeway; self.operatorIssuers = operatorIssuers
        }
    }

    package enum Algorithm: String, Sendable { case rs256 = "RS256", es256 = "ES256", hs256 = "HS256" }

    /// The keys, each pinned to the one algorithm it may be used with.
    private let keys: AuthKeys
    private let configuration: Configuration

    package init(keys: AuthKeys, configuration: Configuration) {
        self.keys = keys; self.configuration = configuration
    }

    package func principal(fromAuthorization header: String?, now: Date = Date()) async throws(APIProblem) -> Principal {
        guard let header else { throw .unauthenticated("an Authorization: Bearer token is required") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthenticated("the Authorization header must be \"Bearer <token>\"")
        }
        let token = String(parts[1])
        guard token.utf8.count <= 8192 else { throw .unauthenticated("the token is too long") }
        let jose = try Self.header(of: token)
        guard let alg = jose["alg"], let algorithm = Algorithm(rawValue: alg) else {
            throw .unauthenticated("the token's algorithm is not accepted (RS256, ES256)")
        }
        guard let found = try await keys.key(for: jose["kid"], now: now) else {
            throw .unauthenticated("the token's key (kid) is not known")
        }
        let (verifying, expected) = (found.keys, found.algorithm)
        guard expected == algorithm else {
            throw .unauthenticated("the token's algorithm does not match its key")
        }
        let claims: AccessTokenClaims
        do {
            claims = try await verifying.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw .unauthenticated("the token's signature or claims are invalid")
        }
        let isOperator = claims.role == Principal.Role.serviceOperator.rawValue
        guard claims.iss.value == configuration.issuer || (isOperator && configuration.operatorIssuers.contains(claims.iss.value)) else {
            throw .unauthenticated("the token was issued by another issuer")
        }
        if isOperator, !configuration.operatorIssuers.contains(claims.iss.value) {
            throw APIProblem(.forbidden, .forbidden, "operator tokens are accepted only from the issuers configured for operators")
        }
        guard claims.aud.value.contains(configuration.audience) else { throw .unauthenticated("the token is for another audience") }
        guard claims.exp.value.addingTimeInterval(configuration.leeway) > now else { throw .unauthenticated("the token has expired") }
        if let nbf = claims.nbf, nbf.value.addingTimeInterval(-configuration.leeway) > now {
            throw .unauthenticated("the token is not valid yet")
        }
        guard let role = Principal.Role(rawValue: claims.role) else {
            throw APIProblem(.forbidden, .forbidden, "the token's role is not one of developer, team_lead, admin, operator")
        }
        guard Self.isValidName(claims.tenant), !claims.sub.value.isEmpty, claims.sub.value.utf8.count <= 256 else {
            throw .unauthenticated("the token's tenant or subject is malformed")
        }
        return Principal(subject: claims.sub.value, tenant: claims.tenant, role: role)
    }

    /// Tenants name database rows and rate-limit buckets: letters, digits, `-`, `_`, `.`.
    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f || c == 0x2e
        }
    }

    /// The JOSE header's string fields, read before verification only to pick and pin the key.
    private static func header(of token: String) throws(APIProblem) -> [String: String] {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw .unauthenticated("the token is not a signed JWT") }
        guard let data = Data(base64URLEncoded: segments[0]),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .unauthenticated("the token's header is malformed")
        }
        return object.compactMapValues { $0 as? String }
    }
}
