import Metrics
import Synchronization

/// Group commit: writes that arrive while one is in flight are gathered and written together,
/// by one statement and one commit, each caller getting its own outcome.
///
/// A store whose cost per write is mostly per statement and per commit (a round trip, a
/// transaction, a WAL flush) pays it once per batch instead of once per write. Nothing waits
/// to fill a batch: when no flush is in flight, the first caller's write starts at once (no
/// added latency at low load); while one is in flight, later callers queue, and the next
/// flush takes up to `maxItems` of them (and at most `maxBytes`, though a single larger item
/// still goes alone). One flush is in flight at a time.
///
/// `flush` answers one result per item, in order: one item's refusal (or error) leaves the
/// others alone. If `flush` throws, the whole batch failed (nothing of it was written, or the
/// store cannot tell), and every caller in it gets that error.
///
/// Cancellation: a caller cancelled while its item waits is removed and gets
/// `CancellationError` (its item is never written); once its item is in a flush, it waits for
/// the outcome (the flush runs in a task of its own, which no caller's cancellation reaches),
/// so no caller is told "not written" about an item that was, and no item is written twice.
public final class GroupCommitQueue<Item: Sendable, Outcome: Sendable>: Sendable {
    public typealias Flush = @Sendable (_ batch: [Item]) async throws -> [Result<Outcome, any Error>]

    public let maxItems: Int
    public let maxBytes: Int
    private let size: @Sendable (Item) -> Int
    private let flush: Flush
    private let batchRows: Recorder?
    private let state = Mutex(State())

    private struct Waiter {
        var id: UInt64
        var item: Item
        var bytes: Int
        var continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var pending: [Waiter] = []
        var flushing = false
        var nextID: UInt64 = 0
        var statistics = GroupCommitStatistics()
    }

    /// - Parameters:
    ///   - size: an item's bytes, as counted against `maxBytes`.
    ///   - metricLabel: with one, the rows of each flush are recorded in a histogram of that name.
    public init(maxItems: Int, maxBytes: Int, metricLabel: String? = nil, size: @escaping @Sendable (Item) -> Int,
                flush: @escaping Flush) {
        self.maxItems = max(1, maxItems)
        self.maxBytes = maxBytes
        self.size = size
        self.flush = flush
        batchRows = metricLabel.map { Recorder(label: $0, aggregate: true) }
    }

    public var statistics: GroupCommitStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.waiting = state.pending.count
            return statistics
        }
    }

    /// Writes `item` with whatever else is waiting, and answers its own outcome.
    public func submit(_ item: Item) async throws -> Outcome {
        let bytes = size(item)
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let startsFlushing = state.withLock { state -> Bool in
                    // Checked under the lock: a cancellation that came before this point has
                    // set the flag (its handler found nothing to remove); one after finds the item.
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return false
                    }
                    state.pending.append(Waiter(id: id, item: item, bytes: bytes, continuation: continuation))
                    if state.flushing { return false }
                    state.flushing = true
                    return true
                }
                if startsFlushing { Task { await self.drain() } }
            }
        } onCancel: {
            let removed = state.withLock { state -> Waiter? in
                guard let index = state.pending.firstIndex(where: { $0.id == id }) else { return nil }
                return state.pending.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Flushes batches until none is waiting.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                let batch = Self.take(from: &state.pending, maxItems: maxItems, maxBytes: maxBytes)
                if batch.isEmpty {
                    state.flushing = false
                } else {
                    state.statistics.flushes += 1
                    state.statistics.items += batch.count
                    state.statistics.largestBatch = max(state.statistics.largestBatch, batch.count)
                }
                return batch
            }
            if batch.isEmpty { return }
            batchRows?.record(batch.count)
            let results: [Result<Outcome, any Error>]
            do {
                let answered = try await flush(batch.map(\.item))
                results = answered.count == batch.count
                    ? answered
                    : Array(repeating: .failure(GroupCommitError.outcomeCount(expected: batch.count, got: answered.count)), count: batch.count)
            } catch {
                results = Array(repeating: .failure(error), count: batch.count)
            }
            for (waiter, result) in zip(batch, results) { waiter.continuation.resume(with: result) }
        }
    }

    /// The oldest waiting items, up to the limits (the first one whatever its size).
    private static func take(from pending: inout [Waiter], maxItems: Int, maxBytes: Int) -> [Waiter] {
        var count = 0, bytes = 0
        while count < pending.count, count < maxItems {
            let next = pending[count].bytes
            if count > 0, bytes + next > maxBytes { break }
            bytes += next
            count += 1
        }
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        return batch
    }
}

/// The histogram of the rows each submission statement (or transaction) wrote, on the
/// operator's metrics listener: how much group commit gathers under the load of the moment.
public enum SubmissionBatchMetric {
    public static let label = "fhe_jobs_submission_batch_rows"
    /// Powers of two up to the largest batch the stores write.
    public static let buckets: [Double] = [1, 2, 4, 8, 16, 32, 64]
}

/// What a `GroupCommitQueue` has flushed so far (for tests and benchmarks).
public struct GroupCommitStatistics: Sendable, Equatable {
    /// Flushes started.
    public var flushes = 0
    /// Items in those flushes.
    public var items = 0
    public var largestBatch = 0
    /// Items waiting now for the flush in flight to end.
    public var waiting = 0
}

/// A flush answered a number of outcomes other than its batch's: a bug of the store, reported
/// to every caller of the batch rather than guessed at.
public enum GroupCommitError: Error, CustomStringConvertible {
    case outcomeCount(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .outcomeCount(let expected, let got): "a group commit answered \(got) outcomes for \(expected) items"
        }
    }
}
