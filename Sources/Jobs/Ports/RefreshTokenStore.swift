import Foundation

/// A line of refresh tokens issued from one sign-in (`fhe-jobs token --refresh`): each
/// exchange consumes the family's current token and adds its successor. The family carries
/// whom its access tokens are for; revoking it ends every token of the line at once (RFC 6819
/// section 5.2.2.3, OAuth 2.0 Security BCP, RFC 9700 section 4.14.2).
public struct RefreshTokenFamily: Sendable, Equatable {
    public var id: UUID
    public var tenant: String
    public var subject: String
    public var role: String
    public var createdAt: Date
    public var revokedAt: Date?
    /// Why it was revoked (`reuse`: a consumed token was presented again).
    public var revocationReason: String?

    public init(id: UUID = UUID(), tenant: String, subject: String, role: String, createdAt: Date,
                revokedAt: Date? = nil, revocationReason: String? = nil) {
        self.id = id; self.tenant = tenant; self.subject = subject; self.role = role; self.createdAt = createdAt
        self.revokedAt = revokedAt; self.revocationReason = revocationReason
    }
}

/// One refresh token as the database keeps it: only the SHA-256 of the token, never the
/// token (RFC 6819 section 5.1.4.1.3), so a copy of the database grants nothing.
public struct RefreshTokenRecord: Sendable, Equatable {
    /// Hex SHA-256 of the token's text.
    public var tokenHash: String
    public var familyID: UUID
    public var issuedAt: Date
    public var expiresAt: Date
    /// When it was exchanged; a token is exchanged at most once.
    public var usedAt: Date?

    public init(tokenHash: String, familyID: UUID, issuedAt: Date, expiresAt: Date, usedAt: Date? = nil) {
        self.tokenHash = tokenHash; self.familyID = familyID; self.issuedAt = issuedAt; self.expiresAt = expiresAt; self.usedAt = usedAt
    }
}

/// What became of a refresh token presented for exchange.
public enum RefreshTokenExchange: Sendable, Equatable {
    /// It was current: it is consumed and its successor stored, in one transaction.
    case rotated(RefreshTokenFamily)
    /// No such token (never issued, or mistyped).
    case unknown
    /// It expired unused; nothing changed.
    case expired(RefreshTokenFamily)
    /// Its family was revoked earlier; nothing changed.
    case familyRevoked(RefreshTokenFamily)
    /// It had been exchanged already: someone holds a copy, so the family is revoked now
    /// (the returned family shows the revocation).
    case reused(RefreshTokenFamily)
}

/// Durable storage of refresh-token families. Both job stores implement it, so that replicas
/// on one PostgreSQL agree on which token of a family is current.
public protocol RefreshTokenStore: Sendable {
    /// Stores a new family with its first token.
    func insertRefreshTokenFamily(_ family: RefreshTokenFamily, firstToken: RefreshTokenRecord) async throws
    /// Exchanges the token whose hash is `tokenHash`, atomically: of concurrent exchanges of
    /// one token exactly one is `.rotated` (and stores the successor, `successorHash` valid
    /// until `successorExpiresAt`); the others find it consumed and are `.reused`.
    func exchangeRefreshToken(tokenHash: String, successorHash: String, successorExpiresAt: Date, now: Date) async throws -> RefreshTokenExchange
    /// The family and its tokens, oldest first (for tests and investigation).
    func refreshTokenFamily(id: UUID) async throws -> (family: RefreshTokenFamily, tokens: [RefreshTokenRecord])?
}
