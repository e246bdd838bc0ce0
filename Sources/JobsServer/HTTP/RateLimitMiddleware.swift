import Foundation
import HTTPTypes
import Hummingbird
import Jobs

/// The tenant's token bucket, taken once per authenticated request. Every answer carries the
/// headers of draft-ietf-httpapi-ratelimit-headers-10 (section 3 `RateLimit-Policy`, section 4
/// `RateLimit`, as structured fields) and the common `X-RateLimit-*`; a refusal is 429
/// RATE_LIMITED with `Retry-After` (RFC 9110 section 10.2.3).
struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: any RateLimiter
    let plans: TenantPlans
    let responder: ProblemResponder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = RequestScope.principal else { return try await next(request, context) }
        let policy = plans.plan(for: principal.tenant).rateLimit
        let decision = try await limiter.consume(bucket: "tenant:\(principal.tenant)", policy: policy, now: Date())
        let headers = Self.headers(for: decision)
        guard decision.allowed else {
            throw APIProblem(.rateLimited, .tooManyRequests,
                             "the tenant's plan allows \(policy.burst) requests at once and \(policy.ratePerSecond) per second; retry after \(decision.retryAfterSeconds) s",
                             headers: headers, retryAfterSeconds: decision.retryAfterSeconds)
        }
        var response: Response
        do { response = try await next(request, context) } catch { response = responder.response(for: error, request: request) }
        for field in headers { response.headers[field.name] = field.value }
        return response
    }

    static func headers(for d: RateLimitDecision) -> HTTPFields {
        var h = HTTPFields()
        let name = d.policy.name.replacingOccurrences(of: "\"", with: "")
        h[.rateLimitPolicy] = "\"\(name)\";q=\(d.policy.burst);w=\(d.policy.windowSeconds)"
        h[.rateLimit] = "\"\(name)\";r=\(d.remaining);t=\(d.resetSeconds)"
        h[.xRateLimitLimit] = "\(d.policy.burst)"
        h[.xRateLimitRemaining] = "\(d.remaining)"
        h[.xRateLimitReset] = "\(d.resetSeconds)"
        return h
    }
}
