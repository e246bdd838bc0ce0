/// Why the job service refused a request. Each case maps to one error code of openapi.yml.
public enum JobServiceError: Error, Equatable, Sendable {
    case invalidRequest(String)
    case unsupportedJobType(String)
    case notFound
    case forbidden(String)
    case idempotencyKeyReused
    case idempotencyInProgress
    case quotaExceeded(String)
    case notCancellable(JobStatus)
    case jobNotFinished(JobStatus)
    case notConfidential
    case invalidConfiguration(String)
}
