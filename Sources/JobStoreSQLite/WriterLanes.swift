import GRDB
import Synchronization

/// SQLite's one writer, taken in two lanes: the queue's own work (leases, heartbeats,
/// completions, confirmations) goes before API requests (submissions, idempotency keys, audit
/// records, cancellations) that are waiting at the same moment, and each lane keeps its order.
///
/// Why: GRDB hands writes to the writer in arrival order. Under a flat-out API its connections
/// kept about 32 submissions ahead of every worker write, so each of a job's few writes waited
/// tens of milliseconds and two workers finished about 55 jobs a second while 1,700 a second
/// were accepted (BENCHMARKS.md, "The queue's writes first at SQLite's writer"). A cap on the
/// API's writes in flight left the writer idle between turns (each turn waited for a
/// cooperative thread), and a serial queue of ours in front of GRDB's cost a fifth of the
/// submission rate (the extra hop); here the next write is picked on GRDB's own writer queue
/// the moment the last one ends, so the writer stays as busy as before.
final class WriterLanes: Sendable {
    enum Lane: Sendable { case queueWork, requests }

    private typealias Write = @Sendable (Database) -> Void
    private struct Lanes {
        var queueWork = FIFO()
        var requests = FIFO()
    }
    private let pool: DatabasePool
    private let lanes = Mutex(Lanes())

    init(pool: DatabasePool) { self.pool = pool }

    /// Runs `body` in a write transaction, in `lane`'s turn.
    ///
    /// Each write puts one block on GRDB's own writer queue (no queue of ours in between),
    /// and each block, when it runs, takes the first write of the first non-empty lane: as
    /// many blocks as writes, so every write runs once, in lane order.
    func write<T: Sendable>(_ lane: Lane, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let write: Write = { db in
                continuation.resume(with: Result {
                    var result: T?
                    try db.inTransaction {
                        result = try body(db)
                        return .commit
                    }
                    return result!
                })
            }
            lanes.withLock { l in
                switch lane {
                case .queueWork: l.queueWork.append(write)
                case .requests: l.requests.append(write)
                }
            }
            pool.asyncWriteWithoutTransaction { db in
                let next = self.lanes.withLock { l in l.queueWork.popFirst() ?? l.requests.popFirst() }
                next?(db)
            }
        }
    }

    /// Writes waiting in each lane.
    var waiting: (queueWork: Int, requests: Int) { lanes.withLock { ($0.queueWork.count, $0.requests.count) } }

    /// A first-in first-out list of writes, its consumed prefix dropped now and then.
    private struct FIFO {
        private var items: [Write] = []
        private var head = 0
        var count: Int { items.count - head }

        mutating func append(_ write: @escaping Write) { items.append(write) }

        mutating func popFirst() -> Write? {
            guard head < items.count else { return nil }
            let first = items[head]
            head += 1
            if head >= 64, head * 2 >= items.count {
                items.removeFirst(head)
                head = 0
            }
            return first
        }
    }
}
