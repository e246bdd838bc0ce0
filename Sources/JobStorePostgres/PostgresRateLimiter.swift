import Foundation
import Jobs
import PostgresNIO
import Synchronization

/// Token buckets shared by every replica, in the `rate_limit_buckets` table (created by the
/// store's migrations), so a tenant's allowance holds however many replicas serve it. The
/// arithmetic is `TokenBucket.take`'s, as with `LocalRateLimiter`; the row is locked while it
/// runs, so concurrent requests on any replicas take tokens one after another.
///
/// A busy bucket is not asked once per request: each process takes tokens from the shared
/// bucket in batches (`batchSize`) and spends them locally, one per request, so a tenant's
/// requests cost one round trip per batch. The shared bucket counts every token when it is
/// taken, so the limit holds with this tolerance:
///
/// - **Bound.** A process holds at most `batchSize - 1` tokens taken but not yet spent (it
///   takes a batch only when it holds none, one batch at a time per bucket). Tokens a process
///   took before an interval and spends in it are the only ones the shared bucket did not
///   count in it, so over any interval of `T` seconds a tenant served by `P` processes is
///   allowed at most `burst + rate * T + P * (batchSize - 1)` requests, where an exact limiter
///   allows `burst + rate * T`. `batchSize` is at most a tenth of the burst and a tenth of a
///   second of the rate (and at most `maxBatch`), so the excess is at most `P` tenths of
///   either; a plan whose tenth is under two tokens gets batches of one, the exact limiter.
/// - **The other way.** Tokens held by one process are not available to another, so while a
///   tenant's load moves between processes, one may refuse a request while another holds up to
///   `batchSize - 1` tokens; the held tokens are spent by that process's next requests.
///
/// The headers' `remaining` is the shared bucket's count at the last batch plus the tokens
/// this process holds.
public final class PostgresRateLimiter: RateLimiter {
    private let client: PostgresPool
    private let logger: Logger
    private let held = Mutex<[String: HeldTokens]>([:])

    /// The largest batch of tokens taken at once.
    public static let maxBatch = 100

    /// Tokens a process takes from the shared bucket at once for this policy (see the bound
    /// above): a tenth of the burst and a tenth of a second's refill, at most `maxBatch`, at
    /// least 1.
    public static func batchSize(for policy: RateLimitPolicy) -> Int {
        let tenthOfBurst = Double(policy.burst) / 10, tenthOfSecond = policy.ratePerSecond / 10
        let size = min(tenthOfBurst, tenthOfSecond, Double(maxBatch))
        return size.isFinite && size >= 1 ? Int(size) : 1
    }

    /// This process's share of one bucket.
    private struct HeldTokens {
        /// Tokens taken from the shared bucket and not yet spent.
        var tokens = 0
        /// The shared bucket's tokens after the last take.
        var sharedTokens = 0.0
        /// The take under way, which other requests for the bucket wait for.
        var take: Task<(left: Double, taken: Int), any Error>?
    }

    /// The client must be running (see `PostgresJobStore`, also for `breaker`: give the
    /// store's, as both are the one database).
    public init(client: PostgresClient, logger: Logger, breaker: CircuitBreaker? = nil, leaseTimeout: Duration = .seconds(10),
                queryTimeout: Duration = .seconds(10)) {
        self.client = PostgresPool(client, breaker: breaker, leaseTimeout: breaker == nil ? nil : leaseTimeout,
                                   useTimeout: breaker == nil ? nil : queryTimeout)
        self.logger = logger
    }

    public func consume(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> RateLimitDecision {
        let batch = Self.batchSize(for: policy)
        guard batch > 1 else {
            let (left, taken) = try await take(bucket: bucket, policy: policy, upTo: 1, now: now)
            return TokenBucket.decision(policy: policy, tokensAfter: left, allowed: taken == 1)
        }
        while true {
            enum Next { case allowed(remaining: Double), wait(Task<(left: Double, taken: Int), any Error>) }
            let next: Next = held.withLock { buckets in
                var mine = buckets[bucket] ?? HeldTokens()
                defer { buckets[bucket] = mine }
                if mine.tokens > 0 {
                    mine.tokens -= 1
                    return .allowed(remaining: mine.sharedTokens + Double(mine.tokens))
                }
                if let take = mine.take { return .wait(take) }
                // None held and none coming: take a batch; the requests that come meanwhile
                // wait for it rather than asking the database too.
                let take = Task { [self] in
                    let result: (left: Double, taken: Int)
                    do { result = try await self.take(bucket: bucket, policy: policy, upTo: batch, now: now) } catch {
                        self.held.withLock { buckets in buckets[bucket]?.take = nil }
                        throw error
                    }
                    self.held.withLock { buckets in
                        buckets[bucket, default: HeldTokens()].tokens += result.taken
                        buckets[bucket, default: HeldTokens()].sharedTokens = result.left
                        buckets[bucket, default: HeldTokens()].take = nil
                    }
                    return result
                }
                mine.take = take
                return .wait(take)
            }
            switch next {
            case .allowed(let remaining):
                return TokenBucket.decision(policy: policy, tokensAfter: remaining, allowed: true)
            case .wait(let take):
                // A batch came in: go round and spend one of it (or, if others spent it all
                // first, take the next); an empty shared bucket refuses everyone who waited.
                let (left, taken) = try await take.value
                if taken == 0 { return TokenBucket.decision(policy: policy, tokensAfter: left, allowed: false) }
            }
        }
    }

    /// Takes up to `count` whole tokens from the shared bucket in one statement (the row is
    /// locked only while it runs: no transaction round trips), all it has if fewer: the
    /// arithmetic of `TokenBucket.take` in SQL, `count` tokens at a time. A new bucket starts
    /// full, so its first request is allowed. Returns the tokens left in the shared bucket and
    /// the number taken (0: refused).
    private func take(bucket: String, policy: RateLimitPolicy, upTo count: Int, now: Date) async throws -> (left: Double, taken: Int) {
        let burst = Double(policy.burst), rate = policy.ratePerSecond, t = now.microsecondsSince1970
        let wanted = Double(count)
        // `available` is the bucket refilled up to now; `taken` its whole tokens, at most `wanted`.
        let row = try await client.rows("""
            INSERT INTO rate_limit_buckets AS b (bucket, tokens, updated_at, last_allowed, last_taken)
            VALUES (\(bucket), \(burst) - LEAST(\(wanted), floor(\(burst))), \(t), \(burst) >= 1, LEAST(\(wanted), floor(\(burst))))
            ON CONFLICT (bucket) DO UPDATE SET
                tokens = LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate))
                         - LEAST(\(wanted), floor(LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate)))),
                updated_at = GREATEST(b.updated_at, \(t)),
                last_taken = LEAST(\(wanted), floor(LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate)))),
                last_allowed = LEAST(\(burst), b.tokens + GREATEST(0, \(t) - b.updated_at)::double precision / 1e6 * \(rate)) >= 1
            RETURNING tokens, last_taken
            """, logger: logger).first
        guard let row else { throw PostgresRateLimiterError() }
        let (tokens, taken) = try row.decode((Double, Double).self)
        return (tokens, Int(taken))
    }
}

struct PostgresRateLimiterError: Error, CustomStringConvertible {
    var description: String { "the rate-limit upsert returned no row" }
}
