import Foundation
import Jobs
import JobStorePostgres
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL rate limiter's token batches (`PostgresRateLimiter`): each process takes
/// tokens from the shared bucket several at a time, and the shared limit holds within the
/// documented bound, `burst + rate * T + processes * (batchSize - 1)` over any `T` seconds.
@Suite("Rate limiter token batches") struct RateLimiterTests {
    static let policy = RateLimitPolicy(name: "batched", ratePerSecond: 1000, burst: 50)

    @Test func batchesAreATenthOfTheBurstAndOfASecondsRate() {
        #expect(PostgresRateLimiter.batchSize(for: Self.policy) == 5)
        // The default plan (20/s, bursts of 40): two at a time.
        #expect(PostgresRateLimiter.batchSize(for: TenantPlans().default.rateLimit) == 2)
        // Small plans keep the exact limiter: one token per request.
        #expect(PostgresRateLimiter.batchSize(for: RateLimitPolicy(name: "tiny", ratePerSecond: 0.5, burst: 3)) == 1)
        #expect(PostgresRateLimiter.batchSize(for: RateLimitPolicy(name: "slow", ratePerSecond: 5, burst: 1000)) == 1)
        #expect(PostgresRateLimiter.batchSize(for: RateLimitPolicy(name: "huge", ratePerSecond: 1e9, burst: 1_000_000_000)) == PostgresRateLimiter.maxBatch)
    }

    /// Consumes at one instant until refused; the number allowed.
    static func drain(_ limiter: PostgresRateLimiter, bucket: String, at now: Date, limit: Int = 1000) async throws -> Int {
        var allowed = 0
        while allowed < limit, try await limiter.consume(bucket: bucket, policy: policy, now: now).allowed { allowed += 1 }
        return allowed
    }

    @Test func twoProcessesShareOneBucketWithinTheBound() async throws {
        try await withStore(.postgres) { _, context in
            let client = try #require(context.postgresClient)
            let logger = Logger(label: "test.rate-limit")
            let a = PostgresRateLimiter(client: client, logger: logger), b = PostgresRateLimiter(client: client, logger: logger)
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            // At one instant nothing refills: the two together are allowed the burst, no more.
            #expect(try await a.consume(bucket: "tenant:acme", policy: Self.policy, now: t0).allowed)  // a holds 4 more
            let byB = try await Self.drain(b, bucket: "tenant:acme", at: t0)
            let byA = try await Self.drain(a, bucket: "tenant:acme", at: t0)
            #expect(byB == 45 && byA == 4)

            // The worst case of the bound: each process holds a batch less one when the shared
            // bucket is full again, and spends it on top of the burst.
            let t1 = t0.addingTimeInterval(60), t2 = t1.addingTimeInterval(60)
            #expect(try await a.consume(bucket: "tenant:acme", policy: Self.policy, now: t1).allowed)
            #expect(try await b.consume(bucket: "tenant:acme", policy: Self.policy, now: t1).allowed)
            let burstAndHeld = try await Self.drain(a, bucket: "tenant:acme", at: t2) + Self.drain(b, bucket: "tenant:acme", at: t2)
            let bound = Self.policy.burst + 2 * (PostgresRateLimiter.batchSize(for: Self.policy) - 1)
            #expect(burstAndHeld == bound)

            // The refusal reports the shared bucket: empty, a token in 1 ms (Retry-After 1 s).
            let refused = try await a.consume(bucket: "tenant:acme", policy: Self.policy, now: t2)
            #expect(!refused.allowed && refused.remaining == 0 && refused.retryAfterSeconds == 1)
            // Other buckets are apart.
            #expect(try await Self.drain(a, bucket: "tenant:globex", at: t2) == Self.policy.burst)
        }
    }

    /// Concurrent requests of one process wait for the batch under way rather than each
    /// asking the database: every token taken is spent, none is lost or spent twice.
    @Test func concurrentRequestsSpendEveryTokenOnce() async throws {
        try await withStore(.postgres) { _, context in
            let client = try #require(context.postgresClient)
            let limiter = PostgresRateLimiter(client: client, logger: Logger(label: "test.rate-limit"))
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await limiter.consume(bucket: "tenant:acme", policy: Self.policy, now: now).allowed }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == Self.policy.burst)
            let left = try await client.query("SELECT tokens FROM rate_limit_buckets WHERE bucket = 'tenant:acme'")
                .collect().first?.decode(Double.self)
            #expect(left == 0)
        }
    }
}
