import Crypto
import Foundation
import Jobs
import Logging

/// The embedded identity provider of dev mode: mints HS256 access tokens with the data
/// folder's dev key and, for sessions that last longer than one access token, rotating
/// refresh tokens.
///
/// Rotation (RFC 6749 section 6 and 10.4, RFC 6819 section 5.2.2.3, OAuth 2.0 Security BCP
/// RFC 9700 section 4.14.2): every exchange consumes the presented refresh token and issues a
/// successor in its family. A consumed token presented again means two parties hold it (the
/// client and a thief, and the service cannot tell which is which), so the whole family is
/// revoked and both must sign in again. Two exchanges of one token at the same moment are
/// the same case: one wins, the other is a reuse. Every exchange of a known token is written
/// to the audit trail of the family's tenant.
public struct DevTokenIssuer: Sendable {
    public struct Configuration: Sendable {
        public var issuer = "fhe-jobs"
        public var audience = "fhe-jobs-api"
        /// The access token's lifetime (the seed's 15 minutes).
        public var accessTokenLifetime: TimeInterval = 15 * 60
        /// Each refresh token's lifetime, from its issue: a session idle longer than this ends.
        public var refreshTokenLifetime: TimeInterval = 24 * 3600
        public init() {}
    }

    /// An access token with the refresh token that renews it (RFC 6749 section 5.1).
    public struct TokenPair: Sendable {
        public var accessToken: String
        public var expiresIn: Int
        public var refreshToken: RefreshToken
        public var familyID: UUID
    }

    let secret: SymmetricKey
    let store: any RefreshTokenStore
    public let configuration: Configuration
    let audit: @Sendable (AuditRecord) async -> Void
    let logger: Logger

    public init(secret: SymmetricKey, store: any RefreshTokenStore, configuration: Configuration,
                audit: @escaping @Sendable (AuditRecord) async -> Void, logger: Logger = Logger(label: "fhe-jobs.tokens")) {
        self.secret = secret; self.store = store; self.configuration = configuration; self.audit = audit; self.logger = logger
    }

    /// Starts a session: a new family with its first refresh token, and an access token.
    public func signIn(tenant: String, subject: String, role: Principal.Role, now: Date = Date(),
                       requestID: String = "-") async throws -> TokenPair {
        let family = RefreshTokenFamily(tenant: tenant, subject: subject, role: role.rawValue, createdAt: now)
        let refresh = RefreshToken.generate()
        try await store.insertRefreshTokenFamily(family, firstToken: RefreshTokenRecord(
            tokenHash: refresh.hash, familyID: family.id, issuedAt: now, expiresAt: now.addingTimeInterval(configuration.refreshTokenLifetime)))
        await audit(AuditRecord(at: now, tenant: tenant, actor: subject, action: "auth.session.start", target: family.id.uuidString.lowercased(),
                                outcome: "issued", requestID: requestID))
        return try await pair(for: family, refresh: refresh, now: now)
    }

    /// The refresh-token grant (RFC 6749 section 6): checks the request's parameters, then
    /// exchanges the token for a new pair.
    public func exchange(grantType: String?, refreshToken: String?, scope: String?, now: Date = Date(),
                         requestID: String = "-") async throws -> TokenPair {
        // Section 3.2: a parameter sent without a value is as if omitted.
        guard let grantType = grantType.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw OAuthError(.invalidRequest, "grant_type is required (refresh_token)")
        }
        guard grantType == "refresh_token" else {
            throw OAuthError(.unsupportedGrantType, "this endpoint serves only grant_type=refresh_token")
        }
        guard let presented = refreshToken.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw OAuthError(.invalidRequest, "refresh_token is required")
        }
        // Section 6: the scope may not exceed the one granted, and these tokens carry none.
        if let scope, !scope.isEmpty { throw OAuthError(.invalidScope, "these tokens carry no scope; omit scope") }
        guard let token = RefreshToken(presented: presented) else {
            throw OAuthError(.invalidGrant, "the refresh token is not one this service issued")
        }
        let successor = RefreshToken.generate()
        let outcome = try await store.exchangeRefreshToken(tokenHash: token.hash, successorHash: successor.hash,
                                                           successorExpiresAt: now.addingTimeInterval(configuration.refreshTokenLifetime), now: now)
        func record(_ family: RefreshTokenFamily, _ action: String, _ outcome: String) async {
            await audit(AuditRecord(at: now, tenant: family.tenant, actor: family.subject, action: action,
                                    target: family.id.uuidString.lowercased(), outcome: outcome, requestID: requestID))
        }
        switch outcome {
        case .rotated(let family):
            await record(family, "auth.token.refresh", "200")
            return try await pair(for: family, refresh: successor, now: now)
        case .unknown:
            throw OAuthError(.invalidGrant, "the refresh token is not one this service issued")
        case .expired(let family):
            await record(family, "auth.token.refresh_expired", "400")
            throw OAuthError(.invalidGrant, "the refresh token has expired; sign in again")
        case .familyRevoked(let family):
            await record(family, "auth.token.refresh_revoked", "400")
            throw OAuthError(.invalidGrant, "the refresh token was revoked; sign in again")
        case .reused(let family):
            logger.warning("refresh token reused: its session is revoked",
                           metadata: ["family": "\(family.id)", "tenant": "\(family.tenant)", "subject": "\(family.subject)", "requestId": "\(requestID)"])
            await record(family, "auth.token.reuse_detected", "400")
            throw OAuthError(.invalidGrant, "the refresh token was already used; its session is revoked, sign in again")
        }
    }

    private func pair(for family: RefreshTokenFamily, refresh: RefreshToken, now: Date) async throws -> TokenPair {
        let access = try await AuthKeys.mintDevToken(secret: secret, issuer: configuration.issuer, audience: configuration.audience,
                                                     subject: family.subject, tenant: family.tenant, role: family.role,
                                                     lifetime: configuration.accessTokenLifetime, now: now)
        return TokenPair(accessToken: access, expiresIn: Int(configuration.accessTokenLifetime), refreshToken: refresh, familyID: family.id)
    }
}
