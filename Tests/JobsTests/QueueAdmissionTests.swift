import Foundation
import HTTPTypes
@testable import Jobs
import Synchronization
import Testing

/// Admission by queue depth: submissions are refused while the queue holds the server's bound,
/// with a wait worked out from how fast the workers drained it, and admitted again once there
/// is room; replays of accepted requests are answered whatever the queue holds.
@Suite("Queue admission") struct QueueAdmissionTests {
    /// A store's queued count the test sets, and how many times it was read.
    final class QueueCount: Sendable {
        let queued = Atomic<Int>(0), reads = Atomic<Int>(0), failing = Atomic<Bool>(false)
        func read() throws -> Int {
            reads.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw CancellationError() }
            return queued.load(ordering: .relaxed)
        }
    }

    @Test func refusesAtTheBoundAndWaitsAsLongAsTheDrainTakes() async throws {
        let count = QueueCount()
        count.queued.store(1, ordering: .relaxed)
        let admission = QueueAdmission(maxQueued: 3, recountInterval: .seconds(1)) { try count.read() }
        let t0 = ContinuousClock.now
        try await admission.admit(now: t0)                     // counts 1, admits: 2
        try await admission.admit(now: t0 + .milliseconds(10)) // no recount: 3
        #expect(count.reads.load(ordering: .relaxed) == 1, "one count per interval")
        do {
            try await admission.admit(now: t0 + .milliseconds(20))
            Issue.record("a fourth job was admitted into a queue bounded at 3")
        } catch {
            #expect(error.queued == 3 && error.limit == 3)
            #expect(error.retryAfter == .seconds(5), "no drain seen yet: the default wait")
        }
        // Two seconds later the workers took all three: 1.5 jobs a second, and room again.
        count.queued.store(0, ordering: .relaxed)
        try await admission.admit(now: t0 + .seconds(2))
        // Other replicas filled it to 5 meanwhile: 3 over the bound at 1.5 a second is 2 s.
        count.queued.store(5, ordering: .relaxed)
        do {
            try await admission.admit(now: t0 + .seconds(4))
            Issue.record("admitted into a queue over its bound")
        } catch {
            #expect(error.queued == 5 && error.retryAfter == .seconds(2))
        }
    }

    @Test func aFailingCountAdmitsAndOneCallerCountsAtATime() async throws {
        let count = QueueCount()
        count.failing.store(true, ordering: .relaxed)
        let admission = QueueAdmission(maxQueued: 1, recountInterval: .zero) { try count.read() }
        try await admission.admit()
        try await admission.admit()   // the store's own answer decides, not a guess here
        count.failing.store(false, ordering: .relaxed)
        count.queued.store(1, ordering: .relaxed)
        await #expect(throws: QueueFullError.self) { try await admission.admit() }
        // The wait is bounded: from 1 s up to 60 s whatever the drain.
        #expect(QueueAdmission.wait(excess: 1, drainPerSecond: 1_000) == .seconds(1))
        #expect(QueueAdmission.wait(excess: 1_000_000, drainPerSecond: 0.5) == .seconds(60))
    }

    /// Over HTTP, on both stores: 503 QUEUE_FULL, retryable, with Retry-After; a replay of an
    /// accepted request is still answered; a cancelled job makes room.
    @Test(arguments: StoreKind.available)
    func aFullQueueIsA503UntilThereIsRoom(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let h = try await ServiceHarness(store: store, context: context, configureService: {
                $0.maxQueuedJobs = 2
                $0.queueRecountInterval = .zero
            })
            let alice = try await h.token()
            let key = HTTPField.Name("Idempotency-Key")!
            try await h.test { client in
                var headers = HTTPFields.bearer(alice)
                headers[key] = "first"
                let first = try await client.execute(uri: "/v1/jobs", method: .post, headers: headers, body: jsonBuffer(sha256Submission))
                #expect(first.status == .accepted)
                #expect(try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(sha256Submission)).status == .accepted)
                var refusedHeaders = HTTPFields.bearer(alice)
                refusedHeaders[key] = "third"
                let refused = try await client.execute(uri: "/v1/jobs", method: .post, headers: refusedHeaders, body: jsonBuffer(sha256Submission))
                #expect(refused.status == .serviceUnavailable && refused.problemCode == "QUEUE_FULL")
                #expect(refused.json["retryable"] as? Bool == true)
                #expect(refused.headers[.retryAfter] == "5")
                let replay = try await client.execute(uri: "/v1/jobs", method: .post, headers: headers, body: jsonBuffer(sha256Submission))
                #expect(replay.status == .accepted && replay.json["id"] as? String == first.json["id"] as? String)
                let id = try #require(first.json["id"] as? String)
                #expect(try await client.execute(uri: "/v1/jobs/\(id)/cancel", method: .post, headers: .bearer(alice)).status == .ok)
                // The refused request's key was released: the same request now makes its job.
                let retried = try await client.execute(uri: "/v1/jobs", method: .post, headers: refusedHeaders, body: jsonBuffer(sha256Submission))
                #expect(retried.status == .accepted)
            }
            #expect(try await store.listJobs(JobQuery(visibility: .all, limit: 100)).count == 3)
            // The refusal changed nothing and is not in the audit trail (it is counted instead);
            // the submissions, the replay and the cancel are.
            let audit = try await store.listAudit(tenant: "acme", before: nil, limit: 10)
            #expect(audit.map(\.outcome) == ["202", "200", "202", "202", "202"], "\(audit.map { "\($0.action) \($0.outcome)" })")
        }
    }
}
