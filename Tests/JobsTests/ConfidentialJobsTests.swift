import Crypto
@testable import FHEJobs
import FHEPrograms
import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import JobsServer
import SafeFetch
import TFHE
import Testing
import Tracing

/// A confidential half on the insecure 2_2 test set (NO SECURITY: tiny dimensions, so a
/// bootstrap takes well under a millisecond), with its blobs in a temporary folder.
struct FHETestService {
    static let parametersFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("params/insecure_test_64_2_2.json")

    static let secureParametersFile = parametersFile.deletingLastPathComponent()
        .appendingPathComponent("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128.json")

    /// `keyService`, if given, is the key service to use (one of another process's) instead of
    /// an embedded one under `kek`.
    static func make(store: any JobStore, root: URL, kek: KeyEncryptionKey? = nil, fetcher: (any EncryptedInputFetcher)? = nil,
                     parametersFile: URL = parametersFile,
                     configure: (inout ConfidentialJobsService.Configuration) -> Void = { _ in },
                     keyService: ((ParameterSet) throws -> any KeyService)? = nil) throws -> ConfidentialJobsService {
        let data = try Data(contentsOf: parametersFile)
        let parameters = try ParameterSet.parse(json: data, allowInsecure: true)
        let blobs = FHEBlobs(try FileBlobStore(root: root.appendingPathComponent("blobs")))
        let kek = try kek ?? KeyEncryptionKey(base64: KeyEncryptionKey.generateBase64())
        let keys = try keyService?(parameters) ?? LocalKeyService(store: store, blobs: blobs, parameters: parameters, kek: kek)
        var configuration = ConfidentialJobsService.Configuration()
        configuration.secondsPerBootstrap = 0.001
        configuration.parameterDefinition = try JSONValue.decode(data)
        configuration.signingKey = serviceKey
        configure(&configuration)
        return ConfidentialJobsService(store: store, blobs: blobs, keys: keys, cache: ServerKeyCache(capacityBytes: 1 << 30),
                                       fetcher: fetcher, configuration: configuration)
    }

    /// The key that signs retrieval answers in tests.
    static let serviceKey = Curve25519.Signing.PrivateKey()

    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-fhe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

extension ConfidentialJobsService {
    /// The embedded key service of a test's service (every test service has one unless it was
    /// made with a key service of another process).
    var embeddedKeys: LocalKeyService { get throws { try #require(localKeys) } }
}

/// The client's side of the flow, as a client would do it: the owner's keys from the API,
/// inputs encrypted under its public key.
struct FHETestClient {
    let keySetID: KeySetID
    let publicKey: PublicKey<UInt64>
    let parameters: ParameterSet

    static func fetch(_ client: any TestClientProtocol, token: String) async throws -> FHETestClient {
        let keys = try await client.execute(uri: "/v1/fhe/keys", method: .get, headers: .bearer(token))
        #expect(keys.status == .ok)
        let id = try #require(keys.json["keySetId"] as? String)
        let definition = try #require((keys.json["parameterSet"] as? [String: Any])?["definition"])
        let parameters = try ParameterSet.parse(json: try JSONSerialization.data(withJSONObject: definition), allowInsecure: true)
        let link = try #require(keys.json["publicKey"] as? [String: Any])
        let download = try await client.execute(uri: try #require(link["url"] as? String), method: .get, headers: .bearer(token))
        #expect(download.status == .ok)
        let bytes = Data(buffer: download.body)
        #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == link["sha256"] as? String)
        let publicKey = try CompressedPublicKey<UInt64>(serialized: bytes, parameters: parameters).decompress()
        return FHETestClient(keySetID: try #require(KeySetID(hex: id)), publicKey: publicKey, parameters: parameters)
    }

    func encrypt(_ values: [(String, ValueShape, ClearValue)]) throws -> Data {
        try EncryptedValues.encrypt(values, keySetID: keySetID, publicKey: publicKey)
    }
}

/// A fresh store with a confidential half on the insecure test set behind the HTTP app.
func withConfidentialService<R: Sendable>(_ kind: StoreKind = .sqlite, plans: TenantPlans = TenantPlans(),
                                          _ body: @Sendable (ServiceHarness, ConfidentialJobsService, URL) async throws -> R) async throws -> R {
    try await withStore(kind) { store, context in
        let root = try FHETestService.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let api = try FHETestService.make(store: store, root: root)
        let h = try await ServiceHarness(store: store, context: context, plans: plans, confidential: api)
        return try await body(h, api, root)
    }
}

/// The owner's P-256 key pair whose public key goes with submissions and signs retrievals.
let ownerKey = P256.Signing.PrivateKey()
let ownerKeyPEM = ownerKey.publicKey.pemRepresentation

func fheSubmission(_ algorithm: String, data: Data, parameters: [String: Any] = [:]) -> [String: Any] {
    ["type": "fhe_compute", "useFHE": true,
     "payload": ["algorithm": algorithm, "encrypted_data": data.base64EncodedString(), "client_public_key": ownerKeyPEM,
                 "parameters": parameters]]
}

@Suite("Confidential jobs") struct ConfidentialJobsTests {
    func workers(_ h: ServiceHarness, _ confidential: ConfidentialJobsService) -> (WorkerPool, ConfirmationService) {
        var configuration = WorkerPool.Configuration()
        configuration.concurrency = 1
        configuration.leaseDuration = 5
        configuration.pollInterval = .milliseconds(100)
        configuration.progressInterval = .milliseconds(50)
        let confirmations = QueueWakeup()
        let pool = WorkerPool(store: h.store, executors: h.service.executors, confidential: confidential, configuration: configuration,
                              wakeup: h.wakeup, confirmationWakeup: confirmations)
        let confirmer = ConfirmationService(store: h.store, confirmer: LocalLedger(store: h.store, signingKey: FHETestService.serviceKey),
                                            wakeup: confirmations, pollInterval: .milliseconds(100))
        return (pool, confirmer)
    }

    func waitFor(_ id: String, in store: any JobStore, timeout: Duration = .seconds(120), until done: (Job) -> Bool) async throws -> Job {
        let jobID = try #require(UUID(uuidString: id))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let job = try await store.job(id: jobID), done(job) { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try #require(try await store.job(id: jobID))
    }

    /// The statistics of the issue, on a small u16 vector with edges, end to end: keys from the
    /// API, inputs encrypted under the public key, quoted, run by a worker without the
    /// key-encryption key, confirmed, and the opened result equal to the plaintext computation.
    @Test(arguments: StoreKind.available)
    func statisticsEndToEnd(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let api = try FHETestService.make(store: store, root: root)
            // The worker shares the blobs and the database, never the key-encryption key.
            let worker = try FHETestService.make(store: store, root: root, kek: nil as KeyEncryptionKey?)
            let h = try await ServiceHarness(store: store, context: context, confidential: api)
            let alice = try await h.token()
            let values: [UInt64] = [0, 65535, 7, 300, 65535, 1]
            let (pool, confirmer) = workers(h, worker)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }
                try await h.test { client in
                    let owner = try await FHETestClient.fetch(client, token: alice)
                    let file = try owner.encrypt([("data", .vector(.uint16, length: values.count), .vector(values.map { .uint($0) }))])
                    let body = fheSubmission("encrypted_statistical_analysis", data: file,
                                             parameters: ["statistics": ["sum", "count", "mean", "min", "max", "count_above"], "threshold": 100])
                    let quoted = try await client.execute(uri: "/v1/fhe/quote", method: .post, headers: .bearer(alice), body: jsonBuffer(body))
                    #expect(quoted.status == .ok)
                    let bootstraps = try #require(quoted.json["bootstraps"] as? Int)
                    #expect(bootstraps > 0)

                    let submitted = try await client.execute(uri: "/v1/jobs", method: .post,
                                                             headers: .bearer(alice, [(HTTPField.Name("Idempotency-Key")!, "stats-1")]),
                                                             body: jsonBuffer(body))
                    #expect(submitted.status == .accepted)
                    let id = try #require(submitted.json["id"] as? String)
                    let fhe = try #require(submitted.json["fhe"] as? [String: Any])
                    #expect((fhe["quote"] as? [String: Any])?["bootstraps"] as? Int == bootstraps)
                    #expect(fhe["keySetId"] as? String == owner.keySetID.hex)
                    // The stored payload names the input blob; it holds no ciphertext.
                    let payload = try #require(submitted.json["payload"] as? [String: Any])
                    #expect(payload["encrypted_data"] == nil && payload["encrypted_data_id"] as? String == fhe["inputBlob"] as? String)

                    let done = try await waitFor(id, in: store) { $0.status == .confirmed || $0.status == .failed }
                    #expect(done.status == .confirmed, "\(String(describing: done.failure))")
                    #expect(done.progress?.bootstrapsDone == bootstraps && done.progress?.bootstrapsTotal == bootstraps)
                    #expect(done.result?["bootstraps"]?.integerValue == bootstraps)

                    // Open the result inside the key service, as retrieval will.
                    let resultBlob = try #require(done.result?["result_blob"]?.stringValue)
                    let keySet = try #require(try await store.keySet(id: owner.keySetID.hex))
                    let file2 = try await api.blobs.read(tenant: "acme", id: resultBlob, limit: 1 << 26)
                    let opened = Dictionary(uniqueKeysWithValues: try await api.embeddedKeys.decrypt(file2, keySet: keySet))
                    let sum = values.reduce(0, +)
                    #expect(opened["sum"] == .uint(sum))
                    #expect(opened["count"] == .uint(UInt64(values.count)))
                    #expect(opened["mean"] == .uint(sum / UInt64(values.count)))
                    #expect(opened["min"] == .uint(values.min()!))
                    #expect(opened["max"] == .uint(values.max()!))
                    #expect(opened["count_above"] == .uint(UInt64(values.filter { $0 > 100 }.count)))

                    // The confirmed hash is the documented digest of what produced the result.
                    let digest = ConfidentialResultDigest.digest(
                        algorithm: "encrypted_statistical_analysis",
                        parameters: ["statistics": ["sum", "count", "mean", "min", "max", "count_above"], "threshold": 100],
                        keySetID: owner.keySetID.hex, serverKeyID: nil, inputBlob: try #require(fhe["inputBlob"] as? String),
                        resultBlob: resultBlob)
                    #expect(done.resultHash == digest)

                    // A retry with the same key replays the job and is not billed again.
                    let replay = try await client.execute(uri: "/v1/jobs", method: .post,
                                                          headers: .bearer(alice, [(HTTPField.Name("Idempotency-Key")!, "stats-1")]),
                                                          body: jsonBuffer(body))
                    #expect(replay.status == .accepted && replay.json["id"] as? String == id)
                    let usage = try await client.execute(uri: "/v1/usage", method: .get, headers: .bearer(alice))
                    #expect(usage.json["fheBootstraps"] as? Int == bootstraps)
                }
            }
        }
    }

    /// The two other algorithms through the API and a worker, each opened result equal to the
    /// plaintext computation and each job's bootstraps equal to its quote.
    @Test(arguments: StoreKind.available)
    func transferAndProgramEndToEnd(_ kind: StoreKind) async throws {
        let tracer = TestTracer.shared
        try await withConfidentialService(kind) { h, api, _ in
            let alice = try await h.token()
            let (pool, confirmer) = workers(h, api)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }
                try await h.test { client in
                    let owner = try await FHETestClient.fetch(client, token: alice)
                    // Account 0 pays 30 to 1 (covered), 1 pays 500 to 2 (not covered), 2 pays 5 to 0.
                    let transfer = try owner.encrypt([
                        ("balances", .vector(.uint16, length: 3), .vector([100, 20, 7].map { .uint($0) })),
                        ("amounts", .vector(.uint16, length: 3), .vector([30, 500, 5].map { .uint($0) })),
                    ])
                    let transfers: [[String: Any]] = [["from": 0, "to": 1], ["from": 1, "to": 2], ["from": 2, "to": 0]]
                    // (a + b) min limit, and whether a < b.
                    let program = try owner.encrypt([("a", .scalar(.uint8), .uint(200)), ("b", .scalar(.uint8), .uint(90))])
                    let graph: [String: Any] = [
                        "inputs": ["a": "u8", "b": "u8"], "constants": ["limit": ["type": "u8", "value": 250]],
                        "nodes": [["id": "s", "op": "add", "args": ["a", "b"]], ["id": "m", "op": "min", "args": ["s", "limit"]],
                                  ["id": "c", "op": "lt", "args": ["a", "b"]]],
                        "outputs": ["m", "c"]]
                    let cases: [(String, Data, [String: Any], [String: ClearValue])] = [
                        ("confidential_transfer", transfer, ["transfers": transfers],
                         ["balances": .vector([75, 50, 2].map { .uint($0) }), "succeeded": .vector([.bool(true), .bool(false), .bool(true)])]),
                        ("program", program, graph, ["m": .uint(UInt64(UInt8(200) &+ 90)), "c": .bool(false)]),
                    ]
                    for (algorithm, file, parameters, expected) in cases {
                        let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice),
                                                         body: jsonBuffer(fheSubmission(algorithm, data: file, parameters: parameters)))
                        #expect(r.status == .accepted, "\(algorithm): \(r.json)")
                        let id = try #require(r.json["id"] as? String)
                        let quoted = try #require(((r.json["fhe"] as? [String: Any])?["quote"] as? [String: Any])?["bootstraps"] as? Int)
                        let done = try await waitFor(id, in: h.store) { $0.status == .confirmed || $0.status == .failed }
                        #expect(done.status == .confirmed, "\(algorithm): \(String(describing: done.failure))")
                        #expect(done.result?["bootstraps"]?.integerValue == quoted)
                        let keySet = try #require(try await h.store.keySet(id: owner.keySetID.hex))
                        let result = try await api.blobs.read(tenant: "acme", id: try #require(done.result?["result_blob"]?.stringValue), limit: 1 << 26)
                        let opened = Dictionary(uniqueKeysWithValues: try await api.embeddedKeys.decrypt(result, keySet: keySet))
                        #expect(opened == expected, "\(algorithm)")

                        // Its trace: the evaluation under the attempt's execution, one span per
                        // bootstrap layer under it, their bootstraps adding up to the quote.
                        let spans = tracer.finishedSpans
                        let attempt = try #require(spans.first { $0.operationName == JobSpans.job && $0.has(JobSpans.jobID, id) })
                        let execute = try #require(spans.first { $0.operationName == JobSpans.execute && $0.parentSpanID == attempt.spanID })
                        #expect(spans.contains { $0.operationName == JobSpans.serverKey && $0.parentSpanID == execute.spanID })
                        let evaluate = try #require(spans.first { $0.operationName == JobSpans.evaluate && $0.parentSpanID == execute.spanID })
                        #expect(evaluate.attributes.get(JobSpans.bootstraps) == .int64(Int64(quoted)))
                        let layers = spans.filter { $0.operationName == JobSpans.layer && $0.parentSpanID == evaluate.spanID }
                        #expect(!layers.isEmpty)
                        let layerBootstraps = layers.map { span -> Int64 in
                            if case .int64(let n) = span.attributes.get(JobSpans.bootstraps) { return n } else { return -1 }
                        }
                        #expect(layerBootstraps.reduce(0, +) == Int64(quoted), "\(algorithm): layers \(layerBootstraps)")
                    }
                }
            }
        }
    }

    /// The statistics on edge data through the API, on both stores: all zeros, all maxima
    /// (the sums' width at its fullest for the length), one element.
    @Test(arguments: StoreKind.available)
    func statisticsOnEdgeDataEndToEnd(_ kind: StoreKind) async throws {
        try await withConfidentialService(kind) { h, api, _ in
            let alice = try await h.token()
            let (pool, confirmer) = workers(h, api)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }
                try await h.test { client in
                    let owner = try await FHETestClient.fetch(client, token: alice)
                    let cases: [[UInt64]] = [[0, 0, 0], [255, 255, 255, 255], [77]]
                    for values in cases {
                        let file = try owner.encrypt([("data", .vector(.uint8, length: values.count), .vector(values.map { .uint($0) }))])
                        let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(
                            fheSubmission("encrypted_statistical_analysis", data: file, parameters: ["statistics": ["sum", "mean", "min", "max", "variance"]])))
                        #expect(r.status == .accepted, "\(values): \(r.json)")
                        let done = try await waitFor(try #require(r.json["id"] as? String), in: h.store) { $0.status == .confirmed || $0.status == .failed }
                        #expect(done.status == .confirmed, "\(values): \(String(describing: done.failure))")
                        let keySet = try #require(try await h.store.keySet(id: owner.keySetID.hex))
                        let result = try await api.blobs.read(tenant: "acme", id: try #require(done.result?["result_blob"]?.stringValue), limit: 1 << 26)
                        let opened = Dictionary(uniqueKeysWithValues: try await api.embeddedKeys.decrypt(result, keySet: keySet))
                        let n = UInt64(values.count), sum = values.reduce(0, +), squares = values.reduce(0) { $0 + $1 * $1 }
                        #expect(opened == ["sum": .uint(sum), "mean": .uint(sum / n), "min": .uint(values.min()!), "max": .uint(values.max()!),
                                           "variance": .uint((n * squares - sum * sum) / (n * n))], "\(values)")
                    }
                }
            }
        }
    }

    /// Every refusal of a confidential submission has its own code and stores nothing.
    @Test func refusalsHaveCodesAndStoreNothing() async throws {
        try await withConfidentialService { h, api, _ in
            let alice = try await h.token(), bob = try await h.token(subject: "bob")
            try await h.test { client in
                let owner = try await FHETestClient.fetch(client, token: alice)
                let other = try await FHETestClient.fetch(client, token: bob)
                #expect(owner.keySetID != other.keySetID)
                let good = try owner.encrypt([("data", .vector(.uint8, length: 2), .vector([.uint(1), .uint(2)]))])
                let foreign = try other.encrypt([("data", .vector(.uint8, length: 2), .vector([.uint(1), .uint(2)]))])
                var corrupted = good
                corrupted[corrupted.count / 2] ^= 0x40
                func body(_ change: (inout [String: Any]) -> Void) -> ByteBuffer {
                    var submission = fheSubmission("encrypted_statistical_analysis", data: good)
                    var payload = submission["payload"] as! [String: Any]
                    change(&payload)
                    submission["payload"] = payload
                    return jsonBuffer(submission)
                }
                let cases: [(String, ByteBuffer, HTTPResponse.Status, String)] = [
                    ("fhe_compute without useFHE", jsonBuffer(["type": "fhe_compute", "payload": ["algorithm": "encrypted_statistical_analysis"]]),
                     .badRequest, "FHE_TYPE_MISMATCH"),
                    ("another owner's key set", body { $0["encrypted_data"] = foreign.base64EncodedString() }, .unprocessableContent, "KEY_SET_MISMATCH"),
                    ("truncated", body { $0["encrypted_data"] = good.prefix(good.count - 9).base64EncodedString() }, .badRequest, "MALFORMED_CIPHERTEXT"),
                    ("corrupted", body { $0["encrypted_data"] = corrupted.base64EncodedString() }, .badRequest, "MALFORMED_CIPHERTEXT"),
                    ("not base64", body { $0["encrypted_data"] = "%%%" }, .badRequest, "MALFORMED_CIPHERTEXT"),
                    ("no client key", body { $0["client_public_key"] = nil }, .badRequest, "INVALID_CLIENT_PUBLIC_KEY"),
                    ("an Ed25519 key", body { $0["client_public_key"] = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----" },
                     .badRequest, "INVALID_CLIENT_PUBLIC_KEY"),
                    ("no data", body { $0["encrypted_data"] = nil }, .badRequest, "MISSING_ENCRYPTED_DATA"),
                    ("two kinds of data", body { $0["encrypted_data_id"] = String(repeating: "a", count: 64) }, .badRequest, "MISSING_ENCRYPTED_DATA"),
                    ("an unknown upload", body { $0["encrypted_data"] = nil; $0["encrypted_data_id"] = String(repeating: "a", count: 64) },
                     .badRequest, "FHE_INPUT_NOT_FOUND"),
                    ("a URL with no host allowed", body { $0["encrypted_data"] = nil; $0["encrypted_data_url"] = "http://127.0.0.1:1/x" },
                     .badRequest, "URL_NOT_ALLOWED"),
                    ("a wrong pin", body { $0["encrypted_data_sha256"] = String(repeating: "0", count: 64) }, .badRequest, "CHECKSUM_MISMATCH"),
                    ("an unknown statistic", body { $0["parameters"] = ["statistics": ["median"]] }, .unprocessableContent, "INVALID_PARAMETERS"),
                    ("another scheme", body { $0["parameters"] = ["fhe_scheme": "ckks"] }, .unprocessableContent, "UNSUPPORTED_FHE_PARAMETERS"),
                    ("a security level the insecure set lacks", body { $0["parameters"] = ["security_level": 128] },
                     .unprocessableContent, "UNSUPPORTED_FHE_PARAMETERS"),
                    ("an unknown payload field", body { $0["colour"] = "red" }, .badRequest, "INVALID_REQUEST"),
                    ("an unknown algorithm", body { $0["algorithm"] = "mine_bitcoin" }, .unprocessableContent, "UNSUPPORTED_JOB_TYPE"),
                ]
                for (name, request, status, code) in cases {
                    let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: request)
                    #expect(r.status == status && r.problemCode == code, "\(name): \(r.status) \(r.json)")
                }
                // Nothing was kept for a refused submission: its input has no holder, so the
                // first sweep takes it (and it was never in a job row or an idempotency record).
                let goodID = try BlobID(SHA256.hash(data: good).map { String(format: "%02x", $0) }.joined())
                _ = try await api.blobs.store.sweep(now: Date())
                #expect(try await api.blobs.store.info(tenant: "acme", id: goodID) == nil)
                let listed = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(alice))
                #expect((listed.json["items"] as? [Any])?.isEmpty == true)
                let usage = try await client.execute(uri: "/v1/usage", method: .get, headers: .bearer(alice))
                #expect(usage.json["jobsSubmitted"] as? Int == 0)
            }
        }
    }

    /// A plan's maxBootstrapsPerJob refuses a job over it with the quote in the problem.
    @Test func plansLimitBootstrapsPerJob() async throws {
        let plans = TenantPlans(default: Plan(name: "tiny", ratePerSecond: 100, burst: 100, maxActiveJobs: 10, maxJobsPerMonth: 100,
                                              maxBootstrapsPerJob: 5))
        try await withConfidentialService(plans: plans) { h, _, _ in
            let alice = try await h.token()
            try await h.test { client in
                let owner = try await FHETestClient.fetch(client, token: alice)
                let file = try owner.encrypt([("data", .vector(.uint8, length: 3), .vector([.uint(1), .uint(2), .uint(3)]))])
                let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice),
                                                 body: jsonBuffer(fheSubmission("encrypted_statistical_analysis", data: file)))
                #expect(r.status == .unprocessableContent && r.problemCode == "JOB_TOO_EXPENSIVE")
                #expect(((r.json["quote"] as? [String: Any])?["bootstraps"] as? Int ?? 0) > 5)
            }
        }
    }

    /// Uploaded once, named by id; a file under another key set is refused at upload.
    @Test func uploadsAreCheckedAndNamedById() async throws {
        try await withConfidentialService { h, _, _ in
            let alice = try await h.token(), bob = try await h.token(subject: "bob")
            try await h.test { client in
                let owner = try await FHETestClient.fetch(client, token: alice)
                let file = try owner.encrypt([("data", .vector(.uint8, length: 2), .vector([.uint(5), .uint(9)]))])
                var headers = HTTPFields.bearer(alice)
                headers[.contentType] = "application/octet-stream"
                let up = try await client.execute(uri: "/v1/fhe/ciphertexts", method: .post, headers: headers, body: ByteBuffer(bytes: file))
                #expect(up.status == .created)
                let id = try #require(up.json["id"] as? String)
                #expect(id == SHA256.hash(data: file).map { String(format: "%02x", $0) }.joined())
                var bobHeaders = HTTPFields.bearer(bob)
                bobHeaders[.contentType] = "application/octet-stream"
                let refused = try await client.execute(uri: "/v1/fhe/ciphertexts", method: .post, headers: bobHeaders, body: ByteBuffer(bytes: file))
                #expect(refused.status == .unprocessableContent && refused.problemCode == "KEY_SET_MISMATCH")
                let garbage = try await client.execute(uri: "/v1/fhe/ciphertexts", method: .post, headers: headers, body: ByteBuffer(bytes: [1, 2, 3]))
                #expect(garbage.status == .badRequest && garbage.problemCode == "MALFORMED_CIPHERTEXT")

                var submission = fheSubmission("encrypted_statistical_analysis", data: Data(), parameters: ["statistics": ["sum"]])
                var payload = submission["payload"] as! [String: Any]
                payload["encrypted_data"] = nil
                payload["encrypted_data_id"] = id
                submission["payload"] = payload
                let job = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(submission))
                #expect(job.status == .accepted)
                #expect((job.json["fhe"] as? [String: Any])?["inputBlob"] as? String == id)
                // Another tenant cannot name it.
                let stranger = try await h.token(tenant: "globex", subject: "alice")
                _ = try await FHETestClient.fetch(client, token: stranger)
                let theirs = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(stranger), body: jsonBuffer(submission))
                #expect(theirs.status == .badRequest && theirs.problemCode == "FHE_INPUT_NOT_FOUND")

                // Key downloads: ETag and Range.
                let keys = try await client.execute(uri: "/v1/fhe/keys", method: .get, headers: .bearer(alice))
                let url = try #require((keys.json["serverKey"] as? [String: Any])?["url"] as? String)
                let whole = try await client.execute(uri: url, method: .get, headers: .bearer(alice))
                let etag = try #require(whole.headers[.eTag])
                var rangeHeaders = HTTPFields.bearer(alice)
                rangeHeaders[.range] = "bytes=10-19"
                let part = try await client.execute(uri: url, method: .get, headers: rangeHeaders)
                #expect(part.status == .partialContent && Data(buffer: part.body) == Data(buffer: whole.body)[10...19])
                var cached = HTTPFields.bearer(alice)
                cached[.ifNoneMatch] = etag
                #expect(try await client.execute(uri: url, method: .get, headers: cached).status == .notModified)
                #expect(try await client.execute(uri: url, method: .get, headers: .bearer(bob)).status == .notFound)
            }
        }
    }

    /// The seed's second example, as written, on the service's real (128-bit) parameter set,
    /// once its URL points at encrypted data on an allowed host (here a server on loopback,
    /// allowed by the test-only flag). Its URL is fetched at submission, checked and quoted.
    @Test func seedExampleIsAcceptedAsWritten() async throws {
        try await withStore(.sqlite) { store, context in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let files = FileServer()
            try await files.run { port in
                let policy = FetchPolicy(allowedHosts: [AllowedHost(host: "127.0.0.1", port: port)], allowsHTTP: true,
                                         allowPrivateAddresses: true, maxBytes: 1 << 26, timeout: .seconds(30))
                let api = try FHETestService.make(store: store, root: root, fetcher: SafeInputFetcher(policy: policy),
                                                  parametersFile: FHETestService.secureParametersFile)
                let h = try await ServiceHarness(store: store, context: context, confidential: api)
                let alice = try await h.token()
                try await h.test { client in
                    let owner = try await FHETestClient.fetch(client, token: alice)
                    #expect(owner.parameters.securityBits == 128)
                    let file = try owner.encrypt([("data", .vector(.uint16, length: 4), .vector([3, 1, 4, 1].map { .uint($0) }))])
                    files.serve("/encrypted_data.enc", file)
                    // The seed's body, with its URL and key made real.
                    let seed = """
                        {"type": "fhe_compute",
                         "payload": {"algorithm": "encrypted_statistical_analysis",
                                     "encrypted_data_url": "http://127.0.0.1:\(port)/encrypted_data.enc",
                                     "client_public_key": "\(ownerKeyPEM.replacingOccurrences(of: "\n", with: "\\n"))",
                                     "parameters": {"fhe_scheme": "tfhe", "security_level": 128}},
                         "priority": "normal",
                         "useFHE": true}
                        """
                    let r = try await client.execute(uri: "/v1/jobs", method: .post,
                                                     headers: .bearer(alice, [(HTTPField.Name("Idempotency-Key")!, UUID().uuidString)]),
                                                     body: ByteBuffer(string: seed))
                    #expect(r.status == .accepted, "\(r.json)")
                    let fhe = try #require(r.json["fhe"] as? [String: Any])
                    #expect(fhe["inputBlob"] as? String == SHA256.hash(data: file).map { String(format: "%02x", $0) }.joined())
                    #expect(((fhe["quote"] as? [String: Any])?["bootstraps"] as? Int ?? 0) > 0)
                    #expect((r.json["payload"] as? [String: Any])?["encrypted_data_url"] as? String == "http://127.0.0.1:\(port)/encrypted_data.enc")

                    // The same URL from a host that is not allowed, and a missing file.
                    var other = fheSubmission("encrypted_statistical_analysis", data: Data())
                    var payload = other["payload"] as! [String: Any]
                    payload["encrypted_data"] = nil
                    payload["encrypted_data_url"] = "http://localhost:\(port)/encrypted_data.enc"
                    other["payload"] = payload
                    let refused = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(other))
                    #expect(refused.status == .badRequest && refused.problemCode == "URL_NOT_ALLOWED", "\(refused.json)")
                    payload["encrypted_data_url"] = "http://127.0.0.1:\(port)/missing.enc"
                    other["payload"] = payload
                    let missing = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(other))
                    #expect(missing.status == .unprocessableContent && missing.problemCode == "FETCH_FAILED", "\(missing.json)")
                }
            }
        }
    }

    /// Two replicas asked for a new owner's key set at once make one.
    @Test(arguments: StoreKind.available)
    func racingReplicasMakeOneKeySet(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let kek = try KeyEncryptionKey(base64: KeyEncryptionKey.generateBase64())
            let replicas = try (0..<4).map { _ in try FHETestService.make(store: store, root: root, kek: kek) }
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for replica in replicas { group.addTask { try await replica.embeddedKeys.keySet(tenant: "acme", owner: "new-owner").id } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await store.allKeySets().filter { $0.owner == "new-owner" }.count == 1)
        }
    }

    /// The secret key is stored wrapped and bound to its row: it opens under its own binding
    /// only, and not under another key-encryption key.
    @Test func secretKeysAreWrappedAndBoundToTheirRow() async throws {
        try await withStore(.sqlite) { store, _ in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let service = try FHETestService.make(store: store, root: root)
            let record = try await service.embeddedKeys.keySet(tenant: "acme", owner: "alice")
            let publicKey = try CompressedPublicKey<UInt64>(
                serialized: try await service.blobs.read(tenant: "acme", id: record.publicKeyBlob, limit: record.publicKeyBytes),
                parameters: service.keys.parameters).decompress()
            let file = try EncryptedValues.encrypt([("x", .scalar(.uint8), .uint(42))], keySetID: KeySetID(hex: record.id)!,
                                                   publicKey: publicKey)
            #expect(try await service.embeddedKeys.decrypt(file, keySet: record).first?.1 == .uint(42))
            var moved = record
            moved.owner = "mallory"
            await #expect(throws: KeyServiceError.self) { _ = try await service.embeddedKeys.decrypt(file, keySet: moved) }
            let otherKEK = try FHETestService.make(store: store, root: root)
            await #expect(throws: KeyServiceError.self) { _ = try await otherKEK.embeddedKeys.decrypt(file, keySet: record) }
            await #expect(throws: KeyServiceError.self) { try await otherKEK.embeddedKeys.checkKeyEncryptionKey() }
            try await service.embeddedKeys.checkKeyEncryptionKey()
        }
    }
}

/// A file server on 127.0.0.1 (a random port) for fetched inputs.
final class FileServer: Sendable {
    private let files = Mutex<[String: Data]>([:])

    func serve(_ path: String, _ data: Data) { files.withLock { $0[path] = data } }

    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("{file}") { request, _ -> Response in
            guard let data = self.files.withLock({ $0[request.uri.path] }) else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let (ports, port) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0); port.finish() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let bound = await iterator.next(), bound > 0 else { throw CancellationError() }
            try await body(bound)
        }
    }
}
