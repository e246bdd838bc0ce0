import Foundation
import Jobs
import Testing
@testable import Chain

/// Node providers put API keys in the RPC URL (user part, path, query); no log line shows them.
@Suite struct RPCURLRedactionTests {
    @Test func credentialsNeverReachTheLogs() {
        #expect(JSONRPCClient.redacted("https://mainnet.infura.io/v3/0123456789abcdef") == "https://mainnet.infura.io/<redacted>")
        #expect(JSONRPCClient.redacted("https://user:pass@node.example:8545") == "https://node.example:8545/<redacted>")
        #expect(JSONRPCClient.redacted("http://127.0.0.1:8545?apikey=s3cret") == "http://127.0.0.1:8545/<redacted>")
        #expect(JSONRPCClient.redacted("http://127.0.0.1:8545") == "http://127.0.0.1:8545")
        #expect(JSONRPCClient.redacted("http://127.0.0.1:8545/") == "http://127.0.0.1:8545")
        #expect(JSONRPCClient.redacted("not a url at all SECRET") == "<an unparsable URL>")
    }

    /// The service started against a node that does not answer, with a key in every part of
    /// the URL: what it logs while it waits names the node but none of the secrets.
    @Test func theServiceLogsNoRPCCredentials() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: ServiceOnChainTests.executable.path), "build fhe-jobs first (scripts/test does)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-redact-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("confirmator.key").path
        try SecretFile.create(keyFile, contents: Data(DevChain.confirmator.withPrivateKeyBytes { Data($0).ethereumHex }.utf8))
        let server = Process()
        server.executableURL = ServiceOnChainTests.executable
        server.arguments = ["serve", "--metrics-port", "0", "--data-dir", directory.appendingPathComponent("data").path, "--port", "\(Int.random(in: 20_000..<40_000))",
                            "--workers", "0", "--chain-rpc-url", "http://alice:PASSWORD1@127.0.0.1:9/v3/PATHKEY2?apikey=QUERYKEY3",
                            "--chain-registry", "0x00000000000000000000000000000000000000aa", "--chain-key-file", keyFile]
        let logFile = directory.appendingPathComponent("log").path
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        server.standardOutput = log
        server.standardError = log
        try server.run()
        // It waits for the node (about 10 s of connection attempts), then says where it confirms.
        var text = ""
        for _ in 0..<300 where !text.contains("confirming results on chain") {
            try await Task.sleep(for: .milliseconds(100))
            text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        }
        server.terminate()
        server.waitUntilExit()
        try log.close()
        text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        #expect(text.contains("127.0.0.1"), "the log names the node: \(text)")
        for secret in ["alice", "PASSWORD1", "PATHKEY2", "QUERYKEY3"] { #expect(!text.contains(secret), "\(secret) in: \(text)") }
    }
}
