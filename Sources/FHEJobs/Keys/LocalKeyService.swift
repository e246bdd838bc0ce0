import Crypto
import FHEPrograms
import Foundation
import Jobs
import Logging
import TFHE

/// The key service (the role Zama's KMS plays): the only code that makes or opens an owner's
/// TFHE secret key. Workers never call it; they compute under server keys fetched from the
/// blob store (`ServerKeyCache`). It runs inside `serve` by default, or on its own as
/// `fhe-jobs keyservice` (`KeyServiceServer`), which API processes reach through
/// `RemoteKeyService` and then hold no key-encryption key.
///
/// Each owner (tenant and subject) has a key set of its own, made on first use. A key that
/// decrypts for several parties would be exposed to each of them: a sender who crafts its
/// ciphertexts' masks and has a result decrypted learns key bits (README, "Security"). With a
/// key per owner, an owner who attacks its own key learns only what it could already open.
public final class LocalKeyService: KeyService {
    let store: any KeySetStore
    let blobs: FHEBlobs
    public let parameters: ParameterSet
    /// The largest result file opened (the service's `--fhe-max-input-mb`).
    let maxResultBytes: Int
    private let kek: KeyEncryptionKey?
    private let logger: Logger

    public init(store: any KeySetStore, blobs: FHEBlobs, parameters: ParameterSet, kek: KeyEncryptionKey?,
                maxResultBytes: Int = 64 << 20, logger: Logger = Logger(label: "fhe-jobs.keys")) {
        self.store = store; self.blobs = blobs; self.parameters = parameters; self.kek = kek
        self.maxResultBytes = maxResultBytes; self.logger = logger
    }

    /// Whether this process can make and open secret keys.
    public var holdsKeyEncryptionKey: Bool { kek != nil }

    /// Fails at start-up, with one line, if the key-encryption key does not open the key sets
    /// already stored (a wrong `--kek-file`), rather than at the first retrieval.
    public func checkKeyEncryptionKey() async throws {
        guard let kek else { throw KeyServiceError.keyEncryptionKeyMissing }
        for record in try await store.allKeySets() where record.kekID != kek.id {
            throw KeyServiceError.wrongKeyEncryptionKey(expected: record.kekID, found: kek.id)
        }
    }

    /// The owner's key set, made now if it has none. Replicas racing to make the same owner's
    /// first key set end with one: the first committed (`KeySetStore.insertKeySet`); a loser
    /// releases the blobs of the key set it made.
    public func keySet(tenant: String, owner: String) async throws -> KeySetRecord {
        if let existing = try await store.keySet(tenant: tenant, owner: owner, parameterSet: parameters.name) { return existing }
        guard let kek else { throw KeyServiceError.keyEncryptionKeyMissing }
        let parameters = self.parameters
        var made = try await FHEThreads.run { try GeneratedKeySet(parameters: parameters) }
        defer { made.secret.zeroize() }
        let hold = BlobHold(holder: try BlobHolder("keyset:\(made.id)"), expires: .distantFuture)
        let publicKey = try await blobs.put(tenant: tenant, made.publicKey, hold: hold)
        let serverKey = try await blobs.put(tenant: tenant, made.serverKey, hold: hold)
        let fingerprint = String(parameters.fingerprint, radix: 16)
        let binding = KeyWrapping.Binding(tenant: tenant, owner: owner, keySetID: made.id, parameterFingerprint: fingerprint)
        let record = KeySetRecord(
            id: made.id, tenant: tenant, owner: owner, parameterSet: parameters.name, parameterFingerprint: fingerprint,
            wrappedSecretKey: try KeyWrapping.wrap(made.secret, under: kek, binding: binding), kekID: kek.id,
            publicKeyBlob: publicKey.id, publicKeyBytes: publicKey.size, serverKeyBlob: serverKey.id,
            serverKeyBytes: serverKey.size, createdAt: Date())
        let stored = try await store.insertKeySet(record)
        if stored.id != record.id {
            try? await blobs.release(tenant: tenant, id: publicKey.id, holder: hold.holder)
            try? await blobs.release(tenant: tenant, id: serverKey.id, holder: hold.holder)
        } else {
            logger.info("made a key set", metadata: ["tenant": "\(tenant)", "keySet": "\(record.id)", "parameters": "\(parameters.name)"])
        }
        return stored
    }

    public func ownerKeySet(tenant: String, owner: String) async throws -> OwnerKeySet {
        OwnerKeySet(try await keySet(tenant: tenant, owner: owner))
    }

    /// The client key of a key set, unwrapped; the caller drops it as soon as it is done (its
    /// key material is zeroized on deinit).
    func clientKey(of record: KeySetRecord) throws -> ClientKey<UInt64> {
        guard let kek else { throw KeyServiceError.keyEncryptionKeyMissing }
        guard record.kekID == kek.id else { throw KeyServiceError.wrongKeyEncryptionKey(expected: record.kekID, found: kek.id) }
        let binding = KeyWrapping.Binding(tenant: record.tenant, owner: record.owner, keySetID: record.id,
                                          parameterFingerprint: record.parameterFingerprint)
        var secret = try KeyWrapping.unwrap(record.wrappedSecretKey, under: kek, binding: binding)
        defer { secret.zeroize() }
        return try ClientKey<UInt64>(serialized: secret, parameters: parameters)
    }

    /// Decrypts an encrypted-values file made under a key set (for result retrieval).
    public func decrypt(_ file: Data, keySet record: KeySetRecord) async throws -> [(String, ClearValue)] {
        let key = try clientKey(of: record)
        let parameters = self.parameters
        return try await FHEThreads.run {
            let values = try EncryptedValues(serialized: file, parameters: parameters)
            return try values.decrypt(with: key)
        }
    }

    /// Re-wraps every key set under `newKey` (key-encryption-key rotation); returns how many.
    public func rotate(to newKey: KeyEncryptionKey) async throws -> Int {
        var count = 0
        for record in try await store.allKeySets() where record.kekID != newKey.id {
            guard let kek, record.kekID == kek.id else {
                throw KeyServiceError.wrongKeyEncryptionKey(expected: record.kekID, found: kek?.id ?? "none")
            }
            let binding = KeyWrapping.Binding(tenant: record.tenant, owner: record.owner, keySetID: record.id,
                                              parameterFingerprint: record.parameterFingerprint)
            var secret = try KeyWrapping.unwrap(record.wrappedSecretKey, under: kek, binding: binding)
            defer { secret.zeroize() }
            let rewrapped = try KeyWrapping.wrap(secret, under: newKey, binding: binding)
            if try await store.rewrapKeySet(id: record.id, wrappedSecretKey: rewrapped, kekID: newKey.id) { count += 1 }
        }
        return count
    }
}

/// A new key set's serialized parts. The secret is the serialized client key, zeroized by
/// the key service once wrapped.
struct GeneratedKeySet {
    var secret: Data
    let publicKey: Data
    let serverKey: Data
    /// Hex SHA-256 of the compressed server key: the key set's id (`KeySetID`).
    let id: String

    init(parameters: ParameterSet) throws {
        let client = try ClientKey<UInt64>(parameters: parameters, seed: .random())
        secret = client.serialized()
        publicKey = try CompressedPublicKey<UInt64>(clientKey: client, seed: .random()).serialized()
        serverKey = CompressedServerKey<UInt64>(clientKey: client, seed: .random()).serialized()
        id = SHA256.hash(data: serverKey).hexString
    }
}
