import Synchronization

/// Admission by queue depth: a submission is refused (503 QUEUE_FULL with `Retry-After`) while
/// the queue holds `maxQueued` jobs or more, so that a load the workers cannot keep up with
/// ends in quick refusals rather than a queue that grows without bound. Found by `scripts/soak`:
/// with the API flat out on SQLite, its 32 connections took most turns at the one writer and
/// the workers finished 40 jobs a second while 890 a second came in.
///
/// The depth is the store's count of queued jobs (every replica sees the same queue), counted
/// at most once per `recountInterval` by one caller while the others go on with the last
/// count, to which each admission here adds one. Between counts, other replicas' submissions
/// are not seen, so the queue may pass the bound by what they admit in one interval.
///
/// The wait answered is how long the workers take to bring the queue back under the bound at
/// the rate they drained it between the last two counts, within 1 to 60 s (5 s before any
/// drain was seen).
public final class QueueAdmission: Sendable {
    public let maxQueued: Int
    public let recountInterval: Duration
    private let count: @Sendable () async throws -> Int

    private struct State {
        /// The last count plus the admissions since.
        var queued: Int?
        var countedAt: ContinuousClock.Instant?
        var counting = false
        /// Jobs that left the queue per second, between the last two counts.
        var drainPerSecond: Double?
    }
    private let state = Mutex(State())

    /// - Parameter count: the number of queued jobs in the store.
    public init(maxQueued: Int, recountInterval: Duration = .seconds(1), count: @escaping @Sendable () async throws -> Int) {
        precondition(maxQueued > 0, "a queue bound must be positive")
        self.maxQueued = maxQueued; self.recountInterval = recountInterval; self.count = count
    }

    /// Returns if a submission may go on (and counts it); throws `QueueFullError` if not.
    /// A count that fails admits: the insert that follows meets the same store and answers
    /// for it (a database that is down is a 503 of its own).
    public func admit(now: ContinuousClock.Instant = .now) async throws(QueueFullError) {
        let mustCount = state.withLock { s -> Bool in
            let stale = s.countedAt.map { now - $0 >= recountInterval } ?? true
            guard stale, !s.counting else { return false }
            s.counting = true
            return true
        }
        if mustCount { await recount(startedAt: now) }
        try state.withLock { s throws(QueueFullError) in
            // No count yet (the first one failed): admit rather than guess.
            guard let queued = s.queued else { return }
            if queued >= maxQueued {
                throw QueueFullError(queued: queued, limit: maxQueued, retryAfter: Self.wait(excess: queued - maxQueued + 1,
                                                                                              drainPerSecond: s.drainPerSecond))
            }
            s.queued = queued + 1
        }
    }

    private func recount(startedAt: ContinuousClock.Instant) async {
        let counted = try? await count()
        state.withLock { s in
            defer { s.counting = false }
            guard let counted else { return }
            // What left the queue since the last count: that count, plus what came in since
            // (seen here), less what is there now.
            if let previous = s.queued, let at = s.countedAt {
                let elapsed = (startedAt - at).seconds
                let drained = previous - counted
                if elapsed > 0, drained > 0 { s.drainPerSecond = Double(drained) / elapsed }
            }
            s.queued = counted
            s.countedAt = startedAt
        }
    }

    static func wait(excess: Int, drainPerSecond: Double?) -> Duration {
        guard let rate = drainPerSecond, rate > 0 else { return .seconds(5) }
        return .seconds(min(60, max(1, (Double(excess) / rate).rounded(.up))))
    }
}

/// The queue holds as many jobs as this server admits; ask again after `retryAfter`.
public struct QueueFullError: Error, Equatable, Sendable, CustomStringConvertible {
    public var queued: Int
    public var limit: Int
    public var retryAfter: Duration

    public init(queued: Int, limit: Int, retryAfter: Duration) {
        self.queued = queued; self.limit = limit; self.retryAfter = retryAfter
    }

    public var description: String {
        "the queue holds \(queued) jobs, this server's limit of \(limit): retry after \(Int(retryAfter.seconds.rounded(.up))) s"
    }
}
