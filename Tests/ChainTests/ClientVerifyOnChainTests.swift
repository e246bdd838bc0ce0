import Foundation
import Jobs
import Testing
@testable import Chain

/// `fhe client verify` on a confidential job confirmed on chain: the result hash recomputed
/// from the inputs the client holds, and found in the registry from the transaction the job
/// names; other inputs fail with one line.
@Suite struct ClientVerifyOnChainTests {
    static let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = Self.binaries.appendingPathComponent(tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                String(decoding: error, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func aConfidentialJobIsVerifiedAgainstItsInputsAndTheChain() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binaries.appendingPathComponent("fhe").path), "build fhe first (scripts/test does)")
        let chain = try DevChain()
        let registry = try await chain.deployRegistry()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-client-verify-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try SecretFile.create(path("confirmator.key"), contents: Data(DevChain.confirmator.withPrivateKeyBytes { Data($0).ethereumHex }.utf8))
        let port = Int.random(in: 20_000..<40_000)
        let server = Process()
        server.executableURL = Self.binaries.appendingPathComponent("fhe-jobs")
        server.arguments = ["serve", "--metrics-port", "0", "--data-dir", path("data"), "--port", "\(port)", "--workers", "1",
                            "--chain-rpc-url", chain.url, "--chain-registry", registry.address.description,
                            "--chain-key-file", path("confirmator.key"), "--chain-confirmations", "2",
                            "--fhe-parameters", Self.root.appendingPathComponent("params/insecure_test_64_2_2.json").path,
                            "--fhe-allow-insecure-parameters", "--fhe-seconds-per-bootstrap", "0.001"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let url = "http://127.0.0.1:\(port)"
        for _ in 0..<100 {
            if (try? Data(contentsOf: URL(string: "\(url)/v1/health?probe=live")!)) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let token = try run("fhe-jobs", ["token", "--data-dir", path("data"), "--tenant", "acme", "--role", "developer"]).out
        let env = ["FHE_JOBS_URL": url, "FHE_JOBS_TOKEN": token, "FHE_CLIENT_HOME": path("client")]
        func client(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try run("fhe", ["client"] + arguments, environment: env)
        }
        #expect(try client(["keygen", "--out", path("me.pem")]).status == 0)
        #expect(try client(["keys"]).status == 0)
        #expect(try client(["encrypt", "--type", "u8", "--values", "9,8,7", "--out", path("data.ct")]).status == 0)
        #expect(try client(["encrypt", "--type", "u8", "--values", "9,8,6", "--out", path("other.ct")]).status == 0)
        let submitted = try client(["submit", "--algorithm", "encrypted_statistical_analysis", "--data", path("data.ct"),
                                    "--key", path("me.pem"), "--param", #"statistics=["sum"]"#])
        #expect(submitted.status == 0, "\(submitted)")
        let job = String(submitted.out.split(separator: "\n").first ?? "")

        // The dev chain mines on demand: blocks while the job runs and is confirmed.
        let verify = ["verify", job, "--data", path("data.ct"), "--rpc-url", chain.url, "--registry", registry.address.description,
                      "--confirmations", "2"]
        var verified: (status: Int32, out: String, err: String) = (1, "", "")
        for _ in 0..<150 {
            try await chain.mine(1)
            verified = try client(verify)
            if verified.status == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(verified.status == 0 && verified.out.hasPrefix("verified: job \(job)"), "\(verified)")
        var forged = verify
        forged[3] = path("other.ct")
        let mismatch = try client(forged)
        #expect(mismatch.status != 0 && mismatch.err.contains("MISMATCH") && !mismatch.err.contains("\n"), "\(mismatch)")
        let result = try client(["result", job, "--key", path("me.pem")])
        #expect(result.status == 0 && result.out == #"{"sum":24}"#, "\(result)")
    }
}
