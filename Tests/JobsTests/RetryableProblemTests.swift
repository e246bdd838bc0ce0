import Foundation
import HTTPTypes
import Jobs
@testable import JobsServer
import Logging
import OpenAPIRuntime
import Testing

/// The one table from typed errors to problems: whether each may be retried, and when.
@Suite("Retryable problems") struct RetryableProblemTests {
    @Test func everyCodeTakesASideAndOnlyWaitsAreRetryable() {
        let retryable = Set(APIProblem.Code.allCases.filter(APIProblem.isRetryable).map(\.rawValue))
        #expect(retryable == ["RATE_LIMITED", "QUOTA_EXCEEDED", "IDEMPOTENCY_IN_PROGRESS", "SERVICE_UNAVAILABLE",
                              "QUEUE_FULL", "JOB_NOT_FINISHED", "FETCH_FAILED", "FETCH_TIMEOUT"])
    }

    @Test func theErrorsPayloadRefinesTheCodesRule() {
        #expect(APIProblem(JobServiceError.jobNotFinished(.running)).retryable)
        #expect(!APIProblem(JobServiceError.jobNotFinished(.failed)).retryable, "a failed job never has a result")
        #expect(!APIProblem(JobServiceError.refused(Refusal("FETCH_FAILED", status: 422, "404", retryable: false))).retryable)
        #expect(APIProblem(JobServiceError.refused(Refusal("FETCH_TIMEOUT", status: 422, "slow"))).retryable)
        let monthly = APIProblem(JobServiceError.quotaExceeded("month", retryAfter: .milliseconds(1_500)))
        #expect(monthly.retryable && monthly.retryAfterSeconds == 2, "rounded up")
        let active = APIProblem(JobServiceError.quotaExceeded("active", retryAfter: nil))
        #expect(active.retryable && active.retryAfterSeconds == nil)
        let full = APIProblem(JobServiceError.queueFull(QueueFullError(queued: 10, limit: 10, retryAfter: .milliseconds(2_100))))
        #expect(full.status == .serviceUnavailable && full.retryable && full.retryAfterSeconds == 3)
        let inProgress = APIProblem(JobServiceError.idempotencyInProgress)
        #expect(inProgress.status == .conflict && inProgress.retryAfterSeconds == 1)
        let invalid = APIProblem(.invalidRequest, .badRequest, "no", retryAfterSeconds: 5)
        #expect(!invalid.retryable && invalid.retryAfterSeconds == nil, "no Retry-After on what a retry cannot fix")
    }

    @Test func anOpenBreakerIsA503WithItsTimeLeft() throws {
        let problem = APIProblem(CircuitOpenError(dependency: "database", retryAfter: .milliseconds(12_300)))
        #expect(problem.status == .serviceUnavailable && problem.code == .serviceUnavailable)
        #expect(problem.retryable && problem.retryAfterSeconds == 13)
        let document = problem.document(requestID: "r", instance: "/v1/jobs")
        #expect(document.retryable == true)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(document)) as? [String: Any]
        #expect(json?["retryable"] as? Bool == true && json?["code"] as? String == "SERVICE_UNAVAILABLE")
    }

    /// A handler that had its input and failed with an error no rule covers is the server's
    /// failure: 500 INTERNAL, not 400 INVALID_REQUEST (which would tell the client to change a
    /// request that was fine). A body that does not decode stays 400.
    @Test func anUnforeseenHandlerFailureIs500NotA400() {
        struct Unforeseen: Error {}
        let responder = ProblemResponder(logger: Logger(label: "test.problems"))
        func serverError(input: (any Sendable)?, _ underlying: any Error) -> ServerError {
            ServerError(operationID: "createJob", request: HTTPRequest(method: .post, scheme: "http", authority: "x", path: "/v1/jobs"),
                        requestBody: nil, requestMetadata: ServerRequestMetadata(), operationInput: input,
                        causeDescription: "User handler threw an error.", underlyingError: underlying)
        }
        let failed = responder.problem(for: serverError(input: "decoded", Unforeseen()))
        #expect(failed.status == .internalServerError && failed.code == ._internal && !failed.retryable)
        let undecodable = DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not JSON"))
        let refused = responder.problem(for: serverError(input: nil, undecodable))
        #expect(refused.status == .badRequest && refused.code == .invalidRequest)
    }
}
