import Foundation
import Jobs
import PostgresNIO

/// Token buckets shared by every replica, in the `rate_limit_buckets` table (created by the
/// store's migrations), so a tenant's allowance holds however many replicas serve it. The
/// arithmetic is `TokenBucket.take`'s, as with `LocalRateLimiter`; the row is locked while it
/// runs, so concurrent requests on any replicas take tokens one after another.
public final class PostgresRateLimiter: RateLimiter {
    private let client: PostgresClient
    private let logger: Logger

    /// The client must be running (see `PostgresJobStore`).
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func consume(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> RateLimitDecision {
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            // A missing bucket starts full; if another request creates it first, the insert
            // does nothing and the next turn takes from that row instead.
            while true {
                if let row = try await connection.rows("""
                    SELECT tokens, updated_at FROM rate_limit_buckets WHERE bucket = \(bucket) FOR UPDATE
                    """, logger: logger).first {
                    let (tokens, updatedAt) = try row.decode((Double, Int64).self)
                    var tokenBucket = TokenBucket(tokens: tokens, updatedAt: Date(microsecondsSince1970: updatedAt))
                    let decision = tokenBucket.take(policy: policy, now: now)
                    try await connection.query("""
                        UPDATE rate_limit_buckets
                        SET tokens = \(tokenBucket.tokens), updated_at = \(tokenBucket.updatedAt.microsecondsSince1970)
                        WHERE bucket = \(bucket)
                        """, logger: logger)
                    return decision
                }
                var tokenBucket = TokenBucket(full: policy, at: now)
                let decision = tokenBucket.take(policy: policy, now: now)
                let inserted = try await connection.rows("""
                    INSERT INTO rate_limit_buckets (bucket, tokens, updated_at)
                    VALUES (\(bucket), \(tokenBucket.tokens), \(tokenBucket.updatedAt.microsecondsSince1970))
                    ON CONFLICT (bucket) DO NOTHING
                    RETURNING bucket
                    """, logger: logger)
                if !inserted.isEmpty { return decision }
            }
        }
    }
}
