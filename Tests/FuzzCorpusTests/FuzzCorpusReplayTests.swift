import Foundation
import AuthFuzzTargets
import FuzzTargets
import Testing

/// Replays what the fuzzers found (`scripts/fuzz`): every committed corpus file and every
/// crash's regression input goes through its target again, as do the real encodings the
/// corpora started from. A parser change that brings back a crash, a trap or a broken
/// invariant fails here, without the instrumented build.
@Suite("Fuzz corpora: replay")
struct FuzzCorpusReplayTests {
    static let corpora = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("FuzzCorpora")
    static let targets = FuzzTarget.all + AuthFuzzTargets.all

    /// The files of a folder, none if it does not exist.
    static func inputs(in folder: URL) throws -> [URL] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.hasDirectoryPath }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: targets.map(\.name))
    func corpusAndRegressionsReplay(_ name: String) async throws {
        let target = try #require(Self.targets.first { $0.name == name })
        let corpus = try Self.inputs(in: Self.corpora.appendingPathComponent(name))
        let regressions = try Self.inputs(in: Self.corpora.appendingPathComponent("regressions").appendingPathComponent(name))
        // A fuzzed target without a corpus was never run: its corpus is part of the work. (The
        // authentication's targets are not in the libFuzzer build: AuthFuzzTargets says why.)
        let isFuzzed = FuzzTarget.all.contains { $0.name == name }
        #expect(!isFuzzed || !corpus.isEmpty, "\(name): the corpus has \(corpus.count) inputs; run scripts/fuzz \(name)")
        for file in corpus + regressions {
            let data = try Data(contentsOf: file)
            #expect(data.count <= target.maximumInputLength, "\(file.lastPathComponent) is longer than the fuzzer's inputs")
            if let error = await Self.run(target, data) { Issue.record("\(name)/\(file.lastPathComponent): \(error)") }
        }
    }

    @Test(arguments: targets.map(\.name))
    func seedsPassTheirOwnTarget(_ name: String) async throws {
        let target = try #require(Self.targets.first { $0.name == name })
        let seeds = try target.seeds()
        #expect(!seeds.isEmpty)
        for seed in seeds {
            #expect(seed.count <= target.maximumInputLength, "\(name): a seed of \(seed.count) bytes")
            if let error = await Self.run(target, seed) { Issue.record("\(name): seed: \(error)") }
        }
    }

    /// Runs a target on a thread of its own: the authentication's targets wait for async code
    /// (as libFuzzer's callback must), which would starve the test's cooperative threads.
    static func run(_ target: FuzzTarget, _ data: Data) async -> (any Error)? {
        await withCheckedContinuation { continuation in
            Thread {
                do { try target.run(data); continuation.resume(returning: nil) } catch { continuation.resume(returning: error) }
            }.start()
        }
    }
}
