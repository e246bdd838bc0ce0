import Foundation
import Jobs
import PostgresNIO
import Testing

/// `--database-pool-size` (`FHE_JOBS_DATABASE_POOL_SIZE`): bad values stop the process with one
/// line, and a process opens no more PostgreSQL connections than its pool.
@Suite("Database pool size") struct DatabasePoolSizeTests {
    /// Runs the built `fhe-jobs`; its exit status and the first line of its standard error.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, firstLine: String) {
        let process = Process()
        process.executableURL = WorkerCrashTests.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let output = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (process.terminationStatus, text.split(separator: "\n").first.map(String.init) ?? "")
    }

    @Test func badSizesAreRefusedInOneLine() throws {
        #expect(FileManager.default.isExecutableFile(atPath: WorkerCrashTests.executable.path), "build fhe-jobs first (scripts/test does)")
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-pool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let cases: [([String], [String: String], String)] = [
            (["--database-pool-size", "1"], [:], "--database-pool-size (or FHE_JOBS_DATABASE_POOL_SIZE) must be 2 to 1000, not 1"),
            (["--database-pool-size", "1001"], [:], "--database-pool-size (or FHE_JOBS_DATABASE_POOL_SIZE) must be 2 to 1000, not 1001"),
            ([], ["FHE_JOBS_DATABASE_POOL_SIZE": "0"], "--database-pool-size (or FHE_JOBS_DATABASE_POOL_SIZE) must be 2 to 1000, not 0"),
            ([], ["FHE_JOBS_DATABASE_POOL_SIZE": "many"], "FHE_JOBS_DATABASE_POOL_SIZE must be a whole number from 2 to 1000, not \"many\""),
            (["--database-pool-size", "many"], [:], "'many' is invalid for '--database-pool-size"),
        ]
        // `migrate` ends either way; `serve` and `worker` read the same options (StorageOptions).
        for (arguments, environment, expected) in cases {
            let (status, line) = try Self.run(["migrate", "--data-dir", data] + arguments, environment: environment)
            #expect(status != 0 && line.contains(expected), "\(arguments) \(environment): \(status) \(line)")
        }
        // The flag wins over the variable.
        let (status, line) = try Self.run(["migrate", "--data-dir", data, "--database-pool-size", "5"],
                                          environment: ["FHE_JOBS_DATABASE_POOL_SIZE": "many"])
        #expect(status == 0, "\(line)")
    }

    /// A worker process with eight workers and a pool of three: the jobs all finish, and the
    /// database never sees more than three connections of it (its own role tells them apart).
    @Test func aProcessOpensNoMoreConnectionsThanItsPool() async throws {
        try await withStore(.postgres) { store, context in
            let client = try #require(context.postgresClient), url = try #require(context.postgresURL)
            let role = "pool_test_\(UUID().uuidString.prefix(8).lowercased())"
            try await client.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN SUPERUSER"))
            let jobs = 40
            for _ in 0..<jobs { try await store.insertJob(makeJob(), quota: generousQuota, idempotency: nil) }
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-pool-\(UUID().uuidString)").path
            let worker = Process()
            worker.executableURL = WorkerCrashTests.executable
            worker.arguments = ["worker", "--workers", "8", "--data-dir", data, "--database-pool-size", "3",
                                "--database-url", url.replacingOccurrences(of: "postgres://postgres@", with: "postgres://\(role)@")]
            worker.standardOutput = FileHandle.nullDevice
            worker.standardError = FileHandle.nullDevice
            try worker.run()
            var most = 0, done = 0
            for _ in 0..<600 where done < jobs {
                let open = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM pg_stat_activity WHERE usename = '\(role)'"))
                    .collect().first?.decode(Int.self) ?? 0
                most = max(most, open)
                done = try await store.listJobs(JobQuery(visibility: .all, limit: 100)).filter { $0.status != .queued && $0.status != .running }.count
                try await Task.sleep(for: .milliseconds(50))
            }
            worker.terminate()
            worker.waitUntilExit()
            try? FileManager.default.removeItem(atPath: data)
            #expect(done == jobs)
            #expect(most >= 1 && most <= 3, "\(most) connections")
            try? await client.query(PostgresQuery(unsafeSQL: "DROP ROLE \(role)"))
        }
    }
}
