import Crypto
@testable import FHEJobs
import FHEPrograms
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import TFHE
import Testing

/// Client-key mode: the owner keeps its TFHE secret key, uploads the compressed server key
/// made from it, and its jobs are computed under that key; the service never has a secret key
/// for them, and their results open only under the owner's own key.
extension ConfidentialJobsTests {
    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: StoreKind.available)
    func clientKeyModeRoundTrip(_ kind: StoreKind) async throws {
        try await withConfidentialService(kind) { h, api, _ in
            let alice = try await h.token(), bob = try await h.token(subject: "bob")
            let parameters = try ParameterSet.parse(json: Data(contentsOf: FHETestService.parametersFile), allowInsecure: true)
            let secret = try ClientKey<UInt64>(parameters: parameters, seed: .random())
            let serverKey = CompressedServerKey<UInt64>(clientKey: secret, seed: .random()).serialized()
            let id = Self.hex(serverKey)
            let keySetID = try #require(KeySetID(hex: id))
            let (pool, confirmer) = workers(h, api)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }
                try await h.test { client in
                    func octets(_ token: String) -> HTTPFields {
                        var headers = HTTPFields.bearer(token)
                        headers[.contentType] = "application/octet-stream"
                        return headers
                    }
                    // Uploaded, checked, and named by its SHA-256; again, the same record.
                    let up = try await client.execute(uri: "/v1/fhe/server-keys", method: .post, headers: octets(alice), body: ByteBuffer(bytes: serverKey))
                    #expect(up.status == .created, "\(up.json)")
                    #expect(up.json["id"] as? String == id && up.json["bytes"] as? Int == serverKey.count)
                    #expect(up.json["parameterSet"] as? String == parameters.name)
                    let again = try await client.execute(uri: "/v1/fhe/server-keys", method: .post, headers: octets(alice), body: ByteBuffer(bytes: serverKey))
                    #expect(again.status == .created && again.json["createdAt"] as? String == up.json["createdAt"] as? String)
                    #expect(try await client.execute(uri: "/v1/fhe/server-keys/\(id)", method: .get, headers: .bearer(alice)).status == .ok)
                    #expect(try await client.execute(uri: "/v1/fhe/server-keys/\(id)", method: .get, headers: .bearer(bob)).status == .notFound)

                    // Not a server key of this parameter set: refused, nothing recorded.
                    let truncated = try await client.execute(uri: "/v1/fhe/server-keys", method: .post, headers: octets(bob),
                                                             body: ByteBuffer(bytes: serverKey.prefix(serverKey.count - 100)))
                    #expect(truncated.status == .unprocessableContent && truncated.problemCode == "INVALID_SERVER_KEY")
                    let otherSet = try ParameterSet.parse(json: Data(contentsOf: FHETestService.parametersFile.deletingLastPathComponent()
                        .appendingPathComponent("insecure_test_64.json")), allowInsecure: true)
                    let foreignKey = CompressedServerKey<UInt64>(clientKey: try ClientKey<UInt64>(parameters: otherSet, seed: .random())).serialized()
                    let foreign = try await client.execute(uri: "/v1/fhe/server-keys", method: .post, headers: octets(bob), body: ByteBuffer(bytes: foreignKey))
                    #expect(foreign.status == .unprocessableContent && foreign.problemCode == "INVALID_SERVER_KEY")
                    #expect(try await client.execute(uri: "/v1/fhe/server-keys/\(Self.hex(foreignKey))", method: .get,
                                                     headers: .bearer(bob)).status == .notFound)

                    // Inputs encrypted under the owner's own secret key, naming the server key.
                    let values: [UInt64] = [9, 0, 255, 4]
                    let file = try EncryptedValues.encrypt([("data", .vector(.uint8, length: values.count), .vector(values.map { .uint($0) }))],
                                                           keySetID: keySetID, with: secret).serialized()
                    var submission = fheSubmission("encrypted_statistical_analysis", data: file, parameters: ["statistics": ["sum", "max"]])
                    var payload = submission["payload"] as! [String: Any]
                    payload["server_key_id"] = id
                    submission["payload"] = payload
                    let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(submission))
                    #expect(r.status == .accepted, "\(r.json)")
                    let fhe = try #require(r.json["fhe"] as? [String: Any])
                    #expect(fhe["serverKeyId"] as? String == id && fhe["keySetId"] as? String == id)
                    let quoted = try #require((fhe["quote"] as? [String: Any])?["bootstraps"] as? Int)
                    let done = try await waitFor(try #require(r.json["id"] as? String), in: h.store) { $0.status == .confirmed || $0.status == .failed }
                    #expect(done.status == .confirmed, "\(String(describing: done.failure))")
                    #expect(done.result?["bootstraps"]?.integerValue == quoted)
                    let resultBlob = try #require(done.result?["result_blob"]?.stringValue)
                    let result = try await api.blobs.read(tenant: "acme", id: resultBlob, limit: 1 << 26)
                    let opened = Dictionary(uniqueKeysWithValues: try EncryptedValues(serialized: result, parameters: parameters).decrypt(with: secret))
                    #expect(opened == ["sum": .uint(values.reduce(0, +)), "max": .uint(255)])
                    #expect(done.resultHash == ConfidentialResultDigest.digest(
                        algorithm: "encrypted_statistical_analysis", parameters: ["statistics": ["sum", "max"]], keySetID: id,
                        serverKeyID: id, inputBlob: Self.hex(file), resultBlob: resultBlob))

                    // Retrieved: the result ciphertext itself, signed; the service decrypts nothing.
                    let nonce = "client-key-" + UUID().uuidString
                    let message = RetrievalMessages.request(jobID: done.id, nonce: nonce, resultHash: try #require(done.resultHash), sealingKey: nil)
                    let retrieved = try await client.execute(uri: "/v1/jobs/\(done.id.uuidString.lowercased())/fhe-result", method: .post, headers: .bearer(alice),
                                                             body: jsonBuffer(["retrievalNonce": nonce,
                                                                               "clientSignature": try ownerKey.signature(for: message).rawRepresentation.hexString]))
                    #expect(retrieved.status == .ok, "\(retrieved.json)")
                    #expect(retrieved.json["sealed"] == nil && Data(base64Encoded: retrieved.json["ciphertext"] as? String ?? "") == result)
                    let answer = RetrievalMessages.response(jobID: done.id, nonce: nonce, resultHash: done.resultHash!, suite: nil,
                                                            sealedDigest: Self.hex(result), confirmation: done.confirmation?.reference)
                    #expect(FHETestService.serviceKey.publicKey.isValidSignature(
                        try #require(Data(base64Encoded: retrieved.json["serviceSignature"] as? String ?? "")), for: answer))

                    // The same file is accepted as an upload for the owner of the key only.
                    let upload = try await client.execute(uri: "/v1/fhe/ciphertexts", method: .post, headers: octets(alice), body: ByteBuffer(bytes: file))
                    #expect(upload.status == .created && upload.json["keySetId"] as? String == id)
                    let bobs = try await client.execute(uri: "/v1/fhe/ciphertexts", method: .post, headers: octets(bob), body: ByteBuffer(bytes: file))
                    #expect(bobs.status == .unprocessableContent && bobs.problemCode == "KEY_SET_MISMATCH")

                    // A file under the owner's network key set does not match the server key; and
                    // another owner cannot name it.
                    let network = try await FHETestClient.fetch(client, token: alice)
                    var mismatched = submission
                    payload["encrypted_data"] = try network.encrypt([("data", .vector(.uint8, length: 1), .vector([.uint(1)]))]).base64EncodedString()
                    mismatched["payload"] = payload
                    let wrong = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(mismatched))
                    #expect(wrong.status == .unprocessableContent && wrong.problemCode == "KEY_SET_MISMATCH", "\(wrong.json)")
                    let stranger = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(bob), body: jsonBuffer(submission))
                    #expect(stranger.status == .badRequest && stranger.problemCode == "SERVER_KEY_NOT_FOUND")

                    // Deleted: gone for reads and for submissions, and its blob goes at the sweep.
                    #expect(try await client.execute(uri: "/v1/fhe/server-keys/\(id)", method: .delete, headers: .bearer(bob)).status == .notFound)
                    #expect(try await client.execute(uri: "/v1/fhe/server-keys/\(id)", method: .delete, headers: .bearer(alice)).status == .noContent)
                    #expect(try await client.execute(uri: "/v1/fhe/server-keys/\(id)", method: .get, headers: .bearer(alice)).status == .notFound)
                    let after = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(submission))
                    #expect(after.status == .badRequest && after.problemCode == "SERVER_KEY_NOT_FOUND")
                    _ = try await api.blobs.store.sweep(now: Date())
                    #expect(try await api.blobs.store.info(tenant: "acme", id: BlobID(id)) == nil)
                    let audit = try await h.store.listAudit(tenant: "acme", before: nil, limit: 100).map(\.action)
                    #expect(audit.contains("fhe.server_key.upload") && audit.contains("fhe.server_key.delete"))
                }
            }
        }
    }

    /// The service's own limit on server keys, below the HTTP layer's.
    @Test func serverKeysOverTheLimitAreRefused() async throws {
        try await withStore(.sqlite) { store, _ in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let service = try FHETestService.make(store: store, root: root) { $0.maxServerKeyBytes = 1000 }
            let chunks = AsyncStream<Data> { $0.yield(Data(count: 1001)); $0.finish() }
            let principal = Principal(subject: "alice", tenant: "acme", role: .developer)
            do {
                _ = try await service.uploadServerKey(chunks, limit: 1 << 20, for: principal, now: Date())
                Issue.record("a server key over the limit was accepted")
            } catch JobServiceError.refused(let refusal) {
                #expect(refusal.code == "SERVER_KEY_TOO_LARGE" && refusal.status == 413)
            }
        }
    }
}
