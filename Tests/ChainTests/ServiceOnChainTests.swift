import Foundation
import Jobs
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Chain

/// The whole flow through the built `fhe-jobs`: a job submitted over HTTP runs, its result is
/// confirmed on the registry, `GET /v1/jobs/{id}` shows the transaction and block, and
/// `fhe-jobs chain verify` checks the result a client holds against the chain.
@Suite struct ServiceOnChainTests {
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fhe-jobs")

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    private func request(_ method: String, _ url: String, token: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aJobIsConfirmedOnChainAndVerifiable() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build fhe-jobs first (scripts/test does)")
        let chain = try DevChain()
        let registry = try await chain.deployRegistry()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-chain-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("confirmator.key").path
        try SecretFile.create(keyFile, contents: Data(DevChain.confirmator.withPrivateKeyBytes { Data($0).ethereumHex }.utf8))
        let port = Int.random(in: 20_000..<40_000)
        let data = directory.appendingPathComponent("data").path

        let server = Process()
        server.executableURL = Self.executable
        server.arguments = ["serve", "--metrics-port", "0", "--data-dir", data, "--port", "\(port)", "--workers", "1",
                            "--chain-rpc-url", chain.url, "--chain-registry", registry.address.description,
                            "--chain-key-file", keyFile, "--chain-confirmations", "2"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<100 {
            if (try? await URLSession.shared.data(from: URL(string: "\(base)/v1/health?probe=live")!)) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let token = try run(["token", "--data-dir", data, "--tenant", "acme", "--role", "developer"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let submitted = try await request("POST", "\(base)/v1/jobs", token: token,
                                          body: ["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "on chain"]]])
        let id = try #require(submitted["id"] as? String)
        var job: [String: Any] = [:]
        for _ in 0..<150 where job["status"] as? String != "confirmed" {
            try await Task.sleep(for: .milliseconds(200))
            try await chain.mine(1)
            job = try await request("GET", "\(base)/v1/jobs/\(id)", token: token)
        }
        #expect(job["status"] as? String == "confirmed")
        let confirmation = try #require(job["confirmation"] as? [String: Any])
        #expect(confirmation["kind"] as? String == "chain")
        let transaction = try #require(confirmation["reference"] as? String)
        let block = try #require(confirmation["blockNumber"] as? Int)
        let receipt = try #require(try await chain.rpc.transactionReceipt(try Data(ethereumHex: transaction)))
        #expect(receipt.blockNumber == UInt64(block) && receipt.succeeded)

        // The client checks the result it holds, trusting only the chain.
        let resultFile = directory.appendingPathComponent("result.json").path
        try JSONSerialization.data(withJSONObject: try #require(job["result"])).write(to: URL(fileURLWithPath: resultFile))
        let verify = ["chain", "verify", "--rpc-url", chain.url, "--registry", registry.address.description,
                      "--job-id", id, "--confirmations", "2", "--result-file", resultFile]
        let verified = try run(verify)
        #expect(verified.status == 0 && verified.output.contains("verified") && verified.output.contains(transaction))
        // A different result fails the check with one line.
        try JSONSerialization.data(withJSONObject: ["sha256": "forged", "bytes": 8]).write(to: URL(fileURLWithPath: resultFile))
        let forged = try run(verify)
        #expect(forged.status == 1 && forged.output.contains("MISMATCH") && forged.output.split(separator: "\n").count == 1)
    }
}
