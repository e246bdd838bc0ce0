import Foundation
import Synchronization

/// Wakes idle workers when a job is queued, so pick-up does not wait for the next poll. In one
/// process the submitter signals it directly; across processes PostgreSQL's LISTEN/NOTIFY
/// does (the PostgreSQL store signals it when a notification arrives).
public final class QueueWakeup: Sendable {
    private struct State {
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
        /// A signal with nobody waiting is kept, so a worker about to wait does not miss it.
        var pending = false
    }
    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            if s.waiters.isEmpty { s.pending = true; return [] }
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Returns at the next signal or after `timeout`, whichever is first (or at once on
    /// cancellation).
    public func wait(timeout: Duration) async {
        let id = state.withLock { s -> UInt64? in
            if s.pending { s.pending = false; return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { c in
                        let resumeNow = self.state.withLock { s -> Bool in
                            if s.pending { s.pending = false; return true }
                            // Cancelled before registering: onCancel found nothing to resume.
                            if Task.isCancelled { return true }
                            s.waiters[id] = c
                            return false
                        }
                        if resumeNow { c.resume() }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
