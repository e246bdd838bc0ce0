import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import TFHE

/// The `fhe` binary as a user runs it: keygen, encryption with the public key, decryption,
/// inspection, and one-line errors with a non-zero status.
@Suite("fhe key tool (runs the built binary)")
struct KeyToolTests {
    static let root = TestPaths.repository
    static let binary = root.appendingPathComponent(".build/release/fhe")

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        // Files rather than pipes: the outputs are small, and nothing can block or be interrupted.
        let folder = FileManager.default.temporaryDirectory
        let outURL = folder.appendingPathComponent("fhe-out-\(UUID().uuidString)")
        let errURL = folder.appendingPathComponent("fhe-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let stdout = try Data(contentsOf: outURL), stderr = try Data(contentsOf: errURL)
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func keygenEncryptWithThePublicKeyDecryptInspect() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build fhe first (swift build -c release)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-keytool-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = dir.appendingPathComponent("keys").path

        // An insecure set is refused without the flag, in one line on stderr.
        let refused = try Self.run(["keygen", "--params", "insecure_test_64", "--out", keys])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("insecure"))
        #expect(refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)

        let keygen = try Self.run(["keygen", "--params", "insecure_test_64", "--out", keys, "--allow-insecure"])
        #expect(keygen.status == 0, "\(keygen.stderr)")
        #expect(keygen.stdout.contains("server.key") && keygen.stdout.contains("compressed"))
        // A set kept for benchmarks makes no keys unless asked.
        let benchmarkOnly = try Self.run(["keygen", "--params", "concrete_4bit_n807_k2_n1024", "--out", dir.appendingPathComponent("bench").path])
        #expect(benchmarkOnly.status != 0 && benchmarkOnly.stderr.contains("--allow-benchmark-only"), "\(benchmarkOnly.stderr)")
        // The client key is its owner's only, and never overwritten; one others may read is refused.
        let clientKey = "\(keys)/client.key"
        #expect(try FileManager.default.attributesOfItem(atPath: clientKey)[.posixPermissions] as? Int == 0o600)
        let again = try Self.run(["keygen", "--params", "insecure_test_64", "--out", keys, "--allow-insecure"])
        #expect(again.status != 0 && again.stderr.contains("never overwrites a secret key"), "\(again.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: clientKey)
        let exposed = try Self.run(["inspect", clientKey])
        #expect(exposed.status != 0 && exposed.stderr.contains("chmod 600"), "\(exposed.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: clientKey)

        for (value, type, form) in [("3", "block", []), ("true", "bool", []), ("0", "block", ["--uncompressed"]),
                                    ("200", "u8", []), ("65535", "u16", ["--uncompressed"]), ("18446744073709551615", "u64", [])] {
            let cipher = dir.appendingPathComponent("c-\(value).ct").path
            let encrypt = try Self.run(["encrypt", "--key", "\(keys)/public.key", "--value", value, "--type", type, "--out", cipher] + form)
            #expect(encrypt.status == 0, "\(encrypt.stderr)")
            let decrypt = try Self.run(["decrypt", "--key", "\(keys)/client.key", cipher])
            #expect(decrypt.status == 0, "\(decrypt.stderr)")
            #expect(decrypt.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == value)
        }
        let inspectCompact = try Self.run(["inspect", dir.appendingPathComponent("c-true.ct").path])
        #expect(inspectCompact.stdout.contains("compact public-key list") && inspectCompact.stdout.contains("expanding to a FheBool"))
        // With the client key (seeded ciphertext).
        let seeded = dir.appendingPathComponent("s.ct").path
        #expect(try Self.run(["encrypt", "--key", "\(keys)/client.key", "--value", "2", "--out", seeded]).status == 0)
        #expect(try Self.run(["decrypt", "--key", "\(keys)/client.key", seeded]).stdout.hasPrefix("2"))

        // inspect names the kind and the set and shows no key material.
        let inspect = try Self.run(["inspect", "\(keys)/client.key"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("client key") && inspect.stdout.contains("INSECURE_TEST_64_N256"))
        let inspectServer = try Self.run(["inspect", "\(keys)/server.key"])
        #expect(inspectServer.stdout.contains("server key (compressed"))

        // Away from its parameter file, inspect still tells what an object is; decrypt cannot.
        let alone = dir.appendingPathComponent("alone")
        try FileManager.default.createDirectory(at: alone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: seeded, toPath: alone.appendingPathComponent("s.ct").path)
        let noParams = ["FHE_PARAMS_DIR": alone.path]
        let unknown = try Self.run(["inspect", alone.appendingPathComponent("s.ct").path], environment: noParams)
        #expect(unknown.status == 0 && unknown.stdout.contains("unknown here") && unknown.stdout.contains("block list (compressed"))

        // Full keys: the server key says so, and the public key encrypts for the client key.
        let fullKeys = dir.appendingPathComponent("full").path
        let full = try Self.run(["keygen", "--params", "insecure_test_64", "--out", fullKeys, "--allow-insecure", "--uncompressed"])
        #expect(full.status == 0 && full.stdout.contains("server key (full)"))
        let fromFull = dir.appendingPathComponent("f.ct").path
        #expect(try Self.run(["encrypt", "--key", "\(fullKeys)/public.key", "--value", "1", "--out", fromFull]).status == 0)
        #expect(try Self.run(["decrypt", "--key", "\(fullKeys)/client.key", fromFull]).stdout.hasPrefix("1"))

        // A corrupted ciphertext: one clear line, non-zero status.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: seeded))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: seeded))
        let corrupted = try Self.run(["decrypt", "--key", "\(keys)/client.key", seeded])
        #expect(corrupted.status != 0)
        #expect(corrupted.stderr.contains("checksum mismatch"))
        #expect(corrupted.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
        // Decrypting with a public key is refused.
        let wrongKey = try Self.run(["decrypt", "--key", "\(keys)/public.key", seeded])
        #expect(wrongKey.status != 0 && wrongKey.stderr.contains("not a client key"))
        // An out-of-range value.
        let range = try Self.run(["encrypt", "--key", "\(keys)/public.key", "--value", "9", "--out", seeded])
        #expect(range.status != 0 && range.stderr.contains("0..<4"))
        let wide = try Self.run(["encrypt", "--key", "\(keys)/public.key", "--type", "u8", "--value", "256", "--out", seeded])
        #expect(wide.status != 0 && wide.stderr.contains("0...255"))
    }

    /// `fhe bench --count-only --json`: JSON alone on standard output (it is piped into jq), with
    /// the same counts as a metadata-only key gives here, and a one-line error for an operation
    /// it cannot count.
    @Test func benchCountsBootstrapsWithoutCryptography() throws {
        let outcome = try Self.run(["bench", "--params", "tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128",
                                    "--operations", "add,eq,mul", "--width", "8,64", "--count-only", "--json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        struct Count: Decodable { let operation: String; let width: Int; let bootstraps: Int; let depth: Int }
        struct Report: Decodable { let parameters: String; let counts: [Count] }
        let report = try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8))
        #expect(report.counts.map { "\($0.operation)\($0.width)" } == ["add8", "eq8", "mul8", "add64", "eq64", "mul64"])

        let params = try TestParameters.load("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128")
        let client = try ClientKey<UInt64>(parameters: params)
        let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: params)
        let a = try client.encryptRadix(200, blockCount: 32), b = try client.encryptRadix(7, blockCount: 32)
        var before = key.bootstrapCount
        _ = try key.eq(a, b)
        #expect(report.counts.first { $0.operation == "eq" && $0.width == 64 }?.bootstraps == key.bootstrapCount - before)
        before = key.bootstrapCount
        _ = try key.mul(a, b)
        #expect(report.counts.first { $0.operation == "mul" && $0.width == 64 }?.bootstraps == key.bootstrapCount - before)
        #expect(report.counts.allSatisfy { $0.depth > 0 && $0.depth <= $0.bootstraps })

        let refused = try Self.run(["bench", "--operations", "ks+pbs", "--count-only"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--count-only counts integer operations only"))
    }

    /// `fhe bench --report`: the page, its three charts (well-formed SVG) and the JSON, with the
    /// peers' figures from the peers script (here a stand-in printing two fixed peers, since
    /// the real one lives outside the repository), the integer counts equal to --count-only's,
    /// the machine and the command; without a peers script the page says so.
    @Test func benchWritesAReport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let peers = dir.appendingPathComponent("peers.sh")
        try """
        echo '{"peer": "concrete-python", "op": "ks+pbs", "ms": 21.5}'
        echo '{"peer": "openfhe-binfhe", "op": "nand-gate-bootstrap", "ms": 40.25}'
        """.write(to: peers, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("report")
        let outcome = try Self.run(["bench", "--report", out.path, "--runs", "2", "--iterations", "2", "--params", "insecure_test_64_2_2",
                                    "--width", "8", "--operations", "add", "--peers-script", peers.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let page = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(page.contains("| KS+PBS, 4-bit table | concrete_4bit_n807_k2_n1024 |") && page.contains("| concrete-python | 21.50 [21.50–21.50] |"))
        #expect(page.contains("| openfhe-binfhe | 40.25 [40.25–40.25] |"))
        #expect(page.contains("![One bootstrap against the peers](engine.svg)") && page.contains("fhe bench --report"))
        for chart in ["engine.svg", "integer-bootstraps.svg", "integer-latency.svg"] {
            let parser = XMLParser(contentsOf: out.appendingPathComponent(chart))!
            #expect(parser.parse(), "\(chart) is not well-formed: \(String(describing: parser.parserError))")
        }
        struct Row: Decodable { let operation: String; let width: Int; let bootstraps: Int; let milliseconds: Double? }
        struct Engine: Decodable { let peer: String; let theirs: Spread?; struct Spread: Decodable { let median: Double; let runs: Int } }
        struct Report: Decodable { let integers: [Row]; let engine: [Engine]; let commit: String }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.engine.map { $0.theirs?.median } == [21.5, 40.25] && report.engine.allSatisfy { $0.theirs?.runs == 2 })
        let counted = try Self.run(["bench", "--params", "insecure_test_64_2_2", "--operations", "add,mul", "--width", "8", "--count-only", "--json"])
        struct Count: Decodable { let operation: String; let bootstraps: Int }
        struct Counts: Decodable { let counts: [Count] }
        let counts = try JSONDecoder().decode(Counts.self, from: Data(counted.stdout.utf8)).counts
        for count in counts {
            #expect(report.integers.first { $0.operation == count.operation && $0.width == 8 }?.bootstraps == count.bootstraps)
        }
        #expect(report.integers.first { $0.operation == "add" }?.milliseconds != nil, "add was timed")
        #expect(report.integers.first { $0.operation == "mul" }?.milliseconds == nil, "mul was only counted")

        let without = try Self.run(["bench", "--report", out.path, "--runs", "1", "--iterations", "1", "--params", "insecure_test_64_2_2",
                                    "--width", "8", "--operations", "add", "--peers-script", "none"])
        #expect(without.status == 0, "\(without.stderr)")
        #expect(try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8).contains("not measured"))
    }
}
