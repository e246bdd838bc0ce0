import Foundation
import Jobs
import Testing

/// `AttemptDeadlines`: the worker pool's timeouts and heartbeat times. A waiter wakes when its
/// deadline has passed and is fired, or at once when cancelled, and leaves nothing behind
/// either way (a cancelled `Task.sleep` would hold its memory until its deadline).
@Suite("Attempt deadlines") struct AttemptDeadlinesTests {
    @Test func aDueWaiterWakesAndAFutureOneWaits() async throws {
        let deadlines = AttemptDeadlines()
        let start = ContinuousClock.now
        async let soon = deadlines.sleep(until: start + .milliseconds(10))
        async let later = deadlines.sleep(until: start + .seconds(3600))
        while deadlines.pendingCount < 2 { try await Task.sleep(for: .milliseconds(5)) }
        deadlines.fireDue(now: start)   // neither is due yet
        #expect(deadlines.pendingCount == 2)
        deadlines.fireDue(now: start + .milliseconds(10))
        #expect(await soon)
        #expect(deadlines.pendingCount == 1)
        deadlines.fireDue(now: start + .seconds(3600))
        #expect(await later)
        #expect(deadlines.pendingCount == 0)
    }

    @Test func aCancelledWaiterWakesAtOnceAndIsGone() async throws {
        let deadlines = AttemptDeadlines()
        let waiting = Task { await deadlines.sleep(until: .now + .seconds(3600)) }
        while deadlines.pendingCount < 1 { try await Task.sleep(for: .milliseconds(5)) }
        waiting.cancel()
        #expect(await waiting.value == false)
        #expect(deadlines.pendingCount == 0)
        // Cancelled before it waits: false at once, never registered.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await deadlines.sleep(until: .now + .seconds(3600))
        }
        #expect(await early.value == false)
        #expect(deadlines.pendingCount == 0)
    }

    /// Thousands of attempts that end before their deadlines, as every job that finishes
    /// within its timeout does: none stays behind.
    @Test func endedAttemptsLeaveNothing() async {
        let deadlines = AttemptDeadlines()
        for _ in 0..<2_000 {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { await deadlines.sleep(until: .now + .seconds(300)) }
                group.addTask { false }
                _ = await group.next()
                group.cancelAll()
            }
        }
        #expect(deadlines.pendingCount == 0)
    }
}
