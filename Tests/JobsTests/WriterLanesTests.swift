import Dispatch
import Foundation
import GRDB
@testable import JobStoreSQLite
import Synchronization
import Testing

/// SQLite's writer in two lanes: writes of the queue's work waiting at the same moment as API
/// requests' go first, each lane in its own order, and every write runs once with its result.
@Suite("SQLite writer lanes") struct WriterLanesTests {
    /// Runs `body` with a pool on a throwaway file holding `table`, and lanes on it.
    func withLanes(table: String, _ body: (DatabasePool, WriterLanes) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("writer-lanes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pool = try DatabasePool(path: folder.appendingPathComponent("lanes.sqlite").path)
        try await pool.write { db in try db.execute(sql: table) }
        try await body(pool, WriterLanes(pool: pool))
    }

    final class Log: Sendable {
        let order = Mutex<[String]>([])
    }

    @Test func theQueuesWorkGoesFirstAndEachLaneKeepsItsOrder() async throws {
        try await withLanes(table: "CREATE TABLE t (n INTEGER)") { pool, lanes in
            let log = Log()
            // A first write holds the writer until everything else is queued behind it.
            let gate = DispatchSemaphore(value: 0)
            async let held: Void = lanes.write(.requests) { _ in gate.wait() }
            while lanes.waiting.requests > 0 { try await Task.sleep(for: .milliseconds(1)) }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for (lane, name) in [(WriterLanes.Lane.requests, "request"), (.queueWork, "work")] {
                    for index in 0..<5 {
                        group.addTask {
                            try await lanes.write(lane) { db in
                                log.order.withLock { $0.append("\(name) \(index)") }
                                try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [index])
                                return index
                            }
                        }
                        // One at a time, so each lane's order of arrival is known.
                        let queued = name == "request" ? index + 1 : 5 + index + 1
                        while lanes.waiting.queueWork + lanes.waiting.requests < queued { try await Task.sleep(for: .milliseconds(1)) }
                    }
                }
                gate.signal()
                var results: [Int] = []
                for try await value in group { results.append(value) }
                #expect(results.sorted() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
            }
            try await held
            #expect(log.order.withLock { $0 } == (0..<5).map { "work \($0)" } + (0..<5).map { "request \($0)" })
            let rows = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
            #expect(rows == 10)
        }
    }

    @Test func aFailingWriteAnswersItsCallerAndRollsBack() async throws {
        try await withLanes(table: "CREATE TABLE t (n INTEGER UNIQUE)") { pool, lanes in
            await #expect(throws: DatabaseError.self) {
                try await lanes.write(.queueWork) { db in
                    try db.execute(sql: "INSERT INTO t VALUES (1)")
                    try db.execute(sql: "INSERT INTO t VALUES (1)")
                }
            }
            let rows = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
            #expect(rows == 0)
        }
    }
}
