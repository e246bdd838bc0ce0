import Foundation
import Jobs
import PostgresNIO

extension PostgresJobStore {
    public func insertKeySet(_ record: KeySetRecord) async throws -> KeySetRecord {
        // The unique (tenant, owner, parameter_set) makes the first committed key set the one:
        // a racing replica's insert does nothing and it reads the winner's.
        try await client.query("""
            INSERT INTO fhe_key_sets (id, tenant, owner, parameter_set, parameter_fingerprint, wrapped_secret_key, kek_id,
                                      public_key_blob, public_key_bytes, server_key_blob, server_key_bytes, created_at)
            VALUES (\(record.id), \(record.tenant), \(record.owner), \(record.parameterSet), \(record.parameterFingerprint),
                    \(record.wrappedSecretKey), \(record.kekID), \(record.publicKeyBlob), \(Int64(record.publicKeyBytes)),
                    \(record.serverKeyBlob), \(Int64(record.serverKeyBytes)), \(record.createdAt.microsecondsSince1970))
            ON CONFLICT DO NOTHING
            """, logger: logger)
        guard let stored = try await keySet(tenant: record.tenant, owner: record.owner, parameterSet: record.parameterSet) else {
            throw CorruptRowError(table: "fhe_key_sets", key: record.id, reason: "collides with another owner's key set")
        }
        return stored
    }

    public func keySet(tenant: String, owner: String, parameterSet: String) async throws -> KeySetRecord? {
        try await client.rows("""
            SELECT * FROM fhe_key_sets WHERE tenant = \(tenant) AND owner = \(owner) AND parameter_set = \(parameterSet)
            """, logger: logger).first.map(KeySetRecord.init(row:))
    }

    public func keySet(id: String) async throws -> KeySetRecord? {
        try await client.rows("SELECT * FROM fhe_key_sets WHERE id = \(id)", logger: logger).first.map(KeySetRecord.init(row:))
    }

    public func allKeySets() async throws -> [KeySetRecord] {
        try await client.rows("SELECT * FROM fhe_key_sets ORDER BY created_at, id", logger: logger).map(KeySetRecord.init(row:))
    }

    public func rewrapKeySet(id: String, wrappedSecretKey: Data, kekID: String) async throws -> Bool {
        try await !client.rows("""
            UPDATE fhe_key_sets SET wrapped_secret_key = \(wrappedSecretKey), kek_id = \(kekID) WHERE id = \(id) RETURNING id
            """, logger: logger).isEmpty
    }

    public func deleteKeySets(tenant: String, owner: String) async throws -> [KeySetRecord] {
        try await client.rows("""
            DELETE FROM fhe_key_sets WHERE tenant = \(tenant) AND owner = \(owner) RETURNING *
            """, logger: logger).map(KeySetRecord.init(row:))
    }
}

extension PostgresJobStore {
    public func insertServerKey(_ record: UploadedServerKey) async throws -> UploadedServerKey {
        try await client.query("""
            INSERT INTO fhe_server_keys (tenant, owner, id, parameter_set, parameter_fingerprint, bytes, created_at)
            VALUES (\(record.tenant), \(record.owner), \(record.id), \(record.parameterSet), \(record.parameterFingerprint),
                    \(Int64(record.bytes)), \(record.createdAt.microsecondsSince1970))
            ON CONFLICT DO NOTHING
            """, logger: logger)
        guard let stored = try await serverKey(tenant: record.tenant, owner: record.owner, id: record.id) else {
            throw CorruptRowError(table: "fhe_server_keys", key: record.id, reason: "vanished as it was inserted")
        }
        return stored
    }

    public func serverKey(tenant: String, owner: String, id: String) async throws -> UploadedServerKey? {
        try await client.rows("""
            SELECT * FROM fhe_server_keys WHERE tenant = \(tenant) AND owner = \(owner) AND id = \(id)
            """, logger: logger).first.map(UploadedServerKey.init(row:))
    }

    public func deleteServerKey(tenant: String, owner: String, id: String) async throws -> UploadedServerKey? {
        try await client.rows("""
            DELETE FROM fhe_server_keys WHERE tenant = \(tenant) AND owner = \(owner) AND id = \(id) RETURNING *
            """, logger: logger).first.map(UploadedServerKey.init(row:))
    }
}
