import Crypto
import Foundation
import Jobs
import Synchronization
import Testing

/// Fails its first `failures` runs, then returns its input: exercises retries.
final class FlakyExecutor: JobExecutor {
    let algorithm = "test_flaky"
    let failures: Int
    let runs = Atomic<Int>(0)
    init(failures: Int) { self.failures = failures }
    func validate(input: JSONValue) throws(JobInputError) {}
    func run(input: JSONValue) async throws -> JSONValue {
        let n = runs.add(1, ordering: .relaxed).newValue
        if n <= failures { throw TransientFailure(attempt: n) }
        return ["echo": input]
    }
}

struct TransientFailure: Error { var attempt: Int }

/// Finds its input unusable only while running (as an overflow would be found).
struct RejectsAtRunTimeExecutor: JobExecutor {
    let algorithm = "test_rejects"
    func validate(input: JSONValue) throws(JobInputError) {}
    func run(input: JSONValue) async throws -> JSONValue { throw JobInputError("input.x overflows") }
}

/// Sleeps for `input.seconds`, cancellable: stands for a long computation.
struct SleepExecutor: JobExecutor {
    let algorithm = "test_sleep"
    func validate(input: JSONValue) throws(JobInputError) {}
    func run(input: JSONValue) async throws -> JSONValue {
        try await Task.sleep(for: .seconds(input["seconds"]?.doubleValue ?? 1))
        return ["slept": true]
    }
}

@Suite("Workers") struct WorkerPoolTests {
    func pool(_ h: ServiceHarness, lease: TimeInterval = 3, extra: [any JobExecutor]) -> (WorkerPool, ConfirmationService, QueueWakeup) {
        var configuration = WorkerPool.Configuration()
        configuration.concurrency = 2
        configuration.leaseDuration = lease
        configuration.pollInterval = .milliseconds(100)
        configuration.rescueInterval = 0.5
        configuration.retry = RetryPolicy(baseDelay: 0.05, maxDelay: 0.2)
        let confirmations = QueueWakeup()
        let pool = WorkerPool(store: h.store, executors: h.service.executors, configuration: configuration, wakeup: h.wakeup,
                              confirmationWakeup: confirmations)
        let confirmer = ConfirmationService(store: h.store, confirmer: LocalLedger(store: h.store, signingKey: FHETestService.serviceKey),
                                            wakeup: confirmations, pollInterval: .milliseconds(100))
        return (pool, confirmer, confirmations)
    }

    func waitFor(_ id: JobID, in store: any JobStore, timeout: Duration = .seconds(30), until done: (Job) -> Bool) async throws -> Job {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let job = try await store.job(id: id), done(job) { return job }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try #require(try await store.job(id: id))
    }

    @Test(arguments: StoreKind.available)
    func jobsRunRetryTimeOutCancelAndGetConfirmed(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let flaky = FlakyExecutor(failures: 2)
            let h = try await ServiceHarness(store: store, context: context, extraExecutors: [flaky, SleepExecutor(), RejectsAtRunTimeExecutor()])
            let (pool, confirmer, _) = pool(h, extra: [])
            let owner = Principal(subject: "alice", tenant: "acme", role: .developer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }

                // A real algorithm, through to a confirmed, verifiable ledger entry.
                let sha = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "sha256", "input": ["data": "abc"]]),
                                                     by: owner, idempotencyKey: nil).job
                let confirmed = try await waitFor(sha.id, in: store) { $0.status == .confirmed }
                #expect(confirmed.status == .confirmed)
                #expect(confirmed.result?["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                #expect(confirmed.resultHash == SHA256.hash(data: confirmed.result!.canonicalData()).hexString)
                #expect(confirmed.confirmation?.kind == .ledger)

                // Two failures, then success on the third and last attempt.
                let retried = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "test_flaky", "input": ["n": 1]]),
                                                         by: owner, idempotencyKey: nil).job
                let afterRetries = try await waitFor(retried.id, in: store) { $0.status == .confirmed }
                #expect(afterRetries.attempts == 3 && afterRetries.result == ["echo": ["n": 1]])

                // Input found unusable at run time fails at once: another attempt would too.
                let rejected = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "test_rejects", "input": ["x": 1]]),
                                                          by: owner, idempotencyKey: nil).job
                let failedAtOnce = try await waitFor(rejected.id, in: store) { $0.status == .failed }
                #expect(failedAtOnce.attempts == 1 && failedAtOnce.failure == JobFailure(code: "INVALID_INPUT", message: "input.x overflows"))

                // The timeout stops the job; with every attempt timed out, it fails.
                let slow = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "test_sleep", "input": ["seconds": 30],
                                                                                             "parameters": ["timeout": 1]]),
                                                      by: owner, idempotencyKey: nil).job
                let timedOut = try await waitFor(slow.id, in: store) { $0.status == .failed }
                #expect(timedOut.status == .failed && timedOut.failure?.code == "TIMEOUT" && timedOut.attempts == 3)

                // Cancelling a running job stops its worker at the next heartbeat (lease / 3 = 1 s).
                let long = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "test_sleep", "input": ["seconds": 60]]),
                                                      by: owner, idempotencyKey: nil).job
                _ = try await waitFor(long.id, in: store) { $0.status == .running }
                #expect(try await h.service.cancel(id: long.id, by: owner).status == .cancelled)
                // The worker is free again: a new job runs promptly although both slots were busy.
                let next = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "sha256", "input": ["data": "x"]]),
                                                      by: owner, idempotencyKey: nil).job
                #expect(try await waitFor(next.id, in: store, timeout: .seconds(10)) { $0.status.isFinished }.status.isFinished)
                #expect(try await store.job(id: long.id)?.status == .cancelled)
            }
            let usage = try await store.usage(tenant: "acme", month: Usage.month(of: Date()))
            #expect(usage.jobsSubmitted == 6 && usage.jobsSucceeded >= 3 && usage.jobsFailed == 2)
        }
    }

    @Test func shutdownReleasesRunningJobs() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context, extraExecutors: [SleepExecutor()])
            let (pool, _, _) = pool(h, extra: [])
            let owner = Principal(subject: "alice", tenant: "acme", role: .developer)
            let job = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "test_sleep", "input": ["seconds": 60]]),
                                                 by: owner, idempotencyKey: nil).job
            let running = Task { await pool.run() }
            _ = try await waitFor(job.id, in: store) { $0.status == .running }
            running.cancel()
            await running.value
            let released = try #require(try await store.job(id: job.id))
            #expect(released.status == .queued && released.attempts == 0 && released.leaseOwner == nil)
        }
    }
}
