import Foundation
import Jobs
import PostgresNIO

extension PostgresJobStore {
    public func insertRefreshTokenFamily(_ family: RefreshTokenFamily, firstToken: RefreshTokenRecord) async throws {
        let logger = logger
        try await client.transaction(logger: logger) { connection in
            try await connection.query("""
                INSERT INTO refresh_token_families (id, tenant, subject, role, created_at)
                VALUES (\(family.id), \(family.tenant), \(family.subject), \(family.role), \(family.createdAt.microsecondsSince1970))
                """, logger: logger)
            try await Self.insert(firstToken, connection, logger: logger)
        }
    }

    /// The token's row is locked (`FOR UPDATE`) for the transaction, so of two exchanges of
    /// one token the second waits for the first to commit and then reads it used; the
    /// family's row is locked too, so a revocation and a rotation of one family run one after
    /// the other.
    public func exchangeRefreshToken(tokenHash: String, successorHash: String, successorExpiresAt: Date, now: Date) async throws -> RefreshTokenExchange {
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            guard let row = try await connection.rows("SELECT * FROM refresh_tokens WHERE token_hash = \(tokenHash) FOR UPDATE",
                                                      logger: logger).first else {
                return .unknown
            }
            let token = try RefreshTokenRecord(row: row)
            guard let familyRow = try await connection.rows("""
                SELECT * FROM refresh_token_families WHERE id = \(token.familyID) FOR UPDATE
                """, logger: logger).first else {
                throw CorruptRowError(table: "refresh_tokens", key: String(tokenHash.prefix(12)), reason: "names a missing family")
            }
            var family = try RefreshTokenFamily(row: familyRow)
            if family.revokedAt != nil { return .familyRevoked(family) }
            if token.usedAt != nil {
                try await connection.query("""
                    UPDATE refresh_token_families SET revoked_at = \(now.microsecondsSince1970), revocation_reason = 'reuse'
                    WHERE id = \(family.id) AND revoked_at IS NULL
                    """, logger: logger)
                family.revokedAt = now; family.revocationReason = "reuse"
                return .reused(family)
            }
            if token.expiresAt <= now { return .expired(family) }
            try await connection.query("""
                UPDATE refresh_tokens SET used_at = \(now.microsecondsSince1970) WHERE token_hash = \(tokenHash) AND used_at IS NULL
                """, logger: logger)
            try await Self.insert(RefreshTokenRecord(tokenHash: successorHash, familyID: family.id, issuedAt: now,
                                                     expiresAt: successorExpiresAt), connection, logger: logger)
            return .rotated(family)
        }
    }

    public func refreshTokenFamily(id: UUID) async throws -> (family: RefreshTokenFamily, tokens: [RefreshTokenRecord])? {
        guard let row = try await client.rows("SELECT * FROM refresh_token_families WHERE id = \(id)", logger: logger).first else {
            return nil
        }
        let tokens = try await client.rows("""
            SELECT * FROM refresh_tokens WHERE family_id = \(id) ORDER BY issued_at, token_hash
            """, logger: logger).map(RefreshTokenRecord.init(row:))
        return (try RefreshTokenFamily(row: row), tokens)
    }

    private static func insert(_ token: RefreshTokenRecord, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at)
            VALUES (\(token.tokenHash), \(token.familyID), \(token.issuedAt.microsecondsSince1970), \(token.expiresAt.microsecondsSince1970))
            """, logger: logger)
    }
}

extension RefreshTokenFamily {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(id: try cells["id"].decode(UUID.self), tenant: try cells["tenant"].decode(String.self),
                  subject: try cells["subject"].decode(String.self), role: try cells["role"].decode(String.self),
                  createdAt: Date(microsecondsSince1970: try cells["created_at"].decode(Int64.self)),
                  revokedAt: try cells["revoked_at"].decode(Int64?.self).map(Date.init(microsecondsSince1970:)),
                  revocationReason: try cells["revocation_reason"].decode(String?.self))
    }
}

extension RefreshTokenRecord {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(tokenHash: try cells["token_hash"].decode(String.self), familyID: try cells["family_id"].decode(UUID.self),
                  issuedAt: Date(microsecondsSince1970: try cells["issued_at"].decode(Int64.self)),
                  expiresAt: Date(microsecondsSince1970: try cells["expires_at"].decode(Int64.self)),
                  usedAt: try cells["used_at"].decode(Int64?.self).map(Date.init(microsecondsSince1970:)))
    }
}
