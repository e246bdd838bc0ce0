@testable import BlobStoreS3
import Foundation
import Jobs
import Testing

/// The S3-compatible server of the tests: moto with SigV4 checks on, which scripts/test starts
/// (scripts/lib/s3-moto.sh) and describes in FHE_JOBS_TEST_S3_* variables. Without them (a bare
/// `swift test`) the S3 cases are skipped with `missingMessage`; scripts/test always sets them.
enum S3TestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var endpoint: String? { environment["FHE_JOBS_TEST_S3_ENDPOINT"] }
    static var bucket: String { environment["FHE_JOBS_TEST_S3_BUCKET"] ?? "fhe-jobs-test" }
    static var credentials: AWSCredentials? {
        guard let id = environment["FHE_JOBS_TEST_S3_ACCESS_KEY_ID"], let secret = environment["FHE_JOBS_TEST_S3_SECRET_ACCESS_KEY"] else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret)
    }
    static var isConfigured: Bool { endpoint != nil && credentials != nil }

    /// The venv's python with botocore (scripts/test exports it; a worktree that ran
    /// scripts/test once has it too).
    static var python: String? {
        let path = environment["FHE_JOBS_TEST_S3_PYTHON"] ?? root.appendingPathComponent(".build-s3-venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static let missingMessage: Comment = """
        FHE_JOBS_TEST_S3_ENDPOINT is not set, so the S3 blob store was NOT tested: run scripts/test (it starts moto with \
        SigV4 checks on), or `source scripts/lib/s3-moto.sh; start_test_s3` in the shell that runs swift test
        """

    /// A store in a prefix of its own, so tests never see each other's objects.
    static func store(chunkSize: Int = 1 << 20, secret: String? = nil, endpoint: String? = nil,
                      configure: (inout S3BlobStore.Configuration) -> Void = { _ in }) throws -> S3BlobStore {
        guard let base = Self.endpoint, var credentials else { throw MissingTestS3() }
        if let secret { credentials.secretAccessKey = secret }
        var configuration = S3BlobStore.Configuration()
        configuration.chunkSize = chunkSize
        configuration.partSize = 5 << 20  // S3's smallest, so that the tests' puts of 20 MB go in parts
        configuration.requestTimeout = .seconds(30)
        configure(&configuration)
        let location = try S3Location(blobStore: "s3://\(bucket)/test-\(UUID().uuidString.lowercased())", endpoint: endpoint ?? base, region: "us-east-1")
        return try S3BlobStore(location: location, credentials: credentials, configuration: configuration)
    }

    /// Keys under the store's prefix that start with `prefix` (`staging/`, `deleting/`, …).
    static func keys(_ store: S3BlobStore, under prefix: String) async throws -> [String] {
        var keys: [String] = []
        try await store.forEachObject(under: prefix) { (object: ListedObject) async throws(BlobStoreError) in keys.append(object.key) }
        return keys
    }

    /// Runs scripts/s3_peer.py with `arguments`, `input` on its standard input; its output.
    static func runPeer(_ arguments: [String], input: String) throws -> String {
        guard let python else { throw MissingTestS3() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("scripts/s3_peer.py").path] + arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PeerFailed(status: process.terminationStatus) }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct PeerFailed: Error { let status: Int32 }
}

struct MissingTestS3: Error, CustomStringConvertible {
    var description: String { "\(S3TestServer.missingMessage)" }
}

/// The adapters the behavioural suite runs on: the file store always, the S3 store whenever
/// the test server is there (always under scripts/test).
enum BlobStoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case file, s3
    var description: String { rawValue }
    static var available: [BlobStoreKind] { S3TestServer.isConfigured ? [.file, .s3] : [.file] }
}

/// A fresh store of `kind` and, for the file store, its root (for the checks of its layout).
struct StoreUnderTest {
    let store: any BlobStore
    let kind: BlobStoreKind
    let fileRoot: URL?
    let s3: S3BlobStore?

    /// Nothing of a put is left over: no temporary file, no staging object, no deletion mark.
    func leftovers() async throws -> [String] {
        if let fileRoot { return entries(fileRoot.appendingPathComponent("tmp")) }
        guard let s3 else { return [] }
        return try await S3TestServer.keys(s3, under: "staging/") + S3TestServer.keys(s3, under: "deleting/")
    }

    /// How many hold records the blob has.
    func holdCount(tenant: String, id: BlobID) async throws -> Int {
        if let fileRoot {
            let tenants = fileRoot.appendingPathComponent("tenants")
            guard let data = files(named: "data", under: tenants).first(where: { $0.contains(id.hex) }) else { return 0 }
            return entries(URL(fileURLWithPath: (data as NSString).deletingLastPathComponent).appendingPathComponent("holds")).count
        }
        guard let s3 else { return 0 }
        return try await S3TestServer.keys(s3, under: S3BlobStore.Keys(tenant: tenant, id: id).holds).count
    }

    /// How many blobs (content objects or files) the store holds, over all tenants.
    func blobCount() async throws -> Int {
        if let fileRoot { return files(named: "data", under: fileRoot.appendingPathComponent("tenants")).count }
        guard let s3 else { return 0 }
        return try await S3TestServer.keys(s3, under: "blobs/").count
    }
}

func withBlobStore<T>(_ kind: BlobStoreKind, chunkSize: Int = 1 << 20, _ body: (StoreUnderTest) async throws -> T) async throws -> T {
    switch kind {
    case .file:
        return try await withStore(chunkSize: chunkSize) { store, root in
            try await body(StoreUnderTest(store: store, kind: .file, fileRoot: root, s3: nil))
        }
    case .s3:
        let store = try S3TestServer.store(chunkSize: chunkSize)
        return try await body(StoreUnderTest(store: store, kind: .s3, fileRoot: nil, s3: store))
    }
}
