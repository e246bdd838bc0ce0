import Foundation

/// The confidential half of the service (`fhe_compute` jobs), implemented by the FHEJobs
/// module, which alone knows TFHE: the job service and the workers only hand jobs to it.
public protocol ConfidentialJobs: Sendable {
    /// The algorithms it runs.
    var algorithms: [String] { get }

    /// Checks an `fhe_compute` payload, stores its encrypted inputs in the blob store (held by
    /// the job `jobID`), checks every ciphertext against the owner's key set and the algorithm,
    /// and quotes the job. Returns the payload to store (inputs replaced by their blob
    /// reference) and the job's confidential record. Refusals are `JobServiceError.refused`.
    func prepare(payload: JSONValue, jobID: JobID, principal: Principal, now: Date) async throws -> PreparedConfidentialJob

    /// Forgets the inputs of a prepared job that was not queued after all (quota, idempotency).
    func discard(_ prepared: PreparedConfidentialJob, jobID: JobID, tenant: String) async

    /// Runs a leased job on this worker: reads its inputs, computes under its server key with
    /// `progress` told the bootstraps done, stores the result blob. Returns once the result is
    /// stored; throws `CancellationError` if the task is cancelled (checked between bootstrap
    /// layers).
    func run(_ job: Job, progress: @escaping @Sendable (Int) -> Void) async throws -> ConfidentialResult

    /// Answers a result retrieval of a finished confidential job (the key service's part):
    /// checks the client's signature, consumes the nonce, opens the result and seals it to the
    /// client (or, in client-key mode, hands over the result ciphertext), and signs the answer.
    /// Refusals are `JobServiceError.refused` with the codes of openapi.yml.
    func retrieve(_ job: Job, request: ResultRetrievalRequest, now: Date) async throws -> ResultRetrievalAnswer

    // MARK: Keys and uploads, for the HTTP API

    /// The caller's key set (made on first use) and the parameter set: nothing secret.
    func keys(for principal: Principal) async throws -> FHEKeysDescription
    /// One of the caller's key files (`public-key` or `server-key`), to stream; nil if it has
    /// no such key set.
    func keyFile(keySetID: String, part: FHEKeyPart, for principal: Principal) async throws -> FHEKeyFile?
    /// Checks an uploaded encrypted-values file against the caller's key set and keeps it for
    /// a day (until a job holds it). `limit` bounds the bytes read from `chunks`.
    func upload<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, limit: Int, for principal: Principal, now: Date)
        async throws -> FHEUpload where Chunks.Element == Data

    // MARK: Client-key mode

    /// Checks an uploaded compressed server key in full (the service's parameter set, every
    /// word, the checksum) and keeps it for the caller until it deletes it. `limit` bounds the
    /// bytes read from `chunks`. Uploading the same key again answers the same record.
    func uploadServerKey<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, limit: Int, for principal: Principal, now: Date)
        async throws -> UploadedServerKey where Chunks.Element == Data
    /// One of the caller's uploaded server keys; nil if it has no such key.
    func serverKey(id: String, for principal: Principal) async throws -> UploadedServerKey?
    /// Deletes one of the caller's server keys; false if it had no such key.
    func deleteServerKey(id: String, for principal: Principal) async throws -> Bool
}

/// A key file to download: its SHA-256 (hex, the blob's content address), its size, and its
/// bytes read as they are sent, never whole into memory (a server key is tens of MB).
public struct FHEKeyFile: Sendable {
    public var sha256: String
    public var bytes: Int
    /// The file, or the bytes of `range` (both ends included), in chunks of about 1 MiB.
    public var read: @Sendable (_ range: ClosedRange<Int>?) async throws -> AsyncThrowingStream<Data, any Error>

    public init(sha256: String, bytes: Int,
                read: @escaping @Sendable (_ range: ClosedRange<Int>?) async throws -> AsyncThrowingStream<Data, any Error>) {
        self.sha256 = sha256; self.bytes = bytes; self.read = read
    }
}

public enum FHEKeyPart: String, Sendable, CaseIterable {
    case publicKey = "public-key"
    case serverKey = "server-key"
}

/// What `GET /v1/fhe/keys` shows.
public struct FHEKeysDescription: Sendable, Equatable {
    public var parameterSet: String
    public var parameterFingerprint: String
    public var securityBits: Int?
    /// The parameter set's JSON, as in params/.
    public var parameterDefinition: JSONValue
    public var keySetID: String
    public var publicKey: (sha256: String, bytes: Int)
    public var serverKey: (sha256: String, bytes: Int)

    public init(parameterSet: String, parameterFingerprint: String, securityBits: Int?, parameterDefinition: JSONValue,
                keySetID: String, publicKey: (sha256: String, bytes: Int), serverKey: (sha256: String, bytes: Int)) {
        self.parameterSet = parameterSet; self.parameterFingerprint = parameterFingerprint; self.securityBits = securityBits
        self.parameterDefinition = parameterDefinition; self.keySetID = keySetID; self.publicKey = publicKey; self.serverKey = serverKey
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.parameterSet == b.parameterSet && a.parameterFingerprint == b.parameterFingerprint && a.securityBits == b.securityBits
            && a.parameterDefinition == b.parameterDefinition && a.keySetID == b.keySetID
            && a.publicKey == b.publicKey && a.serverKey == b.serverKey
    }
}

public struct FHEUpload: Sendable, Equatable {
    public var id: String
    public var bytes: Int
    public var keySetID: String
    public var expiresAt: Date
    public init(id: String, bytes: Int, keySetID: String, expiresAt: Date) {
        self.id = id; self.bytes = bytes; self.keySetID = keySetID; self.expiresAt = expiresAt
    }
}

public struct PreparedConfidentialJob: Sendable, Equatable {
    public var payload: JSONValue
    public var record: ConfidentialJob
    public init(payload: JSONValue, record: ConfidentialJob) { self.payload = payload; self.record = record }
}

/// What a confidential job produced: the result blob and what the chain commits to.
public struct ConfidentialResult: Sendable, Equatable {
    /// The job's `result` as `GET` shows it: the result blob's id and size and the outputs' types
    /// (never a value: values are only opened through `fhe-result`).
    public var summary: JSONValue
    /// The digest confirmed on chain (see `ConfidentialResultDigest`).
    public var resultHash: String
    public var resultBlob: String
    public var bootstrapsPerformed: Int
    public init(summary: JSONValue, resultHash: String, resultBlob: String, bootstrapsPerformed: Int) {
        self.summary = summary; self.resultHash = resultHash; self.resultBlob = resultBlob
        self.bootstrapsPerformed = bootstrapsPerformed
    }
}
