import Foundation

/// An owner's TFHE key set as the database keeps it: the secret key only wrapped (AES-256-GCM
/// under the key-encryption key, see `KeyWrapping`), the public and server keys as blobs.
/// Only the key service reads `wrappedSecretKey`, and only it can unwrap it.
public struct KeySetRecord: Sendable, Equatable {
    /// Hex SHA-256 of the serialized compressed server key (`KeySetID` in FHEPrograms).
    public var id: String
    public var tenant: String
    public var owner: String
    public var parameterSet: String
    /// The parameter set's fingerprint, hex.
    public var parameterFingerprint: String
    /// nonce || ciphertext || tag of the serialized client key; see `KeyWrapping`.
    public var wrappedSecretKey: Data
    /// Which key-encryption key wrapped it (its SHA-256 prefix), so rotation knows what to rewrap.
    public var kekID: String
    public var publicKeyBlob: String
    public var publicKeyBytes: Int
    public var serverKeyBlob: String
    public var serverKeyBytes: Int
    public var createdAt: Date

    public init(id: String, tenant: String, owner: String, parameterSet: String, parameterFingerprint: String,
                wrappedSecretKey: Data, kekID: String, publicKeyBlob: String, publicKeyBytes: Int,
                serverKeyBlob: String, serverKeyBytes: Int, createdAt: Date) {
        self.id = id; self.tenant = tenant; self.owner = owner; self.parameterSet = parameterSet
        self.parameterFingerprint = parameterFingerprint; self.wrappedSecretKey = wrappedSecretKey; self.kekID = kekID
        self.publicKeyBlob = publicKeyBlob; self.publicKeyBytes = publicKeyBytes
        self.serverKeyBlob = serverKeyBlob; self.serverKeyBytes = serverKeyBytes; self.createdAt = createdAt
    }
}

/// Durable storage of key sets, one per (tenant, owner, parameter set). Both job stores
/// implement it, so that replicas on one PostgreSQL agree on an owner's single key set.
public protocol KeySetStore: Sendable {
    /// Inserts the record unless the owner already has a key set under its parameter set, and
    /// returns the one that is stored: two replicas racing to make an owner's first key set
    /// both get the same, the first one committed.
    func insertKeySet(_ record: KeySetRecord) async throws -> KeySetRecord
    func keySet(tenant: String, owner: String, parameterSet: String) async throws -> KeySetRecord?
    func keySet(id: String) async throws -> KeySetRecord?
    /// Every key set, for export and key-encryption-key rotation.
    func allKeySets() async throws -> [KeySetRecord]
    /// Replaces the wrapped secret key of one key set (rotation); false if it is gone.
    func rewrapKeySet(id: String, wrappedSecretKey: Data, kekID: String) async throws -> Bool
    /// Deletes an owner's key sets (crypto-shredding): their results can never be opened again.
    func deleteKeySets(tenant: String, owner: String) async throws -> [KeySetRecord]
}

/// A compressed server key an owner uploaded (client-key mode): the owner keeps its TFHE
/// secret key and the service never has one. Its bytes are the blob `id` (the SHA-256 of the
/// key file, which is also the key set id its ciphertext files name).
public struct UploadedServerKey: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var owner: String
    public var parameterSet: String
    /// The parameter set's fingerprint, hex.
    public var parameterFingerprint: String
    public var bytes: Int
    public var createdAt: Date

    public init(id: String, tenant: String, owner: String, parameterSet: String, parameterFingerprint: String,
                bytes: Int, createdAt: Date) {
        self.id = id; self.tenant = tenant; self.owner = owner; self.parameterSet = parameterSet
        self.parameterFingerprint = parameterFingerprint; self.bytes = bytes; self.createdAt = createdAt
    }
}

/// Durable storage of uploaded server keys, one row per (tenant, owner, id). Both job stores
/// implement it.
public protocol UploadedServerKeyStore: Sendable {
    /// Inserts the record unless the owner already has this key, and returns the one stored
    /// (an upload repeated, or raced, keeps the first).
    func insertServerKey(_ record: UploadedServerKey) async throws -> UploadedServerKey
    func serverKey(tenant: String, owner: String, id: String) async throws -> UploadedServerKey?
    /// Deletes one of an owner's server keys; the deleted record, or nil if there was none.
    func deleteServerKey(tenant: String, owner: String, id: String) async throws -> UploadedServerKey?
}
