import Foundation
import Jobs
import Testing

/// Several processes on one store: the test binary runs itself as the other processes.
@Suite("FileBlobStore shared by processes")
struct SharedVolumeTests {
    static let childRoot = ProcessInfo.processInfo.environment["BLOB_STORE_CHILD_ROOT"]
    static let rounds = 5
    static let source = ChunkSource(total: 4 << 20, chunk: 256 * 1024, seed: 9)

    /// Runs only in a child started by `processesEndWithOneBlob`: puts and sweeps on its store.
    @Test(.enabled(if: childRoot != nil))
    func childPutsAndSweeps() async throws {
        let index = ProcessInfo.processInfo.environment["BLOB_STORE_CHILD_INDEX"] ?? "?"
        let store = try FileBlobStore(root: URL(fileURLWithPath: Self.childRoot!))
        for round in 0..<Self.rounds {
            _ = try await store.put(tenant: "shared", chunks: Self.source, limit: 8 << 20, hold: hold("job:p\(index)-\(round)", for: 3600))
            _ = try await store.sweep(now: Date())
        }
    }

    #if os(Linux)
    @Test("puts and sweeps by four processes end with one blob holding every put")
    func processesEndWithOneBlob() async throws {
        guard Self.childRoot == nil else { return }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        try await withStore { store, root in
            // There already, with only an expired hold: every child's sweep wants it gone.
            let info = try await store.put(tenant: "shared", chunks: Self.source, limit: 8 << 20, hold: hold("upload:expired", for: -1))
            let logs = root.deletingLastPathComponent()
            var children: [Process] = []
            for i in 0..<4 {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: executable)
                child.arguments = ["--testing-library", "swift-testing", "--filter", "childPutsAndSweeps"]
                var environment = ProcessInfo.processInfo.environment
                environment["BLOB_STORE_CHILD_ROOT"] = root.path
                environment["BLOB_STORE_CHILD_INDEX"] = "\(i)"
                child.environment = environment
                let log = logs.appendingPathComponent("child\(i).log")
                #expect(FileManager.default.createFile(atPath: log.path, contents: nil))
                child.standardOutput = try FileHandle(forWritingTo: log)
                child.standardError = child.standardOutput
                children.append(child)
            }
            for child in children { try child.run() }
            for (i, child) in children.enumerated() {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async { child.waitUntilExit(); done.resume() }
                }
                let log = (try? String(contentsOf: logs.appendingPathComponent("child\(i).log"), encoding: .utf8)) ?? ""
                #expect(child.terminationStatus == 0, "child \(i): \(log.suffix(2000))")
            }
            let tenants = root.appendingPathComponent("tenants")
            let dataFiles = files(named: "data", under: tenants)
            #expect(dataFiles.count == 1)
            let holds = entries(URL(fileURLWithPath: (try #require(dataFiles.first) as NSString).deletingLastPathComponent).appendingPathComponent("holds"))
            #expect(Set(holds) == Set((0..<4).flatMap { i in (0..<Self.rounds).map { "job:p\(i)-\($0)" } }))
            #expect(entries(root.appendingPathComponent("tmp")).isEmpty)
            #expect(try await store.read(tenant: "shared", id: info.id, limit: 8 << 20) == Self.source.bytes)
        }
    }
    #endif
}
