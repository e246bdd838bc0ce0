import Foundation
import HTTPTypes
import HummingbirdTesting
import InMemoryTracing
import Jobs
import JobsServer
import Testing
import Tracing

/// The test process's tracer: a process has one global tracer, so it is installed once and
/// every test after that records its spans here (each test picks out its own by job id).
enum TestTracer {
    static let shared: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()
}

extension FinishedInMemorySpan {
    func has(_ key: String, _ value: String) -> Bool {
        if case .string(let s) = attributes.get(key) { return s == value }
        if case .stringArray(let a) = attributes.get(key) { return a.contains(value) }
        return false
    }
}

@Suite("Tracing") struct TracingTests {
    /// One job through the API, a worker and the confirmer: the spans the issue names, each
    /// carrying the job's id, nested as a trace viewer will show them.
    @Test func aJobsLifeIsTracedAndLinkedByItsID() async throws {
        let tracer = TestTracer.shared
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let token = try await h.token()
            let id = try await h.test { client in
                let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(token), body: jsonBuffer(sha256Submission))
                #expect(submitted.status == .accepted)
                return try #require(submitted.json["id"] as? String)
            }
            let jobID = try #require(UUID(uuidString: id))
            let confirmations = QueueWakeup()
            var configuration = WorkerPool.Configuration()
            configuration.pollInterval = .milliseconds(50)
            let pool = WorkerPool(store: store, executors: h.service.executors, configuration: configuration, wakeup: h.wakeup,
                                  confirmationWakeup: confirmations)
            let confirmer = ConfirmationService(store: store, confirmer: LocalLedger(store: store, signingKey: FHETestService.serviceKey),
                                                wakeup: confirmations, pollInterval: .milliseconds(50))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }
                let deadline = ContinuousClock.now + .seconds(30)
                while try await store.job(id: jobID)?.status != .confirmed && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(try await store.job(id: jobID)?.status == .confirmed)

            let spans = tracer.finishedSpans
            func one(_ name: String) throws -> FinishedInMemorySpan {
                let found = spans.filter { $0.operationName == name && $0.has(JobSpans.jobID, id) }
                #expect(found.count == 1, "\(name): \(found.count) spans for the job")
                return try #require(found.first)
            }
            // The API: the request's span, and the submission under it.
            let submit = try one(JobSpans.submit)
            let request = try #require(spans.first { $0.spanID == submit.parentSpanID }, "job.submit has no parent span")
            #expect(request.kind == .server && request.operationName.contains("/v1/jobs"))
            #expect(submit.has(JobSpans.tenant, "acme") && submit.has(JobSpans.jobType, "compute"))

            // The worker: the attempt's span from the time the job was queued, with the wait
            // and the execution under it.
            let job = try one(JobSpans.job)
            #expect(job.kind == .consumer && job.parentSpanID == nil)
            #expect(job.attributes.get(JobSpans.attempt) == .int64(1))
            let wait = try #require(spans.first { $0.operationName == JobSpans.queueWait && $0.parentSpanID == job.spanID })
            let execute = try #require(spans.first { $0.operationName == JobSpans.execute && $0.parentSpanID == job.spanID })
            #expect(wait.startInstant.nanosecondsSinceEpoch == job.startInstant.nanosecondsSinceEpoch)
            #expect(wait.endInstant.nanosecondsSinceEpoch <= execute.startInstant.nanosecondsSinceEpoch)
            #expect(execute.has(JobSpans.outcome, "succeeded") && execute.status?.code != .error)

            // The confirmer: the batch that confirmed it names it.
            #expect(spans.contains { $0.operationName == JobSpans.confirm && $0.has(JobSpans.jobIDs, id) })
        }
    }

    /// A failed attempt's execution span records the error and an error status.
    @Test func aFailedAttemptIsMarkedOnItsSpan() async throws {
        let tracer = TestTracer.shared
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context, extraExecutors: [RejectsAtRunTimeExecutor()])
            let job = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "test_rejects", "input": ["x": 1]]),
                                                 by: Principal(subject: "alice", tenant: "acme", role: .developer), idempotencyKey: nil).job
            var configuration = WorkerPool.Configuration()
            configuration.pollInterval = .milliseconds(50)
            let pool = WorkerPool(store: store, executors: h.service.executors, configuration: configuration, wakeup: h.wakeup)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                defer { group.cancelAll() }
                let deadline = ContinuousClock.now + .seconds(30)
                while try await store.job(id: job.id)?.status != .failed && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let spans = tracer.finishedSpans
            let attempt = try #require(spans.first { $0.operationName == JobSpans.job && $0.has(JobSpans.jobID, job.id.uuidString.lowercased()) })
            let execute = try #require(spans.first { $0.operationName == JobSpans.execute && $0.parentSpanID == attempt.spanID })
            #expect(execute.has(JobSpans.outcome, "failed") && execute.status?.code == .error && execute.errors.count == 1)
        }
    }
}
