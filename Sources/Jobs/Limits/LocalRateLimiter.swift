import Foundation
import Synchronization

/// Buckets in this process's memory: right for the embedded default (one process). Several
/// replicas share their buckets through PostgreSQL instead (`PostgresRateLimiter`).
public final class LocalRateLimiter: RateLimiter {
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init() {}

    public func consume(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> RateLimitDecision {
        buckets.withLock { buckets in
            var b = buckets[bucket] ?? TokenBucket(full: policy, at: now)
            let decision = b.take(policy: policy, now: now)
            buckets[bucket] = b
            return decision
        }
    }
}
