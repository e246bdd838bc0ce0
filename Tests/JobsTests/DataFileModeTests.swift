import Foundation
import JobStoreSQLite
import Testing

/// The embedded default's files hold tenants' jobs, inputs and results: the data folder is
/// created for its owner alone (0700) and the SQLite database, with its -wal and -shm files,
/// readable by its owner alone (0600), whatever the process's umask.
@Suite("Data file modes") struct DataFileModeTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as! NSNumber).intValue & 0o777
    }

    @Test func theSQLiteDatabaseAndItsJournalAreOwnerOnly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-modes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("jobs.sqlite").path
        let store = try SQLiteJobStore(path: path)
        try await store.migrate()
        try await store.ping()
        #expect(try Self.mode(path) == 0o600)
        // The store is open in WAL mode, so both files exist now.
        for suffix in ["-wal", "-shm"] {
            #expect(FileManager.default.fileExists(atPath: path + suffix), "\(suffix)")
            #expect(try Self.mode(path + suffix) == 0o600, "\(suffix)")
        }
    }

    @Test func anExistingDatabaseKeepsItsMode() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-modes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("jobs.sqlite").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]))
        let store = try SQLiteJobStore(path: path)
        try await store.migrate()
        #expect(try Self.mode(path) == 0o640)
    }

    @Test func theServiceCreatesItsDataFolderOwnerOnly() throws {
        #expect(FileManager.default.isExecutableFile(atPath: WorkerCrashTests.executable.path), "build fhe-jobs first (scripts/test does)")
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-modes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: parent) }
        let data = parent.appendingPathComponent("data").path
        let (status, line) = try DatabasePoolSizeTests.run(["migrate", "--data-dir", data])
        #expect(status == 0, "\(line)")
        #expect(try Self.mode(data) == 0o700)
        #expect(try Self.mode(data + "/jobs.sqlite") == 0o600)
        // `token` may come first on a fresh machine; it creates the folder the same way.
        let other = parent.appendingPathComponent("other").path
        let process = Process()
        process.executableURL = WorkerCrashTests.executable
        process.arguments = ["token", "--data-dir", other, "--tenant", "t", "--role", "developer"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try Self.mode(other) == 0o700)
    }
}
