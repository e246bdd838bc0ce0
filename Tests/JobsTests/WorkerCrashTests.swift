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
            // A semiprime of two 25-digit primes: ECM takes from a fraction of a second to a
            // few seconds, far longer than the moment the first worker is given.
            let p = (GMPInteger.power(10, 24) * GMPInteger(3)).nextPrime(), q = (GMPInteger.power(10, 24) * GMPInteger(7)).nextPrime()
            let number = (p * q).decimalString
            let h = try await ServiceHarness(store: store, context: context)
            let job = try await h.service.submit(
                JobSubmission(type: .compute, payload: ["algorithm": "prime_factorization", "input": ["number": .string(number)]]),
                by: Principal(subject: "alice", tenant: "acme", role: .developer), idempotencyKey: nil).job

            let first = try startWorker(context, dataDir: dataDir)
            var running: Job?
            for _ in 0..<3000 {
                if let j = try await store.job(id: job.id), j.status != .queued { running = j; break }
                try await Task.sleep(for: .milliseconds(5))
            }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            #expect(running?.status == .running, "the first worker did not start the job")
            let victim = try #require(running?.leaseOwner)

            let second = try startWorker(context, dataDir: dataDir)
            defer { second.terminate(); second.waitUntilExit() }
            var finished: Job?
            for _ in 0..<1200 {
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
            #expect(usage.jobsSucceeded == 1 && usage.jobsFailed == 0)
        }
    }
}
