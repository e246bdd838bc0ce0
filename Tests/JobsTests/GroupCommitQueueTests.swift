import Foundation
import Jobs
import Synchronization
import Testing

/// `GroupCommitQueue` without a database: a flush that the test holds open, so what arrives
/// meanwhile is known to wait, and the batches it makes are seen exactly.
@Suite("Group commit queue") struct GroupCommitQueueTests {
    /// A queue over a flush that records its batches, answers `item * 10` per item (or fails
    /// the batch holding `failing`), and waits for `gate` before answering its first batch.
    final class Harness: Sendable {
        let gate: TestGate
        private let recorder: BatchRecorder
        let queue: GroupCommitQueue<Int, Int>

        init(maxItems: Int = 64, maxBytes: Int = .max, failing: Int? = nil) {
            let gate = TestGate(), recorder = BatchRecorder()
            self.gate = gate
            self.recorder = recorder
            queue = GroupCommitQueue(maxItems: maxItems, maxBytes: maxBytes, size: { $0 }) { batch in
                if recorder.record(batch) == 1 { await gate.wait() }
                if let failing, batch.contains(failing) { throw TestFlushError() }
                return batch.map { .success($0 * 10) }
            }
        }

        var batches: [[Int]] { recorder.batches }

        /// Starts a submission; returns once the queue holds it (in flight or waiting).
        func submit(_ item: Int) async throws -> Task<Int, any Error> {
            let before = queue.statistics
            let task = Task { try await queue.submit(item) }
            try await waitUntil { let now = self.queue.statistics; return now.items + now.waiting > before.items + before.waiting }
            return task
        }
    }

    @Test func theFirstCallerFlushesAtOnceAndLaterOnesAreGathered() async throws {
        let h = Harness()
        let first = try await h.submit(0)
        // Nothing in flight: the first item is written at once, not held to gather others.
        try await waitUntil { h.queue.statistics.flushes == 1 && h.queue.statistics.waiting == 0 }
        var later: [Task<Int, any Error>] = []
        for item in 1...10 { later.append(try await h.submit(item)) }
        #expect(h.queue.statistics.waiting == 10)
        h.gate.open()
        #expect(try await first.value == 0)
        for (index, task) in later.enumerated() { #expect(try await task.value == (index + 1) * 10) }
        #expect(h.batches.count == 2)
        #expect(h.batches.first == [0])
        #expect(Set(h.batches.last ?? []) == Set(1...10))
        #expect(h.queue.statistics.largestBatch == 10 && h.queue.statistics.items == 11)
    }

    @Test func batchesKeepToTheirItemAndByteCaps() async throws {
        let byCount = Harness(maxItems: 4)
        let first = try await byCount.submit(0)
        var tasks: [Task<Int, any Error>] = []
        for item in 1...10 { tasks.append(try await byCount.submit(item)) }
        byCount.gate.open()
        _ = try await first.value
        for task in tasks { _ = try await task.value }
        #expect(byCount.batches.map(\.count) == [1, 4, 4, 2])

        // Sizes are the items themselves: 100 goes alone (larger than the cap by itself).
        let byBytes = Harness(maxBytes: 10)
        let head = try await byBytes.submit(1)
        tasks = []
        for item in [4, 5, 100, 3, 3] { tasks.append(try await byBytes.submit(item)) }
        byBytes.gate.open()
        _ = try await head.value
        for task in tasks { _ = try await task.value }
        #expect(byBytes.batches == [[1], [4, 5], [100], [3, 3]])
    }

    /// A batch that fails answers each of its callers with the error; the batches before and
    /// after it are written as usual.
    @Test func aFailedFlushFailsEveryCallerOfItsBatchAndNoOther() async throws {
        let h = Harness(maxItems: 3, failing: 5)
        let first = try await h.submit(0)
        var tasks: [Task<Int, any Error>] = []
        for item in 1...6 { tasks.append(try await h.submit(item)) }
        h.gate.open()
        #expect(try await first.value == 0)
        #expect(h.batches.count == 3)
        for (index, task) in tasks.enumerated() {
            let item = index + 1
            if (4...6).contains(item) {
                await #expect(throws: TestFlushError.self) { try await task.value }
            } else {
                #expect(try await task.value == item * 10)
            }
        }
    }

    /// A caller cancelled while its item waits is removed (its item is never written); one
    /// whose item is already in flight gets its outcome. No other caller's item is lost or
    /// written twice.
    @Test func cancellationRemovesOnlyAWaitingItem() async throws {
        let h = Harness()
        let first = try await h.submit(0)
        var tasks: [Task<Int, any Error>] = []
        for item in 1...5 { tasks.append(try await h.submit(item)) }
        tasks[1].cancel()
        tasks[3].cancel()
        first.cancel()
        try await waitUntil { h.queue.statistics.waiting == 3 }
        h.gate.open()
        #expect(try await first.value == 0, "in flight when cancelled: the outcome still comes")
        for (index, task) in tasks.enumerated() {
            if index == 1 || index == 3 {
                await #expect(throws: CancellationError.self) { try await task.value }
            } else {
                #expect(try await task.value == (index + 1) * 10)
            }
        }
        #expect(h.batches == [[0], [1, 3, 5]])
    }

    @Test func aCallerCancelledBeforeItArrivesIsNeverWritten() async throws {
        let h = Harness()
        h.gate.open()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await h.queue.submit(7)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(h.batches.isEmpty)
        #expect(try await h.queue.submit(8) == 80)
    }
}

struct TestFlushError: Error {}

/// The batches a flush was given, in order.
final class BatchRecorder: Sendable {
    private let recorded = Mutex<[[Int]]>([])

    /// Records `batch`; answers how many batches there have been, this one included.
    func record(_ batch: [Int]) -> Int {
        recorded.withLock { batches in
            batches.append(batch)
            return batches.count
        }
    }

    var batches: [[Int]] { recorded.withLock { $0 } }
}

/// Opened once; every waiter before and after goes on.
final class TestGate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// Polls `condition` every 5 ms for up to 10 s.
func waitUntil(_ condition: @Sendable () async throws -> Bool) async throws {
    for _ in 0..<2000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("the condition did not hold within 10 s")
}
