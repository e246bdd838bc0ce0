import Synchronization

/// The deadlines of running attempts (their timeouts and heartbeats), kept in one table and
/// fired by one loop (`fireDue`, called by `WorkerPool` a few times a second), rather than one
/// `Task.sleep` per attempt.
///
/// Why: on Linux a `Task.sleep` that is cancelled still holds its task and a Dispatch timer
/// until its deadline passes (about 740 bytes each, measured). Every attempt that ends before
/// its timeout cancels that sleep, so a 300 s timeout per job held about 70 MB in a server
/// taking 300 sha256 jobs a second (`scripts/soak`, BENCHMARKS.md). A waiter here is removed
/// from the table the moment it is cancelled, and nothing of it outlives its attempt.
public final class AttemptDeadlines: Sendable {
    private struct Waiter {
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, Never>
    }
    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Waits until `deadline` has passed and `fireDue` has seen it (true), or until the task is
    /// cancelled (false, at once).
    public func sleep(until deadline: ContinuousClock.Instant) async -> Bool {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = state.withLock { s -> Bool in
                    // Cancelled before registering: the handler below found nothing to resume.
                    if Task.isCancelled { return true }
                    s.waiters[id] = Waiter(deadline: deadline, continuation: continuation)
                    return false
                }
                if cancelled { continuation.resume(returning: false) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: false)
        }
    }

    /// Wakes every waiter whose deadline is at or before `now`.
    public func fireDue(now: ContinuousClock.Instant = .now) {
        let due = state.withLock { s -> [Waiter] in
            let due = s.waiters.filter { $0.value.deadline <= now }
            for id in due.keys { s.waiters.removeValue(forKey: id) }
            return Array(due.values)
        }
        for waiter in due { waiter.continuation.resume(returning: true) }
    }

    /// Waiters not yet woken or cancelled.
    public var pendingCount: Int { state.withLock { $0.waiters.count } }
}
