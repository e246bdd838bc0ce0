import Foundation
import GRDB
import Jobs

extension SQLiteJobStore {
    public func insertKeySet(_ record: KeySetRecord) async throws -> KeySetRecord {
        try await pool.write { db in
            // The unique (tenant, owner, parameter_set) makes the first committed key set the one.
            try db.execute(sql: """
                INSERT INTO fhe_key_sets (id, tenant, owner, parameter_set, parameter_fingerprint, wrapped_secret_key, kek_id,
                                          public_key_blob, public_key_bytes, server_key_blob, server_key_bytes, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [record.id, record.tenant, record.owner, record.parameterSet, record.parameterFingerprint,
                                 record.wrappedSecretKey, record.kekID, record.publicKeyBlob, record.publicKeyBytes,
                                 record.serverKeyBlob, record.serverKeyBytes, record.createdAt.microsecondsSince1970])
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM fhe_key_sets WHERE tenant = ? AND owner = ? AND parameter_set = ?
                """, arguments: [record.tenant, record.owner, record.parameterSet]) else {
                throw DatabaseError(message: "key set \(record.id) collides with another owner's")
            }
            return Self.keySet(from: row)
        }
    }

    public func keySet(tenant: String, owner: String, parameterSet: String) async throws -> KeySetRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM fhe_key_sets WHERE tenant = ? AND owner = ? AND parameter_set = ?",
                             arguments: [tenant, owner, parameterSet]).map(Self.keySet(from:))
        }
    }

    public func keySet(id: String) async throws -> KeySetRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM fhe_key_sets WHERE id = ?", arguments: [id]).map(Self.keySet(from:))
        }
    }

    public func allKeySets() async throws -> [KeySetRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM fhe_key_sets ORDER BY created_at, id").map(Self.keySet(from:))
        }
    }

    public func rewrapKeySet(id: String, wrappedSecretKey: Data, kekID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE fhe_key_sets SET wrapped_secret_key = ?, kek_id = ? WHERE id = ?",
                           arguments: [wrappedSecretKey, kekID, id])
            return db.changesCount == 1
        }
    }

    public func deleteKeySets(tenant: String, owner: String) async throws -> [KeySetRecord] {
        try await pool.write { db in
            try Row.fetchAll(db, sql: "DELETE FROM fhe_key_sets WHERE tenant = ? AND owner = ? RETURNING *",
                             arguments: [tenant, owner]).map(Self.keySet(from:))
        }
    }

    static func keySet(from row: Row) -> KeySetRecord {
        KeySetRecord(id: row["id"], tenant: row["tenant"], owner: row["owner"], parameterSet: row["parameter_set"],
                     parameterFingerprint: row["parameter_fingerprint"], wrappedSecretKey: row["wrapped_secret_key"],
                     kekID: row["kek_id"], publicKeyBlob: row["public_key_blob"], publicKeyBytes: row["public_key_bytes"],
                     serverKeyBlob: row["server_key_blob"], serverKeyBytes: row["server_key_bytes"],
                     createdAt: Date(microsecondsSince1970: row["created_at"]))
    }
}

extension SQLiteJobStore {
    public func insertServerKey(_ record: UploadedServerKey) async throws -> UploadedServerKey {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO fhe_server_keys (tenant, owner, id, parameter_set, parameter_fingerprint, bytes, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [record.tenant, record.owner, record.id, record.parameterSet, record.parameterFingerprint,
                                 record.bytes, record.createdAt.microsecondsSince1970])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM fhe_server_keys WHERE tenant = ? AND owner = ? AND id = ?",
                                             arguments: [record.tenant, record.owner, record.id]) else {
                throw DatabaseError(message: "server key \(record.id) vanished as it was inserted")
            }
            return Self.serverKey(from: row)
        }
    }

    public func serverKey(tenant: String, owner: String, id: String) async throws -> UploadedServerKey? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM fhe_server_keys WHERE tenant = ? AND owner = ? AND id = ?",
                             arguments: [tenant, owner, id]).map(Self.serverKey(from:))
        }
    }

    public func deleteServerKey(tenant: String, owner: String, id: String) async throws -> UploadedServerKey? {
        try await pool.write { db in
            try Row.fetchOne(db, sql: "DELETE FROM fhe_server_keys WHERE tenant = ? AND owner = ? AND id = ? RETURNING *",
                             arguments: [tenant, owner, id]).map(Self.serverKey(from:))
        }
    }

    static func serverKey(from row: Row) -> UploadedServerKey {
        UploadedServerKey(id: row["id"], tenant: row["tenant"], owner: row["owner"], parameterSet: row["parameter_set"],
                          parameterFingerprint: row["parameter_fingerprint"], bytes: row["bytes"],
                          createdAt: Date(microsecondsSince1970: row["created_at"]))
    }
}
