@testable import ComputeJobs
import Foundation
import Jobs
import Testing

/// A worker process killed in the middle of a job (SIGKILL: no chance to release it): the
/// job's lease expires, another worker process takes it over, and it finishes exactly once.
@Suite("Worker crash") struct WorkerCrashTests {
    /// The `fhe-jobs` executable built beside the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fhe-jobs")
    }

    func startWorker(_ context: StoreContext, dataDir: String) throws -> Process {
        let process = Process()
        process.executableURL = Self.executable
        var arguments = ["worker", "--workers", "1", "--lease-seconds", "2", "--data-dir", dataDir]
        if let url = context.postgresURL { arguments += ["--database-url", url] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(arguments: StoreKind.available)
    func aKilledWorkersJobFinishesOnceOnAnother(_ kind: StoreKind) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build fhe-jobs first (scripts/test does)")
        try await withStore(kind) { store, context in
            let dataDir = context.sqlitePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-crash-\(UUID().uuidString)").path
            let h = try await ServiceHarness(store: store, context: context)
            // A semiprime of two primes of `digits` digits. ECM's curves are random, so its time
            // varies: usually a second or more for 25-digit factors, but a lucky curve can finish
            // before the first poll sees the job running. The kill must land mid-job for the
            // test to mean anything, so a job that finished first is let be (it must still
            // have finished exactly once) and a harder number is tried.
            var attempt: (job: Job, p: GMPInteger, q: GMPInteger, victim: String)?
            var submitted = 0
            for digits: UInt in [25, 26, 27] where attempt == nil {
                let p = (GMPInteger.power(10, digits - 1) * GMPInteger(3)).nextPrime()
                let q = (GMPInteger.power(10, digits - 1) * GMPInteger(7)).nextPrime()
                let job = try await h.service.submit(
                    JobSubmission(type: .compute, payload: ["algorithm": "prime_factorization", "input": ["number": .string((p * q).decimalString)]]),
                    by: Principal(subject: "alice", tenant: "acme", role: .developer), idempotencyKey: nil).job
                submitted += 1

                let first = try startWorker(context, dataDir: dataDir)
                var seen: Job?
                for _ in 0..<3000 {
                    if let j = try await store.job(id: job.id), j.status != .queued { seen = j; break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(first.processIdentifier, SIGKILL)
                first.waitUntilExit()
                let status = try #require(seen?.status, "the first worker did not take the job")
                if status == .running, let owner = seen?.leaseOwner {
                    attempt = (job, p, q, owner)
                } else {
                    #expect(status == .succeeded || status == .confirmed, "a job the first worker finished is \(status)")
                }
            }
            let (job, p, q, victim) = try #require(attempt, "every job finished before its worker was killed")

            let second = try startWorker(context, dataDir: dataDir)
            defer { second.terminate(); second.waitUntilExit() }
            var finished: Job?
            for _ in 0..<1800 {
                if let j = try await store.job(id: job.id), j.status == .confirmed { finished = j; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let done = try #require(finished, "the job did not finish on the second worker")
            #expect(done.attempts == 2)
            #expect(done.result?["factors"] == [.string(p.decimalString), .string(q.decimalString)])
            // Exactly one result was committed, and it was not the killed worker's.
            let ledger = try await store.ledgerEntries(fromSequence: 1, limit: 100)
            #expect(ledger.filter { $0.jobID == job.id }.count == 1)
            #expect(done.leaseOwner == nil && !victim.isEmpty)
            let usage = try await store.usage(tenant: "acme", month: Usage.month(of: Date()))
            #expect(usage.jobsSucceeded == submitted && usage.jobsFailed == 0)
        }
    }
}
