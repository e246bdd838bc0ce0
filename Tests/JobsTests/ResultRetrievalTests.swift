import Crypto
@testable import FHEJobs
import FHEPrograms
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import Synchronization
import TFHE
import Testing

/// The independent client of the protocol (scripts/retrieval_peer.py, Python's `cryptography`
/// and `pyhpke`, and scripts/xwing.py on kyber-py, pinned in .build-hpke-venv by scripts/test).
struct RetrievalPeer {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = ProcessInfo.processInfo.environment["FHE_JOBS_TEST_HPKE_PYTHON"]
        ?? root.appendingPathComponent(".build-hpke-venv/bin/python").path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("scripts/retrieval_peer.py").path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A private key in a file for the peer (PKCS#8 PEM), removed by the caller.
    static func keyFile(_ pem: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retrieval-\(UUID().uuidString).pem")
        try Data(pem.utf8).write(to: url)
        return url
    }
}

extension ConfidentialJobsTests {
    func retrieval(_ client: any TestClientProtocol, token: String, job: String, body: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/v1/jobs/\(job)/fhe-result", method: .post, headers: .bearer(token), body: jsonBuffer(body))
    }

    static func nonce() -> String { "n-" + UUID().uuidString }

    /// Network-key mode end to end, with the client side played by the independent peer: it
    /// signs the request, checks the answer's signature and opens the seal; then every refusal,
    /// a nonce raced by 20 requests, a separate P-256 sealing key and a post-quantum X-Wing one.
    @Test(arguments: StoreKind.available)
    func resultsAreRetrievedSealedToTheirOwner(_ kind: StoreKind) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: RetrievalPeer.python), "scripts/test makes .build-hpke-venv")
        try await withConfidentialService(kind) { h, api, _ in
            let alice = try await h.token(), stranger = try await h.token(tenant: "globex")
            let owner = P256.Signing.PrivateKey()
            let keyFile = try RetrievalPeer.keyFile(owner.pemRepresentation)
            defer { try? FileManager.default.removeItem(at: keyFile) }
            let (pool, confirmer) = workers(h, api)
            try await h.test { client in
                let keys = try await FHETestClient.fetch(client, token: alice)
                let values: [UInt64] = [70, 3, 65535, 12, 900]
                let file = try keys.encrypt([("data", .vector(.uint16, length: values.count), .vector(values.map { .uint($0) }))])
                var submission = fheSubmission("encrypted_statistical_analysis", data: file,
                                               parameters: ["statistics": ["sum", "max", "count_above"], "threshold": 50])
                var payload = submission["payload"] as! [String: Any]
                payload["client_public_key"] = owner.publicKey.pemRepresentation
                submission["payload"] = payload
                let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(submission))
                #expect(submitted.status == .accepted, "\(submitted.json)")
                let id = try #require(submitted.json["id"] as? String)
                let jobID = try #require(UUID(uuidString: id))
                // Not run yet (no worker): not finished, whatever the body.
                let early = try await retrieval(client, token: alice, job: id, body: ["retrievalNonce": Self.nonce(), "clientSignature": "00"])
                #expect(early.status == .conflict && early.problemCode == "JOB_NOT_FINISHED")

                let done = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await pool.run() }
                    group.addTask { await confirmer.run() }
                    defer { group.cancelAll() }
                    return try await waitFor(id, in: h.store) { $0.status == .confirmed || $0.status == .failed }
                }
                #expect(done.status == .confirmed)
                let resultHash = try #require(done.resultHash)

                func signed(_ nonce: String, resultHash: String = resultHash, sealingKey: Data? = nil) throws -> String {
                    let message = RetrievalMessages.request(jobID: jobID, nonce: nonce, resultHash: resultHash,
                                                            sealingKey: try sealingKey.map { try SealingKey($0) })
                    let (status, signature) = try RetrievalPeer.run(["sign", keyFile.path, message.hexString])
                    #expect(status == 0)
                    return signature
                }
                func checkAnswer(_ r: TestResponse, nonce: String) throws {
                    let answer = String(decoding: try JSONSerialization.data(withJSONObject: r.json), as: UTF8.self)
                    let service = FHETestService.serviceKey.publicKey.rawRepresentation.base64EncodedString()
                    #expect(try RetrievalPeer.run(["check-answer", service, nonce, answer]).status == 0, "the answer's signature")
                }
                let expected: [String: Any] = ["sum": Int(values.reduce(0, +)), "max": 65535, "count_above": 3]
                func outputs(_ plaintext: String) throws -> [String: Int] {
                    let json = try JSONSerialization.jsonObject(with: Data(plaintext.utf8)) as? [String: Any]
                    return try #require(json?["outputs"] as? [String: Int])
                }

                // Retrieved, sealed to the job's key, checked and opened by the peer.
                let nonce = Self.nonce()
                let body: [String: Any] = ["retrievalNonce": nonce, "clientSignature": try signed(nonce)]
                let r = try await retrieval(client, token: alice, job: id, body: body)
                #expect(r.status == .ok, "\(r.json)")
                #expect(r.json["resultHash"] as? String == resultHash && r.json["jobId"] as? String == id)
                #expect((r.json["confirmation"] as? [String: Any])?["reference"] as? String == done.confirmation?.reference)
                try checkAnswer(r, nonce: nonce)
                let sealed = try #require(r.json["sealed"] as? [String: Any])
                #expect(sealed["suite"] as? [String: Int] == ["kem": 16, "kdf": 1, "aead": 2])
                let message = RetrievalMessages.request(jobID: jobID, nonce: nonce, resultHash: resultHash, sealingKey: nil)
                let (opened, plaintext) = try RetrievalPeer.run([
                    "open", keyFile.path, RetrievalMessages.info(jobID: jobID).hexString, message.hexString,
                    try #require(sealed["enc"] as? String), try #require(sealed["ciphertext"] as? String)])
                #expect(opened == 0)
                #expect(try outputs(plaintext) == expected as? [String: Int])
                // Padded to the types' longest text (sum u32, max u16, count_above u32), plus the
                // AES-GCM tag: the same length whatever the values.
                let longest = try ResultPlaintext.encode(
                    outputs: [FHEOutput(name: "sum", type: "u32"), FHEOutput(name: "max", type: "u16"), FHEOutput(name: "count_above", type: "u32")],
                    values: [("sum", .uint(UInt64(UInt32.max))), ("max", .uint(65535)), ("count_above", .uint(UInt64(UInt32.max)))])
                #expect(Data(base64Encoded: sealed["ciphertext"] as! String)?.count == longest.count + 16)

                // Refusals, each with its code.
                let other = P256.Signing.PrivateKey()
                let nonce2 = Self.nonce()
                let byOther = try other.signature(for: RetrievalMessages.request(jobID: jobID, nonce: nonce2, resultHash: resultHash, sealingKey: nil))
                let refusals: [(String, String, [String: Any], HTTPResponse.Status, String)] = [
                    ("a replayed nonce", alice, body, .conflict, "NONCE_REUSED"),
                    ("a signature by another key", alice, ["retrievalNonce": nonce2, "clientSignature": byOther.derRepresentation.hexString],
                     .forbidden, "INVALID_SIGNATURE"),
                    ("a signature over another nonce", alice, ["retrievalNonce": nonce2, "clientSignature": try signed(Self.nonce())],
                     .forbidden, "INVALID_SIGNATURE"),
                    ("a signature over another result", alice,
                     ["retrievalNonce": nonce2, "clientSignature": try signed(nonce2, resultHash: String(repeating: "0", count: 64))],
                     .forbidden, "INVALID_SIGNATURE"),
                    ("not hex", alice, ["retrievalNonce": nonce2, "clientSignature": "zz"], .forbidden, "INVALID_SIGNATURE"),
                    ("a short nonce", alice, ["retrievalNonce": "abc", "clientSignature": try signed(nonce2)], .badRequest, "INVALID_REQUEST"),
                    ("no signature", alice, ["retrievalNonce": nonce2], .badRequest, "INVALID_REQUEST"),
                    ("an unknown field", alice, ["retrievalNonce": nonce2, "clientSignature": try signed(nonce2), "x": 1], .badRequest, "INVALID_REQUEST"),
                    ("another tenant's token", stranger, ["retrievalNonce": nonce2, "clientSignature": try signed(nonce2)], .notFound, "NOT_FOUND"),
                ]
                for (name, token, request, status, code) in refusals {
                    let refused = try await retrieval(client, token: token, job: id, body: request)
                    #expect(refused.status == status && refused.problemCode == code, "\(name): \(refused.status) \(refused.json)")
                }
                // The refused nonce2 was never consumed (refusals come before the nonce): it still works.
                #expect(try await retrieval(client, token: alice, job: id,
                                            body: ["retrievalNonce": nonce2, "clientSignature": try signed(nonce2)]).status == .ok)

                // A plain job has no sealed result.
                let plain = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice),
                                                     body: jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "x"]]]))
                let plainID = try #require(plain.json["id"] as? String)
                let notConfidential = try await retrieval(client, token: alice, job: plainID, body: ["retrievalNonce": "x"])
                #expect(notConfidential.status == .conflict && notConfidential.problemCode == "NOT_CONFIDENTIAL_JOB")

                // 20 concurrent retrievals with one nonce: exactly one succeeds.
                let raced = Self.nonce()
                let racedBody: [String: Any] = ["retrievalNonce": raced, "clientSignature": try signed(raced)]
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    let request = jsonBuffer(racedBody)
                    for _ in 0..<20 {
                        group.addTask {
                            try await client.execute(uri: "/v1/jobs/\(id)/fhe-result", method: .post, headers: .bearer(alice), body: request).status
                        }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .ok }.count == 1 && statuses.filter { $0 == .conflict }.count == 19, "\(statuses)")

                // The seed's example body as written (its nonce, a 0x-prefixed hex signature).
                let seedNonce = "retrieval_nonce_12345"
                let seedSignature = try owner.signature(for: RetrievalMessages.request(jobID: jobID, nonce: seedNonce, resultHash: resultHash, sealingKey: nil))
                let seedBody = ByteBuffer(string: #"{"clientSignature": "0x\#(seedSignature.rawRepresentation.hexString)", "retrievalNonce": "retrieval_nonce_12345"}"#)
                let seed = try await client.execute(uri: "/v1/jobs/\(id)/fhe-result", method: .post, headers: .bearer(alice), body: seedBody)
                #expect(seed.status == .ok, "\(seed.json)")
                try checkAnswer(seed, nonce: seedNonce)

                // A separate P-256 sealing key, opened by the peer with that key.
                let sealing = P256.KeyAgreement.PrivateKey()
                let sealingFile = try RetrievalPeer.keyFile(sealing.pemRepresentation)
                defer { try? FileManager.default.removeItem(at: sealingFile) }
                let nonce3 = Self.nonce()
                let point = sealing.publicKey.x963Representation
                let r3 = try await retrieval(client, token: alice, job: id, body: [
                    "retrievalNonce": nonce3, "clientSignature": try signed(nonce3, sealingKey: point), "sealingKey": point.base64EncodedString()])
                #expect(r3.status == .ok, "\(r3.json)")
                try checkAnswer(r3, nonce: nonce3)
                let sealed3 = try #require(r3.json["sealed"] as? [String: Any])
                let message3 = RetrievalMessages.request(jobID: jobID, nonce: nonce3, resultHash: resultHash, sealingKey: .p256(point))
                let (status3, plaintext3) = try RetrievalPeer.run(["open", sealingFile.path, RetrievalMessages.info(jobID: jobID).hexString,
                                                                   message3.hexString, sealed3["enc"] as! String, sealed3["ciphertext"] as! String])
                let opened3 = try outputs(plaintext3)
                #expect(status3 == 0 && opened3 == expected as? [String: Int])
                // The same sealing key with a signature that does not name it is refused.
                let nonce4 = Self.nonce()
                let unnamed = try await retrieval(client, token: alice, job: id, body: [
                    "retrievalNonce": nonce4, "clientSignature": try signed(nonce4), "sealingKey": point.base64EncodedString()])
                #expect(unnamed.status == .forbidden && unnamed.problemCode == "INVALID_SIGNATURE")

                // Post-quantum hybrid: an X-Wing sealing key made and opened by the peer's own
                // X-Wing (scripts/xwing.py), not swift-crypto's.
                let xWingSeed = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).hexString
                let (derived, xWingText) = try RetrievalPeer.run(["xwing-public", xWingSeed])
                let xWingKey = try #require(Data(base64Encoded: xWingText), "xwing-public: \(derived)")
                #expect(xWingKey.count == SealingKey.xWingLength)
                let nonce5 = Self.nonce()
                let r5 = try await retrieval(client, token: alice, job: id, body: [
                    "retrievalNonce": nonce5, "clientSignature": try signed(nonce5, sealingKey: xWingKey), "sealingKey": xWingKey.base64EncodedString()])
                #expect(r5.status == .ok, "\(r5.json)")
                try checkAnswer(r5, nonce: nonce5)
                let sealed5 = try #require(r5.json["sealed"] as? [String: Any])
                #expect(sealed5["suite"] as? [String: Int] == ["kem": 0x647A, "kdf": 1, "aead": 2])
                let message5 = RetrievalMessages.request(jobID: jobID, nonce: nonce5, resultHash: resultHash, sealingKey: .xWing(xWingKey))
                let (status5, plaintext5) = try RetrievalPeer.run(["xwing-open", xWingSeed, RetrievalMessages.info(jobID: jobID).hexString,
                                                                   message5.hexString, sealed5["enc"] as! String, sealed5["ciphertext"] as! String])
                #expect(status5 == 0)
                #expect(try outputs(plaintext5) == expected as? [String: Int])

                // Every retrieval was audited with its outcome.
                let audited = try await h.store.listAudit(tenant: "acme", before: nil, limit: 200).filter { $0.action == "job.fhe_result" }
                #expect(Set(audited.map(\.outcome)).isSuperset(of: ["200", "403", "409", "400"]), "\(audited.map(\.outcome))")
                #expect(audited.count >= 20 + refusals.count)
            }
        }
    }
}
