import Foundation
import GRDB
import Jobs

extension SQLiteJobStore {
    public func insertRefreshTokenFamily(_ family: RefreshTokenFamily, firstToken: RefreshTokenRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO refresh_token_families (id, tenant, subject, role, created_at, revoked_at, revocation_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [family.id.uuidString, family.tenant, family.subject, family.role, family.createdAt.microsecondsSince1970,
                                 family.revokedAt?.microsecondsSince1970, family.revocationReason])
            try Self.insert(firstToken, db)
        }
    }

    /// SQLite has one writer at a time, so the read, the checks and the writes of one write
    /// transaction see no other exchange in between: of two exchanges of one token the second
    /// finds it used.
    public func exchangeRefreshToken(tokenHash: String, successorHash: String, successorExpiresAt: Date, now: Date) async throws -> RefreshTokenExchange {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refresh_tokens WHERE token_hash = ?", arguments: [tokenHash]) else {
                return .unknown
            }
            let token = try Self.refreshToken(from: row)
            guard var family = try Self.family(id: token.familyID, db) else {
                throw DatabaseError(message: "refresh token \(tokenHash.prefix(12)) names a missing family")
            }
            if family.revokedAt != nil { return .familyRevoked(family) }
            if token.usedAt != nil {
                try db.execute(sql: """
                    UPDATE refresh_token_families SET revoked_at = ?, revocation_reason = 'reuse' WHERE id = ? AND revoked_at IS NULL
                    """, arguments: [now.microsecondsSince1970, family.id.uuidString])
                family.revokedAt = now; family.revocationReason = "reuse"
                return .reused(family)
            }
            if token.expiresAt <= now { return .expired(family) }
            try db.execute(sql: "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
                           arguments: [now.microsecondsSince1970, tokenHash])
            guard db.changesCount == 1 else { throw DatabaseError(message: "refresh token consumed inside its own transaction") }
            try Self.insert(RefreshTokenRecord(tokenHash: successorHash, familyID: family.id, issuedAt: now, expiresAt: successorExpiresAt), db)
            return .rotated(family)
        }
    }

    public func refreshTokenFamily(id: UUID) async throws -> (family: RefreshTokenFamily, tokens: [RefreshTokenRecord])? {
        try await pool.read { db in
            guard let family = try Self.family(id: id, db) else { return nil }
            let tokens = try Row.fetchAll(db, sql: "SELECT * FROM refresh_tokens WHERE family_id = ? ORDER BY issued_at, token_hash",
                                          arguments: [id.uuidString]).map(Self.refreshToken(from:))
            return (family, tokens)
        }
    }

    private static func insert(_ token: RefreshTokenRecord, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)
            """, arguments: [token.tokenHash, token.familyID.uuidString, token.issuedAt.microsecondsSince1970,
                             token.expiresAt.microsecondsSince1970, token.usedAt?.microsecondsSince1970])
    }

    private static func family(id: UUID, _ db: Database) throws -> RefreshTokenFamily? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refresh_token_families WHERE id = ?", arguments: [id.uuidString]) else {
            return nil
        }
        let revokedAt: Int64? = row["revoked_at"]
        return RefreshTokenFamily(id: id, tenant: row["tenant"], subject: row["subject"], role: row["role"],
                                  createdAt: Date(microsecondsSince1970: row["created_at"]),
                                  revokedAt: revokedAt.map(Date.init(microsecondsSince1970:)), revocationReason: row["revocation_reason"])
    }

    private static func refreshToken(from row: Row) throws -> RefreshTokenRecord {
        let hash: String = row["token_hash"]
        guard let familyID = UUID(uuidString: row["family_id"]) else {
            throw DatabaseError(message: "refresh token \(hash.prefix(12)) has a malformed family id")
        }
        let usedAt: Int64? = row["used_at"]
        return RefreshTokenRecord(tokenHash: hash, familyID: familyID, issuedAt: Date(microsecondsSince1970: row["issued_at"]),
                                  expiresAt: Date(microsecondsSince1970: row["expires_at"]), usedAt: usedAt.map(Date.init(microsecondsSince1970:)))
    }
}
