import Crypto
import Foundation
import Jobs
import Testing

/// One signing identity per service: processes on one database that would sign with
/// different keys (each replica with a key of its own) refuse to start, with one line saying
/// so, and a process given the recorded key starts.
@Suite("Signing identity") struct SigningIdentityTests {
    /// Runs `fhe-jobs worker` until it has started (or stopped); its exit status if it stopped
    /// within `wait`, and its standard error.
    func worker(_ context: StoreContext, dataDir: String, signingKey: String?, wait: Duration) async throws -> (status: Int32?, err: String) {
        let process = Process()
        process.executableURL = WorkerCrashTests.executable
        var arguments = ["worker", "--workers", "1", "--data-dir", dataDir]
        if let url = context.postgresURL { arguments += ["--database-url", url] }
        if let signingKey { arguments += ["--signing-key", signingKey] }
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let deadline = ContinuousClock.now + wait
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let stopped = !process.isRunning
        if !stopped { process.terminate() }
        process.waitUntilExit()
        return (stopped ? process.terminationStatus : nil,
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test(arguments: StoreKind.available)
    func processesWithAnotherKeyRefuseToStart(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let dataDir = context.sqlitePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-identity-\(UUID().uuidString)").path
            defer { if context.sqlitePath == nil { try? FileManager.default.removeItem(atPath: dataDir) } }
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            // The first process makes its key in the data folder and records it.
            let first = try await worker(context, dataDir: dataDir, signingKey: nil, wait: .seconds(3))
            #expect(first.status == nil, "the first worker runs: \(first.err)")
            let recorded = try Data(contentsOf: URL(fileURLWithPath: dataDir + "/ledger-signing.key"))
            let recordedKey = try Curve25519.Signing.PrivateKey(rawRepresentation: recorded).publicKey.rawRepresentation.base64EncodedString()
            #expect(try await store.registerSigningKey("someone else", now: Date()) == recordedKey)

            // A replica with a key of its own stops at once, saying which key is the service's.
            let other = dataDir + "/other-signing.key"
            #expect(FileManager.default.createFile(atPath: other, contents: Curve25519.Signing.PrivateKey().rawRepresentation,
                                                   attributes: [.posixPermissions: 0o600]))
            let refused = try await worker(context, dataDir: dataDir, signingKey: other, wait: .seconds(30))
            #expect(refused.status != nil && refused.status != 0, "\(refused.err)")
            #expect(refused.err.contains("is not the service's (\(recordedKey))"), "\(refused.err)")

            // A key file others may read is refused, with the fix.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: other)
            let exposed = try await worker(context, dataDir: dataDir, signingKey: other, wait: .seconds(30))
            #expect(exposed.status != nil && exposed.status != 0 && exposed.err.contains("chmod 600"), "\(exposed.err)")

            // The same key given by path (as a Secret is mounted) starts.
            let same = try await worker(context, dataDir: dataDir, signingKey: dataDir + "/ledger-signing.key", wait: .seconds(3))
            #expect(same.status == nil, "\(same.err)")
        }
    }
}
