import Foundation
import Jobs
import Synchronization

/// A fresh store in its own directory, removed afterwards.
func withStore<T>(chunkSize: Int = 1 << 20, _ body: (FileBlobStore, URL) async throws -> T) async throws -> T {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)/store")
    defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
    let store = try FileBlobStore(root: root, chunkSize: chunkSize)
    return try await body(store, root)
}

func holder(_ name: String) -> BlobHolder { try! BlobHolder(name) }

func hold(_ name: String, for seconds: TimeInterval, from now: Date = Date()) -> BlobHold {
    BlobHold(holder: holder(name), expires: now.addingTimeInterval(seconds))
}

/// Deterministic bytes (xorshift64), so a test can regenerate what it stored.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> Data {
    var state = seed | 1
    var data = Data(count: count)
    data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
        for i in 0..<count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            buffer[i] = UInt8(truncatingIfNeeded: state)
        }
    }
    return data
}

/// SHA-256 by another implementation than the store's (coreutils' sha256sum), lowercase hex.
func sha256sum(ofFile path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}

func sha256sum(of data: Data) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try data.write(to: URL(fileURLWithPath: path))
    return try sha256sum(ofFile: path)
}

/// Files under `directory` (recursively) whose name is `name`.
func files(named name: String, under directory: URL) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
    return walker.compactMap { $0 as? String }.filter { ($0 as NSString).lastPathComponent == name }
        .map { directory.path + "/" + $0 }
}

func entries(_ directory: URL) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
}

func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue & 0o777
}

/// Yields `total` pseudo-random bytes in chunks of `chunk`, calling `beforeEach(sent)` before it
/// produces each chunk (with the bytes yielded so far), and failing after `failAfter` chunks.
struct ChunkSource: AsyncSequence {
    typealias Element = Data
    let total: Int
    let chunk: Int
    let seed: UInt64
    var failAfter: Int? = nil
    var beforeEach: @Sendable (Int) -> Void = { _ in }

    struct SourceFailure: Error {}

    struct AsyncIterator: AsyncIteratorProtocol {
        let source: ChunkSource
        var sent = 0
        var index = 0
        var generated: Data
        init(source: ChunkSource) { self.source = source; generated = pseudoRandomBytes(source.total, seed: source.seed) }
        mutating func next() async throws -> Data? {
            source.beforeEach(sent)
            if let failAfter = source.failAfter, index >= failAfter { throw SourceFailure() }
            guard sent < source.total else { return nil }
            let n = Swift.min(source.chunk, source.total - sent)
            defer { sent += n; index += 1 }
            return generated.subdata(in: sent..<(sent + n))
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: self) }
    var bytes: Data { pseudoRandomBytes(total, seed: seed) }
}

/// Collects a stream into one Data and the sizes of its chunks.
func collect(_ stream: AsyncThrowingStream<Data, any Error>) async throws -> (data: Data, chunkSizes: [Int]) {
    var data = Data()
    var sizes: [Int] = []
    for try await chunk in stream { data.append(chunk); sizes.append(chunk.count) }
    return (data, sizes)
}

/// A value that escaping closures share.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}
