@testable import FHEJobs
import FHEPrograms
import Foundation
import Jobs
import TFHE
import Testing

/// The confidential side of the worker-crash guarantee, with real `fhe-jobs worker`
/// processes that are never given the key-encryption key: a worker killed (SIGKILL) in the
/// middle of an FHE job's bootstraps leaves the job to another worker process, which runs it
/// once more from its inputs, with one result and one confirmation.
extension ConfidentialJobsTests {
    func startFHEWorker(_ context: StoreContext, dataDir: String) throws -> Process {
        let process = Process()
        process.executableURL = WorkerCrashTests.executable
        var arguments = ["worker", "--workers", "1", "--lease-seconds", "2", "--data-dir", dataDir,
                         "--fhe-parameters", FHETestService.parametersFile.path, "--fhe-allow-insecure-parameters"]
        if let url = context.postgresURL { arguments += ["--database-url", url] }
        process.arguments = arguments
        // Nothing that could hold a key-encryption key reaches the worker.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FHE_JOBS_KEK") }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(arguments: StoreKind.available)
    func aKilledWorkersFHEJobRunsOnceMoreOnAWorkerWithoutTheKEK(_ kind: StoreKind) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: WorkerCrashTests.executable.path), "build fhe-jobs first (scripts/test does)")
        try await withStore(kind) { store, context in
            let dataDir = context.sqlitePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-fhe-crash-\(UUID().uuidString)").path
            defer { if context.sqlitePath == nil { try? FileManager.default.removeItem(atPath: dataDir) } }
            // The API side (with its key-encryption key in memory only) shares the database and
            // the blob folder with the workers.
            let api = try FHETestService.make(store: store, root: URL(fileURLWithPath: dataDir))
            let h = try await ServiceHarness(store: store, context: context, confidential: api)
            let keySet = try await api.embeddedKeys.keySet(tenant: "acme", owner: "alice")
            let publicKey = try CompressedPublicKey<UInt64>(
                serialized: try await api.blobs.read(tenant: "acme", id: keySet.publicKeyBlob, limit: keySet.publicKeyBytes),
                parameters: api.keys.parameters).decompress()
            var generator = SystemRandomNumberGenerator()
            let values = (0..<64).map { _ in UInt64.random(in: 0...65535, using: &generator) }
            let file = try EncryptedValues.encrypt([("data", .vector(.uint16, length: values.count), .vector(values.map { .uint($0) }))],
                                                   keySetID: KeySetID(hex: keySet.id)!, publicKey: publicKey)
            let payload: JSONValue = ["algorithm": "encrypted_statistical_analysis", "encrypted_data": .string(file.base64EncodedString()),
                                      "client_public_key": .string(ownerKeyPEM), "parameters": ["statistics": ["sum", "min", "max", "variance"]]]
            let job = try await h.service.submit(JobSubmission(type: .fheCompute, payload: payload, useFHE: true),
                                                 by: Principal(subject: "alice", tenant: "acme", role: .developer), idempotencyKey: nil).job
            let quoted = try #require(job.fhe?.quote.bootstraps)
            #expect(!FileManager.default.fileExists(atPath: dataDir + "/key-encryption.key"))

            // Killed once its bootstraps are under way (progress is written about once a second).
            let first = try startFHEWorker(context, dataDir: dataDir)
            var running: Job?
            for _ in 0..<1200 {
                if let j = try await store.job(id: job.id), let done = j.progress?.bootstrapsDone, done > 0 { running = j; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let interrupted = try #require(running, "the first worker did not get under way")
            #expect(interrupted.status == .running && interrupted.progress!.bootstrapsDone < quoted,
                    "the job finished before the worker was killed: make it longer")

            let second = try startFHEWorker(context, dataDir: dataDir)
            defer { second.terminate(); second.waitUntilExit() }
            var finished: Job?
            for _ in 0..<2400 {
                if let j = try await store.job(id: job.id), j.status == .confirmed || j.status == .failed { finished = j; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let done = try #require(finished, "the job did not finish on the second worker")
            #expect(done.status == .confirmed, "\(String(describing: done.failure))")
            #expect(done.attempts == 2)
            #expect(done.result?["bootstraps"]?.integerValue == quoted)
            #expect(done.progress?.bootstrapsDone == quoted)
            #expect(try await store.ledgerEntries(fromSequence: 1, limit: 100).filter { $0.jobID == job.id }.count == 1)
            let result = try await api.blobs.read(tenant: "acme", id: try #require(done.result?["result_blob"]?.stringValue), limit: 1 << 26)
            let opened = Dictionary(uniqueKeysWithValues: try await api.embeddedKeys.decrypt(result, keySet: keySet))
            let sum = values.reduce(0, +), squares = values.reduce(0) { $0 + $1 * $1 }, n = UInt64(values.count)
            #expect(opened["sum"] == .uint(sum) && opened["min"] == .uint(values.min()!) && opened["max"] == .uint(values.max()!))
            #expect(opened["variance"] == .uint((n * squares - sum * sum) / (n * n)))
            let usage = try await store.usage(tenant: "acme", month: Usage.month(of: Date()))
            #expect(usage.jobsSucceeded == 1 && usage.jobsFailed == 0 && usage.fheBootstraps == Int64(quoted))
        }
    }
}
