import Crypto
import Foundation
import Testing

/// The built `fhe client` against a built `fhe-jobs serve` (SQLite, the insecure test set),
/// as a user runs them: every algorithm through the whole flow, post-quantum sealing,
/// client-key mode, and one-line errors.
extension ConfidentialJobsTests {
    static var binaries: URL { WorkerCrashTests.executable.deletingLastPathComponent() }

    /// Runs a built executable; its exit status and standard output and error.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : binaries.appendingPathComponent(tool)
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

    @Test func theClientWalksTheWholeFlow() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binaries.appendingPathComponent("fhe").path), "build fhe first (scripts/test does)")
        let dir = try FHETestService.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        let port = 20000 + Int.random(in: 0..<20000)
        let url = "http://127.0.0.1:\(port)"
        func startServer() async throws -> Process {
            let server = Process()
            server.executableURL = Self.binaries.appendingPathComponent("fhe-jobs")
            server.arguments = ["serve", "--metrics-port", "0", "--data-dir", data, "--port", "\(port)", "--workers", "1",
                                "--fhe-parameters", FHETestService.parametersFile.path, "--fhe-allow-insecure-parameters",
                                "--fhe-seconds-per-bootstrap", "0.001"]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            var up = false
            for _ in 0..<200 where !up {
                up = (try? Data(contentsOf: URL(string: url + "/v1/health?probe=live")!)) != nil
                if !up { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(up, "the server did not start")
            return server
        }
        var server = try await startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let token = try Self.run("fhe-jobs", ["token", "--data-dir", data, "--tenant", "acme", "--role", "developer", "--subject", "alice"]).out
        let env = ["FHE_JOBS_URL": url, "FHE_JOBS_TOKEN": token, "FHE_CLIENT_HOME": dir.appendingPathComponent("client").path]
        func client(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try Self.run("fhe", ["client"] + arguments, environment: env)
        }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        // Keys: a P-256 pair written 0600 from the start, the key set fetched and the service key pinned.
        #expect(try client(["keygen", "--out", path("me.pem")]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: path("me.pem"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try client(["keygen", "--out", path("me.pem")]).status != 0, "keygen never overwrites a key")
        let keys = try client(["keys"])
        #expect(keys.status == 0 && keys.out.contains("key set "), "\(keys)")

        // Each algorithm, encrypted, quoted, submitted, waited for and opened.
        let cases: [(String, [String], [String], String)] = [
            ("encrypted_statistical_analysis", ["--type", "u16", "--values", "3,1,4,1,5"], ["--param", #"statistics=["sum","max"]"#],
             #"{"max":5,"sum":14}"#),
            ("confidential_transfer", ["--input", "balances:u16[]=100,20,7", "--input", "amounts:u16[]=30,500,5"],
             ["--parameters", #"{"transfers": [{"from": 0, "to": 1}, {"from": 1, "to": 2}, {"from": 2, "to": 0}]}"#],
             #"{"balances":[75,50,2],"succeeded":[true,false,true]}"#),
            ("program", ["--input", "a:u8=200", "--input", "b:u8=90"],
             ["--parameters", #"{"inputs": {"a": "u8", "b": "u8"}, "nodes": [{"id": "s", "op": "add", "args": ["a", "b"]}, {"id": "c", "op": "lt", "args": ["a", "b"]}], "outputs": ["s", "c"]}"#],
             #"{"c":false,"s":34}"#),
        ]
        var finished: [(job: String, data: String)] = []
        for (algorithm, inputs, parameters, expected) in cases {
            let file = path("\(algorithm).ct")
            let encrypted = try client(["encrypt"] + inputs + ["--out", file])
            #expect(encrypted.status == 0, "\(algorithm): \(encrypted)")
            let submission = ["--algorithm", algorithm, "--data", file, "--key", path("me.pem")] + parameters
            let quote = try client(["quote"] + submission)
            #expect(quote.status == 0 && quote.out.hasPrefix("quote: "), "\(algorithm): \(quote)")
            let submitted = try client(["submit"] + submission)
            #expect(submitted.status == 0, "\(algorithm): \(submitted)")
            let job = String(submitted.out.split(separator: "\n").first ?? "")
            finished.append((job, file))
            #expect(submitted.out.contains(quote.out), "the job's quote is the quote")
            let waited = try client(["wait", job])
            let last = waited.out.split(separator: "\n").last ?? ""
            #expect(waited.status == 0 && (last.hasPrefix("confirmed") || last.hasPrefix("succeeded")), "\(algorithm): \(waited)")
            let result = try client(["result", job, "--key", path("me.pem")])
            #expect(result.status == 0 && result.out == expected, "\(algorithm): \(result)")
            if algorithm == "encrypted_statistical_analysis" {
                let postQuantum = try client(["result", job, "--key", path("me.pem"), "--post-quantum"])
                #expect(postQuantum.status == 0 && postQuantum.out == expected, "\(postQuantum)")
                // Another key cannot open it; one clear line, a non-zero status.
                #expect(try client(["keygen", "--out", path("other.pem")]).status == 0)
                let refused = try client(["result", job, "--key", path("other.pem")])
                #expect(refused.status != 0 && refused.err.contains("INVALID_SIGNATURE") && !refused.err.contains("\n"), "\(refused)")
            }
        }

        // Client-key mode: the engine's own keys, the server key uploaded, the result opened locally.
        let keygen = try Self.run("fhe", ["keygen", "--params", FHETestService.parametersFile.path, "--allow-insecure", "--out", path("own")])
        #expect(keygen.status == 0, "\(keygen)")
        let uploaded = try client(["upload-server-key", path("own/server.key")])
        #expect(uploaded.status == 0 && uploaded.out.count == 64, "\(uploaded)")
        #expect(try client(["encrypt", "--type", "u8", "--values", "1,2,250", "--client-key", path("own/client.key"),
                            "--server-key", path("own/server.key"), "--out", path("own.ct")]).status == 0)
        let own = try client(["submit", "--algorithm", "encrypted_statistical_analysis", "--data", path("own.ct"), "--key", path("me.pem"),
                              "--param", #"statistics=["sum","min"]"#, "--server-key-id", uploaded.out])
        #expect(own.status == 0, "\(own)")
        let ownJob = String(own.out.split(separator: "\n").first ?? "")
        #expect(try client(["wait", ownJob]).status == 0)
        let opened = try client(["result", ownJob, "--key", path("me.pem"), "--client-key", path("own/client.key")])
        #expect(opened.status == 0 && opened.out == #"{"min":1,"sum":253}"#, "\(opened)")

        // The ledger: the job's entry checked through the signed head, by the client (the
        // head it saw kept) and by anyone with the service's key.
        finished.append((ownJob, path("own.ct")))
        for (job, file) in finished {
            var verified = try client(["verify", job, "--data", file])
            for _ in 0..<100 where verified.status != 0 && verified.err.contains("not confirmed yet") {
                try await Task.sleep(for: .milliseconds(100))
                verified = try client(["verify", job, "--data", file])
            }
            #expect(verified.status == 0 && verified.out.contains("of the service's ledger"), "\(verified)")
        }
        let serviceKey = try Self.run("fhe-jobs", ["ledger", "key", "--data-dir", data])
        #expect(serviceKey.status == 0 && serviceKey.out.count == 44, "\(serviceKey)")
        let auditor = ["ledger", "verify", "--server", url, "--token", token, "--service-key", serviceKey.out, "--state", path("head.json")]
        let audited = try Self.run("fhe-jobs", auditor)
        #expect(audited.status == 0 && audited.out.hasPrefix("verified: "), "\(audited)")
        let stranger = try Self.run("fhe-jobs", ["ledger", "verify", "--server", url, "--token", token,
                                                 "--service-key", Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()])
        #expect(stranger.status != 0 && stranger.err.contains("not signed by the service's key"), "\(stranger)")

        // The newest entry removed behind the service's back (its triggers dropped): both
        // verifiers, holding a head they saw before, refuse the shorter ledger.
        server.terminate(); server.waitUntilExit()
        let cut = try Self.run("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("DROP TRIGGER ledger_no_delete")
            db.execute("DELETE FROM ledger WHERE sequence = (SELECT MAX(sequence) FROM ledger)")
            db.commit()
            """, data + "/jobs.sqlite"])
        #expect(cut.status == 0, "\(cut)")
        server = try await startServer()
        let truncated = try client(["verify", finished[0].job, "--data", finished[0].data])
        #expect(truncated.status != 0 && truncated.err.contains("entries were removed"), "\(truncated)")
        let reaudited = try Self.run("fhe-jobs", auditor)
        #expect(reaudited.status != 0 && reaudited.err.contains("entries were removed"), "\(reaudited)")

        // Errors are one line with a non-zero status.
        let unknown = try client(["wait", UUID().uuidString])
        #expect(unknown.status != 0 && unknown.err.contains("HTTP 404"), "\(unknown)")
        let badInput = try client(["encrypt", "--input", "x:u8=300", "--out", path("bad.ct")])
        #expect(badInput.status != 0 && badInput.err.contains("not a u8"), "\(badInput)")
        let noToken = try Self.run("fhe", ["client", "keys"], environment: ["FHE_JOBS_URL": url, "FHE_JOBS_TOKEN": ""])
        #expect(noToken.status != 0 && noToken.err.contains("no access token"), "\(noToken)")
    }
}
