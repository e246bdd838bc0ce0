import Foundation
import Jobs
import TFHE

/// The key service's operations as the rest of the service sees them, whichever process holds
/// the key-encryption key: this one (`LocalKeyService`, the single-machine default) or
/// `fhe-jobs keyservice` (`RemoteKeyService`, over a Unix socket or mutual TLS). So that API
/// processes may hold no key-encryption key, nothing secret crosses this boundary: a key set
/// is described by its public parts, and a result is opened and sealed to its owner (HPKE)
/// inside the key service, so neither a secret key nor a plaintext ever leaves it.
public protocol KeyService: Sendable {
    /// The parameter set of every key set (the API's own; a remote key service's key sets are
    /// checked against it).
    var parameters: ParameterSet { get }

    /// The owner's key set, made now if it has none. `tenant` and `owner` are the caller's
    /// verified principal.
    func ownerKeySet(tenant: String, owner: String) async throws -> OwnerKeySet

    /// Opens a confidential job's result under its owner's key set and seals it to the owner
    /// (result retrieval's key-service step). The caller has checked the token, the job and
    /// consumed the nonce; the key service checks the owner's signature again itself.
    /// Refusals are `JobServiceError.refused` with the codes of openapi.yml.
    func openSealed(_ request: SealedOpening) async throws -> SealedResult
}

/// A key set's public description: what `GET /v1/fhe/keys` and submissions need, never the
/// wrapped secret key.
public struct OwnerKeySet: Sendable, Equatable, Codable {
    public var id: String
    public var tenant: String
    public var owner: String
    public var parameterSet: String
    public var parameterFingerprint: String
    public var publicKeyBlob: String
    public var publicKeyBytes: Int
    public var serverKeyBlob: String
    public var serverKeyBytes: Int

    public init(_ record: KeySetRecord) {
        id = record.id; tenant = record.tenant; owner = record.owner; parameterSet = record.parameterSet
        parameterFingerprint = record.parameterFingerprint; publicKeyBlob = record.publicKeyBlob
        publicKeyBytes = record.publicKeyBytes; serverKeyBlob = record.serverKeyBlob; serverKeyBytes = record.serverKeyBytes
    }
}

/// What the key service needs to open one result for its owner: the job's facts as the API
/// read them, and the retrieval request as the client signed it (openapi.yml, "fhe-result").
public struct SealedOpening: Sendable, Equatable, Codable {
    public var tenant: String
    public var owner: String
    public var jobID: JobID
    public var keySetID: String
    public var resultBlob: String
    public var resultHash: String
    public var outputs: [FHEOutput]
    /// The job's `client_public_key` (P-256 SPKI PEM).
    public var clientPublicKey: String
    public var nonce: String
    public var signature: String
    /// The request's `sealingKey` bytes (P-256 uncompressed or X-Wing), checked again on arrival.
    public var sealingKey: Data?

    public init(tenant: String, owner: String, jobID: JobID, keySetID: String, resultBlob: String, resultHash: String,
                outputs: [FHEOutput], clientPublicKey: String, nonce: String, signature: String, sealingKey: Data?) {
        self.tenant = tenant; self.owner = owner; self.jobID = jobID; self.keySetID = keySetID; self.resultBlob = resultBlob
        self.resultHash = resultHash; self.outputs = outputs; self.clientPublicKey = clientPublicKey; self.nonce = nonce
        self.signature = signature; self.sealingKey = sealingKey
    }
}

/// A result sealed to its owner (HPKE, RFC 9180), and how long the key service's steps took.
public struct SealedResult: Sendable, Equatable, Codable {
    public var suite: HPKESuiteIDs
    public var enc: Data
    public var ciphertext: Data
    public var resultReadNanoseconds: Int64
    public var decryptionNanoseconds: Int64
    public var sealNanoseconds: Int64

    public init(suite: HPKESuiteIDs, enc: Data, ciphertext: Data, resultRead: Duration, decryption: Duration, seal: Duration) {
        self.suite = suite; self.enc = enc; self.ciphertext = ciphertext
        resultReadNanoseconds = Self.nanoseconds(resultRead); decryptionNanoseconds = Self.nanoseconds(decryption)
        sealNanoseconds = Self.nanoseconds(seal)
    }

    public var resultRead: Duration { .nanoseconds(resultReadNanoseconds) }
    public var decryption: Duration { .nanoseconds(decryptionNanoseconds) }
    public var seal: Duration { .nanoseconds(sealNanoseconds) }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
