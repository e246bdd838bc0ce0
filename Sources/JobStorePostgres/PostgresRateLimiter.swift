import Foundation
import Jobs
import PostgresNIO

/// Token buckets shared by every replica, in the `rate_limit_buckets` table (created by the
/// store's migrations), so a tenant's allowance holds however many replicas serve it. The
/// arithmetic is `TokenBucket.take`'s, as with `LocalRateLimiter`; the row is locked while it
/// runs, so concurrent requests on any replicas take tokens one after another.
public final class PostgresRateLimiter: RateLimiter {
    private let client: PostgresPool
    private let logger: Logger

    /// The client must be running (see `PostgresJobStore`, also for `breaker`: give the
    /// store's, as both are the one database).
    public init(client: PostgresClient, logger: Logger, breaker: CircuitBreaker? = nil, leaseTimeout: Duration = .seconds(10)) {
        self.client = PostgresPool(client, breaker: breaker, leaseTimeout: breaker == nil ? nil : leaseTimeout)
        self.logger = logger
    }

    public func consume(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> RateLimitDecision {
        // One statement, so the row is locked only while it runs (no transaction round trips):
        // the arithmetic of `TokenBucket.take` in SQL. A new bucket starts full, so its first
        // request is allowed.
        let burst = Double(policy.burst), rate = policy.ratePerSecond, t = now.microsecondsSince1970
        let row = try await client.rows("""
            INSERT INTO rate_limit_buckets AS b (bucket, tokens, updated_at, last_allowed)
            VALUES (\(bucket), \(burst - 1), \(t), true)
            ON CONFLICT (bucket) DO UPDATE SET
                tokens = LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate))
                         - CASE WHEN LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate)) >= 1
                                THEN 1 ELSE 0 END,
                updated_at = GREATEST(b.updated_at, \(t)),
                last_allowed = LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate)) >= 1
            RETURNING tokens, last_allowed
            """, logger: logger).first
        guard let row else { throw PostgresRateLimiterError() }
        let (tokens, allowed) = try row.decode((Double, Bool).self)
        return TokenBucket.decision(policy: policy, tokensAfter: tokens, allowed: allowed)
    }
}

struct PostgresRateLimiterError: Error, CustomStringConvertible {
    var description: String { "the rate-limit upsert returned no row" }
}
