import Crypto
import FHEPrograms
import Foundation
import Jobs
import Logging
import Synchronization
import TFHE
import Tracing

/// The confidential half of the job service: `fhe_compute` jobs on encrypted integers.
///
/// At submission (`prepare`, in API processes) it stores the encrypted inputs in the blob
/// store, checks every ciphertext against the owner's key set and the algorithm, and quotes
/// the exact bootstraps. On a worker (`run`) it computes under the key set's server key, never
/// a secret key, and stores the result. The key service (`KeyService`: this process's
/// `LocalKeyService`, or `fhe-jobs keyservice` through `RemoteKeyService`) is only asked for
/// the owner's key set, made on first use, and to open results for their owners; a worker
/// process has no key-encryption key at all.
public final class ConfidentialJobsService: ConfidentialJobs {
    public struct Configuration: Sendable {
        /// The largest encrypted-values file a job may take (inline, uploaded or fetched).
        public var maxInputBytes = 64 << 20
        /// The largest compressed server key an owner may upload (client-key mode); the 128-bit
        /// 2_2 set's is 30 MB.
        public var maxServerKeyBytes = 256 << 20
        /// How long a job's input and result blobs are kept (a blob goes when its last holder expires).
        public var retention: TimeInterval = 30 * 24 * 3600
        /// Seconds one bootstrap of the parameter set takes on one core of the worker machines,
        /// and their cores: the quote's prediction. nil: measured by `calibrate` on this machine.
        public var secondsPerBootstrap: Double?
        public var workerCores = ProcessInfo.processInfo.activeProcessorCount
        public var limits = EncryptedValuesLimits()
        /// The parameter set's JSON as in params/, shown by `GET /v1/fhe/keys`.
        public var parameterDefinition: JSONValue = .object([:])
        /// The service's Ed25519 key that signs retrieval answers (the ledger's key, published
        /// by `GET /v1/fhe/keys`); nil in worker processes, which answer no retrieval.
        public var signingKey: Curve25519.Signing.PrivateKey?
        public init() {}
    }

    public let keys: any KeyService
    let store: any JobStore
    let blobs: FHEBlobs
    let programs: ProgramRegistry
    let cache: ServerKeyCache
    let fetcher: (any EncryptedInputFetcher)?
    let configuration: Configuration
    private let calibration: BootstrapCalibration
    private let logger: Logger

    public init(store: any JobStore, blobs: FHEBlobs, keys: any KeyService, cache: ServerKeyCache,
                fetcher: (any EncryptedInputFetcher)? = nil, programs: ProgramRegistry = .standard,
                configuration: Configuration = .init(), logger: Logger = Logger(label: "fhe-jobs.fhe")) {
        self.store = store; self.blobs = blobs; self.keys = keys; self.cache = cache; self.fetcher = fetcher
        self.programs = programs; self.configuration = configuration; self.logger = logger
        calibration = BootstrapCalibration(fixed: configuration.secondsPerBootstrap)
    }

    public var algorithms: [String] { programs.names }

    /// The embedded key service, when this process has one (the key commands need it), nil
    /// when it reaches `fhe-jobs keyservice`.
    public var localKeys: LocalKeyService? { keys as? LocalKeyService }

    /// Measures the per-bootstrap time for quotes now (about a second: a throwaway key and a
    /// few bootstraps), so that the first submission does not pay for it. API processes call
    /// it as they start; without it the first quote measures.
    public func calibrate() async {
        _ = await calibration.seconds(parameters: parameters)
    }
    var parameters: ParameterSet { keys.parameters }

    // MARK: Submission

    public func prepare(payload: JSONValue, jobID: JobID, principal: Principal, now: Date) async throws -> PreparedConfidentialJob {
        let request = try ConfidentialPayload(payload, securityBits: parameters.securityBits)
        guard let program = programs.program(named: request.algorithm) else {
            throw JobServiceError.unsupportedJobType("no fhe_compute algorithm \"\(request.algorithm.prefix(64))\"")
        }
        let key = try await computeKey(request.serverKeyID, for: principal)
        let hold = BlobHold(holder: .job(jobID), expires: now.addingTimeInterval(configuration.retention))
        let input: FHEBlobs.Stored
        do { input = try await storeInput(request, tenant: principal.tenant, hold: hold) } catch { throw Self.refusal(error) }
        do {
            if let pin = request.pinnedSHA256, pin != input.id {
                throw JobServiceError.refused(Refusal("CHECKSUM_MISMATCH", status: 400,
                                                      "the encrypted data's SHA-256 is \(input.id), not encrypted_data_sha256 \(pin)"))
            }
            let bytes = try await blobs.read(tenant: principal.tenant, id: input.id, limit: configuration.maxInputBytes)
            let parameters = self.parameters, limits = configuration.limits
            let parametersJSON = request.programParameters.canonicalData()
            let (prepared, bootstraps) = try await FHEThreads.run { () throws -> (PreparedProgram, Int) in
                let values = try EncryptedValues(serialized: bytes, parameters: parameters, limits: limits)
                guard values.keySetID.hex == key.keySetID else { throw key.mismatch(values.keySetID) }
                let prepared = try program.prepare(parameters: parametersJSON, inputs: values.shapes)
                return (prepared, try prepared.quote(values, parameters: parameters))
            }
            let quote = FHEQuote(bootstraps: bootstraps, secondsPerBootstrap: await calibration.seconds(parameters: parameters),
                                 cores: configuration.workerCores,
                                 outputs: prepared.outputs.map { FHEOutput(name: $0.name, type: $0.shape.description) })
            let record = ConfidentialJob(
                keySetID: key.keySetID, serverKeyID: request.serverKeyID, parameterSet: parameters.name,
                parameterFingerprint: String(parameters.fingerprint, radix: 16), inputBlob: input.id, inputBytes: input.size,
                clientPublicKey: request.clientPublicKeyPEM, quote: quote)
            let url: String? = if case .url(let u) = request.source { u } else { nil }
            return PreparedConfidentialJob(payload: request.stored(inputBlob: input.id, url: url), record: record)
        } catch {
            try? await blobs.release(tenant: principal.tenant, id: input.id, holder: hold.holder)
            throw Self.refusal(error)
        }
    }

    public func discard(_ prepared: PreparedConfidentialJob, jobID: JobID, tenant: String) async {
        try? await blobs.release(tenant: tenant, id: prepared.record.inputBlob, holder: .job(jobID))
    }

    /// The key a job is computed under: the uploaded server key it names (client-key mode), or
    /// else the owner's key set, made on first use.
    private func computeKey(_ serverKeyID: String?, for principal: Principal) async throws -> ComputeKey {
        if let serverKeyID {
            guard let uploaded = try await store.serverKey(tenant: principal.tenant, owner: principal.subject, id: serverKeyID) else {
                throw JobServiceError.refused(Refusal("SERVER_KEY_NOT_FOUND", status: 400,
                                                      "no server key \(serverKeyID) for this owner (POST /v1/fhe/server-keys uploads one)"))
            }
            return ComputeKey(keySetID: uploaded.id, uploaded: true)
        }
        let keySet = try await keys.ownerKeySet(tenant: principal.tenant, owner: principal.subject)
        return ComputeKey(keySetID: keySet.id, uploaded: false)
    }

    /// The input's blob, held by the job: stored from the inline bytes or the URL, or the
    /// upload's blob given one more holder.
    private func storeInput(_ request: ConfidentialPayload, tenant: String, hold: BlobHold) async throws -> FHEBlobs.Stored {
        switch request.source {
        case .inline(let bytes):
            guard bytes.count <= configuration.maxInputBytes else { throw Self.tooLarge(configuration.maxInputBytes) }
            return try await blobs.put(tenant: tenant, bytes, hold: hold)
        case .uploaded(let id):
            guard let stored = try await blobs.hold(tenant: tenant, id: id, hold: hold) else {
                throw JobServiceError.refused(Refusal("FHE_INPUT_NOT_FOUND", status: 400,
                                                      "no uploaded encrypted data \(id) for this tenant (uploads expire after a day)"))
            }
            return stored
        case .url(let url):
            guard let fetcher else {
                throw JobServiceError.refused(Refusal("URL_NOT_ALLOWED", status: 400,
                                                      "this server fetches no URL (no --fetch-allow-host is configured)"))
            }
            return try await fetcher.fetch(url, limit: configuration.maxInputBytes, into: blobs, tenant: tenant, hold: hold)
        }
    }

    static func tooLarge(_ limit: Int) -> JobServiceError {
        .refused(Refusal("FHE_INPUT_TOO_LARGE", status: 413, "the encrypted data is larger than this server's limit of \(limit) bytes"))
    }

    /// Engine and program errors as the refusals of openapi.yml.
    static func refusal(_ error: any Error) -> any Error {
        switch error {
        case let error as ProgramError:
            let status = switch error.code {
            case .keySetMismatch, .invalidParameters, .invalidInput: 422
            case .malformedCiphertext: 400
            case .stopped: 409
            }
            return JobServiceError.refused(Refusal(error.code.rawValue, status: status, error.message))
        case let error as SerializationError:
            return JobServiceError.refused(Refusal("MALFORMED_CIPHERTEXT", status: 400, error.description))
        case let error as TFHEError:
            return JobServiceError.refused(Refusal("INVALID_FHE_INPUT", status: 422, error.description))
        case BlobStoreError.tooLarge(let limit):
            return tooLarge(limit)
        default:
            return error
        }
    }

    // MARK: Running

    public func run(_ job: Job, progress: @escaping @Sendable (Int) -> Void) async throws -> ConfidentialResult {
        guard let record = job.fhe else { throw JobInputError("the job has no confidential record") }
        let serverKeyBlob: (id: String, bytes: Int)
        if let serverKeyID = record.serverKeyID {
            guard let uploaded = try await store.serverKey(tenant: job.tenant, owner: job.owner, id: serverKeyID) else {
                throw JobInputError("the job's server key \(serverKeyID) was deleted by its owner")
            }
            serverKeyBlob = (uploaded.id, uploaded.bytes)
        } else {
            guard let keySet = try await store.keySet(id: record.keySetID) else {
                throw JobInputError("the job's key set \(record.keySetID) was deleted: its owner's keys were shredded")
            }
            serverKeyBlob = (keySet.serverKeyBlob, keySet.serverKeyBytes)
        }
        let request = try ConfidentialPayload(job.payload, securityBits: parameters.securityBits)
        guard let program = programs.program(named: request.algorithm) else {
            throw JobInputError("this worker has no fhe_compute algorithm \(request.algorithm)")
        }
        let parameters = self.parameters
        let blobs = self.blobs, tenant = job.tenant
        let keyStarted = ContinuousClock.now
        let serverKey = try await withSpan(JobSpans.serverKey) { span in
            let loaded = LoadFlag()
            let key = try await cache.key(id: record.keySetID, parameters: parameters) {
                loaded.value.store(true, ordering: .relaxed)
                return try await blobs.read(tenant: tenant, id: serverKeyBlob.id, limit: serverKeyBlob.bytes)
            }
            span.attributes[JobSpans.cacheHit] = !loaded.value.load(ordering: .relaxed)
            return key
        }
        let keySeconds = (ContinuousClock.now - keyStarted).seconds
        let input = try await blobs.read(tenant: tenant, id: record.inputBlob, limit: record.inputBytes)
        let parametersJSON = request.programParameters.canonicalData()
        let limits = configuration.limits
        let started = ContinuousClock.now
        let (output, performed) = try await withSpan(JobSpans.evaluate) { span in
            let layers = LayerSpans()
            defer { layers.finish() }
            let (output, performed) = try await FHEThreads.run { () throws -> (Data, Int) in
                let values = try EncryptedValues(serialized: input, parameters: parameters, limits: limits)
                let prepared = try program.prepare(parameters: parametersJSON, inputs: values.shapes)
                // Called before each layer: the layers before it are done.
                let started = LayerCount()
                let key = serverKey.observing { layer in
                    // Between two layers: a cancelled job (or one past its timeout) stops here.
                    if Task.isCancelled { throw CancellationError() }
                    layers.begin(bootstraps: layer)
                    progress(started.value.add(layer, ordering: .relaxed).oldValue)
                }
                let result = try prepared.run(values, key: key)
                return (try result.serialized(), key.bootstrapCount)
            }
            span.attributes[JobSpans.bootstraps] = performed
            return (output, performed)
        }
        let fheSeconds = (ContinuousClock.now - started).seconds
        await calibration.observe(seconds: fheSeconds, bootstraps: performed, cores: ProcessInfo.processInfo.activeProcessorCount)
        let hold = BlobHold(holder: .job(job.id), expires: Date().addingTimeInterval(configuration.retention))
        let stored = try await blobs.put(tenant: tenant, output, hold: hold)
        let digest = ConfidentialResultDigest.digest(
            algorithm: request.algorithm, parameters: request.parameters, keySetID: record.keySetID,
            serverKeyID: record.serverKeyID, inputBlob: record.inputBlob, resultBlob: stored.id)
        let summary: JSONValue = .object([
            "result_blob": .string(stored.id), "result_bytes": .number(Double(stored.size)),
            "bootstraps": .number(Double(performed)),
            // Where the worker's time went: the encrypted evaluation itself, and getting the
            // server key ready (0 when this worker had it expanded already).
            "fhe_seconds": .number((fheSeconds * 1000).rounded() / 1000),
            "server_key_seconds": .number((keySeconds * 1000).rounded() / 1000),
            "outputs": .array(record.quote.outputs.map { .object(["name": .string($0.name), "type": .string($0.type)]) }),
        ])
        if performed != record.quote.bootstraps {
            logger.error("bootstraps performed differ from the quote", metadata: [
                "job": "\(job.id)", "quoted": "\(record.quote.bootstraps)", "performed": "\(performed)"])
        }
        return ConfidentialResult(summary: summary, resultHash: digest, resultBlob: stored.id, bootstrapsPerformed: performed)
    }
}

extension ConfidentialJobsService {
    /// Sweeps the blob store every `interval` until cancelled: holds past their expiry go, then
    /// blobs no one holds (inputs and results of expired jobs, uploads never used).
    public func sweepBlobs(every interval: Duration = .seconds(600)) async {
        while !Task.isCancelled {
            do {
                let report = try await blobs.store.sweep(now: Date())
                if report.blobsDeleted > 0 {
                    logger.info("swept blobs", metadata: ["deleted": "\(report.blobsDeleted)", "bytes": "\(report.bytesFreed)"])
                }
            } catch {
                logger.error("blob sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// The key set a submission's inputs must name, and whether it is an uploaded server key.
struct ComputeKey {
    let keySetID: String
    let uploaded: Bool

    func mismatch(_ found: KeySetID) -> ProgramError {
        let expected = uploaded ? "the server key it names is \(keySetID)" : "this owner's key set is \(keySetID) (GET /v1/fhe/keys)"
        return ProgramError(.keySetMismatch, "the inputs were encrypted under key set \(found.hex); \(expected): "
                            + "a ciphertext made under another key cannot be used")
    }
}

/// Bootstraps of the layers a running job has started.
private final class LayerCount: Sendable {
    let value = Atomic<Int>(0)
}

/// Whether the server key had to be read from the blob store (not in this worker's cache).
private final class LoadFlag: Sendable {
    let value = Atomic<Bool>(false)
}
