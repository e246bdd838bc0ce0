import Foundation
import HTTPTypes
import Jobs

/// An error answered as RFC 9457 problem details with one of openapi.yml's error codes.
package struct APIProblem: Error, Sendable {
    typealias Code = Components.Schemas.ErrorCode

    var code: Code
    var status: HTTPResponse.Status
    var detail: String
    /// Headers the answer carries besides the problem (rate-limit headers).
    var headers: HTTPFields = [:]
    /// JOB_TOO_EXPENSIVE: the quote that passed the plan's limit.
    var quote: FHEQuote?
    /// Whether the same request may succeed later: the code's rule (``isRetryable(_:)``)
    /// unless the error said more (a fetch that failed on a 4xx, a job that ended).
    var retryable: Bool
    /// Seconds for `Retry-After`, where a retry makes sense and the wait is known.
    var retryAfterSeconds: Int?

    init(_ code: Code, _ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:],
         retryable: Bool? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code; self.status = status; self.detail = detail; self.headers = headers
        self.retryable = retryable ?? Self.isRetryable(code)
        self.retryAfterSeconds = self.retryable ? retryAfterSeconds.map { max(1, $0) } : nil
    }

    /// Whether a request answered with `code` may succeed if sent again unchanged. One rule per
    /// code, stated in openapi.yml's `Problem.retryable`; the switch is exhaustive, so a new
    /// code takes a side here.
    static func isRetryable(_ code: Code) -> Bool {
        switch code {
        // The wait ends: a token, next month's quota or a finished job, the first request with
        // the same key, a dependency back up (or its breaker's probe), a host that answers again,
        // workers that make room in the queue.
        case .rateLimited, .quotaExceeded, .idempotencyInProgress, .serviceUnavailable, .queueFull,
             .jobNotFinished, .fetchFailed, .fetchTimeout:
            true
        // The request itself must change (or the caller's token, key, plan or nonce).
        case .invalidRequest, .unauthenticated, .forbidden, .notFound, .methodNotAllowed, .unsupportedMediaType,
             .payloadTooLarge, .unsupportedJobType, .idempotencyKeyReused, .jobNotCancellable, .notConfidentialJob,
             .fheTypeMismatch, .invalidClientPublicKey, .missingEncryptedData, .malformedCiphertext, .keySetMismatch,
             .invalidFheInput, .invalidParameters, .unsupportedFheParameters, .fheInputNotFound, .fheInputTooLarge,
             .checksumMismatch, .urlNotAllowed, .addressNotAllowed, .fetchTooLarge, .redirectNotAllowed,
             .tooManyRedirects, .jobTooExpensive, .serverKeyNotFound, .serverKeyTooLarge, .invalidServerKey,
             .invalidSignature, .nonceReused, .retrievalLimitReached, .keySetDeleted:
            false
        // This process is configured without the key-encryption or signing key: no wait helps.
        case .keyServiceUnavailable:
            false
        // A failure we did not foresee: nothing says a retry would fare better, and a client
        // that retried every 500 would multiply the load of a bug.
        case ._internal:
            false
        }
    }

    /// A dependency's circuit breaker is open: 503, to be retried when it lets a probe through.
    init(_ error: CircuitOpenError) {
        self.init(.serviceUnavailable, .serviceUnavailable,
                  "\(error.dependency) is failing; this server stopped calling it for now. Retry after \(error.retryAfterSeconds) s",
                  retryAfterSeconds: error.retryAfterSeconds)
    }

    /// A dependency failed to answer while its breaker was closed: 503, retryable, with no
    /// Retry-After since when it recovers is not known. The reason stays in the logs.
    init(_ error: DependencyUnavailable) {
        self.init(.serviceUnavailable, .serviceUnavailable, "\(error.dependency) did not answer; retry later")
    }

    static func unauthenticated(_ detail: String) -> APIProblem { APIProblem(.unauthenticated, .unauthorized, detail) }
    static func invalid(_ detail: String) -> APIProblem { APIProblem(.invalidRequest, .badRequest, detail) }
    static let internalError = APIProblem(._internal, .internalServerError, "the server failed to answer; the request id identifies it in the logs")

    init(_ error: JobServiceError) {
        switch error {
        case .invalidRequest(let d): self.init(.invalidRequest, .badRequest, d)
        case .unsupportedJobType(let d): self.init(.unsupportedJobType, .unprocessableContent, d)
        case .notFound: self.init(.notFound, .notFound, "no such job")
        case .forbidden(let d): self.init(.forbidden, .forbidden, d)
        case .idempotencyKeyReused:
            self.init(.idempotencyKeyReused, .unprocessableContent, "this Idempotency-Key was used with a different request body")
        case .idempotencyInProgress:
            // The first request usually ends within a second; a retry then gets its answer.
            self.init(.idempotencyInProgress, .conflict, "a request with this Idempotency-Key is still being processed; retry shortly",
                      retryAfterSeconds: 1)
        case .quotaExceeded(let d, let retryAfter):
            self.init(.quotaExceeded, .tooManyRequests, d, retryAfterSeconds: retryAfter.map { Int($0.seconds.rounded(.up)) })
        case .queueFull(let full):
            self.init(.queueFull, .serviceUnavailable, full.description,
                      retryAfterSeconds: Int(full.retryAfter.seconds.rounded(.up)))
        case .notCancellable(let s): self.init(.jobNotCancellable, .conflict, "the job is \(s.rawValue) and can no longer be cancelled")
        case .jobNotFinished(let s):
            // A job that failed or was cancelled never has a result; one queued or running will.
            self.init(.jobNotFinished, .conflict, "the job is \(s.rawValue); its result is not ready", retryable: !s.isTerminal)
        case .notConfidential: self.init(.notConfidentialJob, .conflict, "the job was not submitted with useFHE: true; read its result with GET /v1/jobs/{jobId}")
        case .invalidConfiguration(let d): self.init(._internal, .internalServerError, d)
        case .refused(let refusal):
            // Every code a refusal can carry is in openapi.yml's ErrorCode; one that is not is a
            // bug of ours, answered as such rather than with a code the contract lacks.
            guard let code = Code(rawValue: refusal.code) else {
                self.init(._internal, .internalServerError, "refused with an undocumented code \(refusal.code): \(refusal.message)")
                return
            }
            self.init(code, HTTPResponse.Status(code: refusal.status), refusal.message, retryable: refusal.retryable)
            quote = refusal.quote
        }
    }

    var title: String {
        switch code {
        case .invalidRequest: "Invalid request"
        case .unauthenticated: "Authentication required"
        case .forbidden: "Forbidden"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .unsupportedMediaType: "Unsupported media type"
        case .payloadTooLarge: "Payload too large"
        case .unsupportedJobType: "Unsupported job type"
        case .idempotencyKeyReused: "Idempotency key reused"
        case .idempotencyInProgress: "Idempotent request in progress"
        case .rateLimited: "Rate limit exceeded"
        case .quotaExceeded: "Quota exceeded"
        case .jobNotFinished: "Job not finished"
        case .jobNotCancellable: "Job not cancellable"
        case .notConfidentialJob: "Not a confidential job"
        case .fheTypeMismatch: "Job type and useFHE disagree"
        case .invalidClientPublicKey: "Invalid client public key"
        case .missingEncryptedData: "Missing encrypted data"
        case .malformedCiphertext: "Malformed ciphertext"
        case .keySetMismatch: "Ciphertext under another key set"
        case .invalidFheInput: "Invalid encrypted input"
        case .invalidParameters: "Invalid algorithm parameters"
        case .unsupportedFheParameters: "Unsupported FHE parameters"
        case .fheInputNotFound: "Encrypted input not found"
        case .fheInputTooLarge: "Encrypted input too large"
        case .checksumMismatch: "Checksum mismatch"
        case .urlNotAllowed: "URL not allowed"
        case .addressNotAllowed: "Address not allowed"
        case .fetchFailed: "Fetch failed"
        case .fetchTooLarge: "Fetched data too large"
        case .fetchTimeout: "Fetch timed out"
        case .redirectNotAllowed: "Redirect not allowed"
        case .tooManyRedirects: "Too many redirects"
        case .jobTooExpensive: "Job too expensive"
        case .serverKeyNotFound: "Server key not found"
        case .serverKeyTooLarge: "Server key too large"
        case .invalidServerKey: "Invalid server key"
        case .invalidSignature: "Invalid signature"
        case .nonceReused: "Nonce reused"
        case .retrievalLimitReached: "Retrieval limit reached"
        case .keySetDeleted: "Key set deleted"
        case .keyServiceUnavailable: "Key service unavailable"
        case .serviceUnavailable: "Service unavailable"
        case .queueFull: "Queue full"
        case ._internal: "Internal error"
        }
    }

    func document(requestID: String, instance: String?) -> Components.Schemas.Problem {
        Components.Schemas.Problem(_type: "urn:fhe-jobs:problem:\(code.rawValue)", title: title, status: status.code,
                                   detail: detail, instance: instance, code: code, retryable: retryable, requestId: requestID,
                                   quote: quote.map(Representations.quote))
    }
}
