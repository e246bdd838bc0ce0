import Foundation
import Jobs
import Synchronization
import Testing

/// `Deadlines`: the worker pool's timeouts and heartbeat times and the database pool's bounds.
/// An entry fires once its deadline has passed, or never if cancelled first, and leaves nothing
/// behind either way (a cancelled `Task.sleep` would hold its memory until its deadline); the
/// loop that fires them runs only while some are pending.
@Suite("Deadlines") struct DeadlinesTests {
    @Test func aDueWaiterWakesAndAFutureOneWaits() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(10), selfTicking: false)
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
        let deadlines = Deadlines(resolution: .milliseconds(10), selfTicking: false)
        let waiting = Task { await deadlines.sleep(until: .now + .seconds(3600)) }
        while deadlines.pendingCount < 1 { try await Task.sleep(for: .milliseconds(5)) }
        waiting.cancel()
        #expect(await waiting.value == false)
        #expect(deadlines.pendingCount == 0)
        // Cancelled before it waits: false at once, nothing left registered.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await deadlines.sleep(until: .now + .seconds(3600))
        }
        #expect(await early.value == false)
        #expect(deadlines.pendingCount == 0)
    }

    /// Thousands of attempts that end before their deadlines, as every job that finishes
    /// within its timeout does: none stays behind, and the loop stops once they are gone.
    @Test func endedAttemptsLeaveNothing() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(20))
        for _ in 0..<2_000 {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { await deadlines.sleep(until: .now + .seconds(300)) }
                group.addTask { false }
                _ = await group.next()
                group.cancelAll()
            }
        }
        #expect(deadlines.pendingCount == 0)
        try await waitUntil { !deadlines.isTicking }
    }

    /// The loop starts itself for the first entry, fires it no more than a resolution or so
    /// late, and stops when nothing is pending; a later entry starts it again.
    @Test func theLoopRunsOnlyWhileSomethingIsPending() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(20))
        #expect(!deadlines.isTicking)
        for _ in 0..<2 {
            let start = ContinuousClock.now
            let woke = await deadlines.sleep(until: start + .milliseconds(50))
            let late = ContinuousClock.now - start - .milliseconds(50)
            #expect(woke)
            #expect(late >= .zero)
            // A bound on firing at all, not a timing: in the full suite the cooperative pool was
            // busy enough that a 50 ms deadline fired 3.8 s late.
            #expect(late < .seconds(30), "fired \(late) late with a 20 ms resolution")
            try await waitUntil { !deadlines.isTicking }
        }
    }

    /// A scheduled action runs once when due; a cancelled one never does, and `cancel` says
    /// which happened.
    @Test func scheduledActionsFireOnceOrNotAtAll() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(10))
        let fired = Atomic<Int>(0)
        let kept = deadlines.schedule(at: .now + .milliseconds(30)) { fired.add(1, ordering: .relaxed) }
        let withdrawn = deadlines.schedule(at: .now + .milliseconds(30)) { fired.add(100, ordering: .relaxed) }
        #expect(deadlines.cancel(withdrawn))
        try await waitUntil { fired.load(ordering: .relaxed) > 0 && !deadlines.isTicking }
        #expect(fired.load(ordering: .relaxed) == 1)
        #expect(!deadlines.cancel(kept), "a fired entry cannot be withdrawn")
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let giveUp = ContinuousClock.now + .seconds(10)
        while !condition() {
            try #require(ContinuousClock.now < giveUp, "condition not met within 10 s")
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
