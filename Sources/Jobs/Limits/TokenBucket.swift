import Foundation

/// A tenant's request allowance: `burst` tokens, refilled at `ratePerSecond`.
public struct RateLimitPolicy: Sendable, Equatable, Codable {
    public var name: String
    public var ratePerSecond: Double
    public var burst: Int
    public init(name: String, ratePerSecond: Double, burst: Int) { self.name = name; self.ratePerSecond = ratePerSecond; self.burst = burst }

    /// Seconds an empty bucket takes to fill: the window of the policy's quota.
    public var windowSeconds: Int { max(1, Self.wholeSeconds(Double(burst) / ratePerSecond)) }

    /// Seconds rounded up, kept below 10^9 whatever the figures (plans are validated to stay
    /// there; this keeps a plan built in code from trapping on the conversion).
    static func wholeSeconds(_ seconds: Double) -> Int {
        guard seconds.isFinite else { return seconds < 0 ? 0 : 999_999_999 }
        return Int(min(max(seconds, 0), 999_999_999).rounded(.up))
    }
}

/// What a rate limiter decided, with what the response headers report.
public struct RateLimitDecision: Sendable, Equatable {
    public var allowed: Bool
    public var policy: RateLimitPolicy
    /// Whole tokens left after this request.
    public var remaining: Int
    /// Seconds until the bucket is full again.
    public var resetSeconds: Int
    /// Seconds until one token is available (for `Retry-After` when refused).
    public var retryAfterSeconds: Int
}

/// The token bucket algorithm (the seed's choice): a bucket holds up to `burst` tokens,
/// refilled continuously; each request takes one or is refused.
public struct TokenBucket: Sendable, Equatable {
    public var tokens: Double
    public var updatedAt: Date

    public init(full policy: RateLimitPolicy, at now: Date) { tokens = Double(policy.burst); updatedAt = now }
    public init(tokens: Double, updatedAt: Date) { self.tokens = tokens; self.updatedAt = updatedAt }

    public mutating func take(policy: RateLimitPolicy, now: Date) -> RateLimitDecision {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        tokens = min(Double(policy.burst), tokens + elapsed * policy.ratePerSecond)
        updatedAt = max(updatedAt, now)
        let allowed = tokens >= 1
        if allowed { tokens -= 1 }
        return Self.decision(policy: policy, tokensAfter: tokens, allowed: allowed)
    }

    /// What the headers report, from the tokens left after a request (shared by the stores
    /// that run the bucket arithmetic in SQL).
    public static func decision(policy: RateLimitPolicy, tokensAfter tokens: Double, allowed: Bool) -> RateLimitDecision {
        let missing = Double(policy.burst) - tokens
        return RateLimitDecision(
            allowed: allowed, policy: policy, remaining: tokens.isFinite ? max(0, Int(min(tokens, Double(Int32.max)).rounded(.down))) : 0,
            resetSeconds: RateLimitPolicy.wholeSeconds(missing / policy.ratePerSecond),
            retryAfterSeconds: allowed ? 0 : max(1, RateLimitPolicy.wholeSeconds((1 - tokens) / policy.ratePerSecond)))
    }
}

/// Takes a token from a tenant's bucket.
public protocol RateLimiter: Sendable {
    func consume(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> RateLimitDecision
}
