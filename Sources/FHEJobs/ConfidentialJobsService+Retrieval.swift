import Crypto
import FHEPrograms
import Foundation
import Jobs
import Metrics
import Tracing

/// Result retrieval, the key service's part of `POST /v1/jobs/{jobId}/fhe-result` (after the
/// job service has found the job, seen that it is confidential and finished, and read the
/// body): the signature, then the nonce, then the opening and the seal, then the answer's
/// signature. openapi.yml states the protocol in full.
extension ConfidentialJobsService {
    /// Used nonces a job may hold: retrievals past that are refused (429 RETRIEVAL_LIMIT_REACHED).
    public static let maximumRetrievalsPerJob = 1000

    public func retrieve(_ job: Job, request: ResultRetrievalRequest, now: Date) async throws -> ResultRetrievalAnswer {
        let (answer, timings) = try await retrieveTimed(job, request: request, now: now)
        timings.record(suite: answer.payload)
        return answer
    }

    /// `retrieve`, and how long each of its steps took (`fhe-jobs fhe bench` prints them).
    public func retrieveTimed(_ job: Job, request: ResultRetrievalRequest, now: Date) async throws
        -> (answer: ResultRetrievalAnswer, timings: RetrievalTimings) {
        var timings = RetrievalTimings()
        var clock = RetrievalTimings.Stopwatch()
        guard let record = job.fhe, let resultHash = job.resultHash, let resultBlob = job.result?["result_blob"]?.stringValue else {
            throw JobInputError("the job has no confidential result")
        }
        // The signature: by the key submitted with the job, over this job, nonce and result.
        let message = RetrievalMessages.request(jobID: job.id, nonce: request.nonce, resultHash: resultHash, sealingKey: request.sealingKey)
        guard let owner = try? P256.Signing.PublicKey(pemRepresentation: record.clientPublicKey),
              let signature = RetrievalMessages.signature(request.signature),
              owner.isValidSignature(signature, for: message) else {
            throw JobServiceError.refused(Refusal("INVALID_SIGNATURE", status: 403,
                "clientSignature is not a valid ECDSA P-256 signature of the retrieval message for this job, nonce and result by the job's client_public_key"))
        }
        timings.signatureCheck = clock.lap()
        guard let signingKey = configuration.signingKey else {
            throw JobServiceError.refused(Refusal("KEY_SERVICE_UNAVAILABLE", status: 503, "this process cannot sign answers (no service signing key)"))
        }
        // Consumed before anything is opened: one nonce succeeds once, and a retrieval that
        // fails after this point needs a new nonce.
        switch try await store.consumeRetrievalNonce(jobID: job.id, nonce: request.nonce, limit: Self.maximumRetrievalsPerJob, now: now) {
        case .consumed: break
        case .reused:
            throw JobServiceError.refused(Refusal("NONCE_REUSED", status: 409, "this retrievalNonce was used before for this job: choose a new one"))
        case .limitReached:
            throw JobServiceError.refused(Refusal("RETRIEVAL_LIMIT_REACHED", status: 429,
                "this job's result was retrieved \(Self.maximumRetrievalsPerJob) times, the most a job allows"))
        }
        timings.nonce = clock.lap()

        let payload: ResultRetrievalAnswer.Payload
        let sealedDigest: String
        if record.serverKeyID != nil {
            // Client-key mode: the service has no secret key; the owner opens the ciphertext.
            let file = try await blobs.read(tenant: job.tenant, id: resultBlob, limit: configuration.maxInputBytes)
            timings.resultRead = clock.lap()
            payload = .ciphertext(file)
            sealedDigest = SHA256.hash(data: file).hexString
        } else {
            // Opened and sealed inside the key service (this process's, or `fhe-jobs keyservice`):
            // only the seal comes back.
            let sealed = try await withSpan(JobSpans.openSealed, ofKind: .client) { span in
                span.attributes[JobSpans.jobID] = job.id.uuidString.lowercased()
                return try await keys.openSealed(SealedOpening(
                    tenant: job.tenant, owner: job.owner, jobID: job.id, keySetID: record.keySetID, resultBlob: resultBlob,
                    resultHash: resultHash, outputs: record.quote.outputs, clientPublicKey: record.clientPublicKey,
                    nonce: request.nonce, signature: request.signature, sealingKey: request.sealingKey?.bytes))
            }
            _ = clock.lap()
            timings.resultRead = sealed.resultRead
            timings.decryption = sealed.decryption
            timings.seal = sealed.seal
            payload = .sealed(suite: sealed.suite, enc: sealed.enc, ciphertext: sealed.ciphertext)
            sealedDigest = SHA256.hash(data: sealed.enc + sealed.ciphertext).hexString
        }
        let suite: HPKESuiteIDs? = if case .sealed(let suite, _, _) = payload { suite } else { nil }
        let response = RetrievalMessages.response(jobID: job.id, nonce: request.nonce, resultHash: resultHash, suite: suite,
                                                  sealedDigest: sealedDigest, confirmation: job.confirmation?.reference)
        let serviceSignature = try signingKey.signature(for: response)
        timings.answerSignature = clock.lap()
        return (ResultRetrievalAnswer(jobID: job.id, resultHash: resultHash, payload: payload, confirmation: job.confirmation,
                                      serviceSignature: serviceSignature), timings)
    }
}

/// The key service's steps of one successful retrieval, each timed: the request's signature,
/// the nonce's consumption (a store round trip), the result blob's read, its decryption (the
/// owner's secret key unwrapped and expanded, the outputs decrypted and encoded), the HPKE
/// seal, and the answer's Ed25519 signature. Client-key mode has no decryption or seal.
public struct RetrievalTimings: Sendable {
    public var signatureCheck: Duration = .zero
    public var nonce: Duration = .zero
    public var resultRead: Duration = .zero
    public var decryption: Duration = .zero
    public var seal: Duration = .zero
    public var answerSignature: Duration = .zero

    public init() {}

    public var total: Duration { signatureCheck + nonce + resultRead + decryption + seal + answerSignature }

    /// The steps by the names the metric's `phase` label and the bench's table use.
    public var phases: [(name: String, duration: Duration)] {
        [("signature_check", signatureCheck), ("nonce", nonce), ("result_read", resultRead),
         ("decryption", decryption), ("seal", seal), ("answer_signature", answerSignature)]
    }

    /// Into `fhe_jobs_result_retrieval_seconds{phase, suite}` on the operator's metrics listener.
    func record(suite payload: ResultRetrievalAnswer.Payload) {
        let suite = switch payload {
        case .sealed(let ids, _, _): ids == .xWing ? "xwing" : "p256"
        case .ciphertext: "client_key"
        }
        for (name, duration) in phases where !(payload.isCiphertext && (name == "decryption" || name == "seal")) {
            Metrics.Timer(label: "fhe_jobs_result_retrieval_seconds", dimensions: [("phase", name), ("suite", suite)])
                .recordSeconds(duration.seconds)
        }
    }

    /// Laps of a monotonic clock.
    struct Stopwatch {
        private var last = ContinuousClock.now
        mutating func lap() -> Duration {
            let now = ContinuousClock.now
            defer { last = now }
            return now - last
        }
    }
}

private extension ResultRetrievalAnswer.Payload {
    var isCiphertext: Bool { if case .ciphertext = self { true } else { false } }
}
