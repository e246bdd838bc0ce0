import Crypto
@testable import FHEJobs
import FHEPrograms
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import TFHE
import Testing
import X509

/// A throwaway PKI for the key service's mutual TLS: a CA, the key service's certificate for
/// `localhost`, an API client's certificate, and a client certificate from another CA. Keys are
/// written with `SecretFile` (mode 0600), as the service requires.
struct KeyServicePKI {
    let folder: URL
    var ca: String { folder.appendingPathComponent("ca.pem").path }
    func certificate(_ name: String) -> String { folder.appendingPathComponent("\(name).pem").path }
    func key(_ name: String) -> String { folder.appendingPathComponent("\(name).key").path }

    static func make(in folder: URL) throws -> KeyServicePKI {
        let pki = KeyServicePKI(folder: folder)
        let (caCertificate, caKey) = try authority("fhe-jobs test key service CA")
        try Data(try caCertificate.serializeAsPEM().pemString.utf8).write(to: URL(fileURLWithPath: pki.ca))
        try pki.issue("server", dnsName: "localhost", by: caCertificate, caKey)
        try pki.issue("client", dnsName: "fhe-jobs-api", by: caCertificate, caKey)
        let (rogueCA, rogueKey) = try authority("another CA")
        try pki.issue("rogue-client", dnsName: "fhe-jobs-api", by: rogueCA, rogueKey)
        return pki
    }

    static func authority(_ name: String) throws -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-300), notValidAfter: Date().addingTimeInterval(3600),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return (certificate, key)
    }

    func issue(_ name: String, dnsName: String, by issuer: Certificate, _ issuerKey: P256.Signing.PrivateKey) throws {
        let key = P256.Signing.PrivateKey()
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-300), notValidAfter: Date().addingTimeInterval(3600),
            issuer: issuer.subject, subject: try DistinguishedName { CommonName(name) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.dnsName(dnsName)])
            },
            issuerPrivateKey: Certificate.PrivateKey(issuerKey))
        try Data(try issued.serializeAsPEM().pemString.utf8).write(to: URL(fileURLWithPath: certificate(name)))
        try SecretFile.create(self.key(name), contents: Data(key.pemRepresentation.utf8))
    }

    func files(_ name: String) -> KeyServiceTLSFiles { KeyServiceTLSFiles(certificate: certificate(name), privateKey: key(name), trustedCA: ca) }
}

/// `fhe-jobs keyservice` and its clients: a confidential job made, run and retrieved with the
/// key-encryption key only in the key service (a separate process over a Unix socket, and
/// an in-process server over a real mutual-TLS port), peers without the right credentials
/// refused, broken frames answered without harm, and a key service that is down answered by
/// the API as 503 with Retry-After.
@Suite("Key service process") struct KeyServiceProcessTests {
    let jobs = ConfidentialJobsTests()

    /// Keys from the API, a statistics job run by a worker without the key-encryption key,
    /// and its result retrieved over `POST /v1/jobs/{id}/fhe-result` and opened here with the
    /// owner's key. The API process (`api`) reaches its key service through `api.keys`.
    func confidentialJobIsRunAndRetrieved(_ h: ServiceHarness, api: ConfidentialJobsService, worker: ConfidentialJobsService) async throws {
        #expect(api.localKeys == nil, "the API under test holds no key service of its own")
        let alice = try await h.token()
        let values: [UInt64] = [12, 7, 300, 1]
        let (pool, confirmer) = jobs.workers(h, worker)
        try await h.test { client in
            let owner = try await FHETestClient.fetch(client, token: alice)
            let file = try owner.encrypt([("data", .vector(.uint16, length: values.count), .vector(values.map { .uint($0) }))])
            let body = fheSubmission("encrypted_statistical_analysis", data: file, parameters: ["statistics": ["sum", "max"]])
            let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(body))
            #expect(submitted.status == .accepted, "\(submitted.json)")
            let id = try #require(submitted.json["id"] as? String)
            let done = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                group.addTask { await confirmer.run() }
                defer { group.cancelAll() }
                return try await jobs.waitFor(id, in: h.store) { $0.status == .confirmed || $0.status == .failed }
            }
            #expect(done.status == .confirmed, "\(String(describing: done.failure))")
            let resultHash = try #require(done.resultHash)

            let nonce = ConfidentialJobsTests.nonce()
            let message = RetrievalMessages.request(jobID: done.id, nonce: nonce, resultHash: resultHash, sealingKey: nil)
            let signature = try ownerKey.signature(for: message).rawRepresentation.hexString
            let r = try await jobs.retrieval(client, token: alice, job: id, body: ["retrievalNonce": nonce, "clientSignature": signature])
            #expect(r.status == .ok, "\(r.json)")
            let sealed = try #require(r.json["sealed"] as? [String: Any])
            let encText = try #require(sealed["enc"] as? String), ciphertextText = try #require(sealed["ciphertext"] as? String)
            let enc = try #require(Data(base64Encoded: encText))
            let ciphertext = try #require(Data(base64Encoded: ciphertextText))
            var recipient = try HPKE.Recipient(privateKey: try P256.KeyAgreement.PrivateKey(rawRepresentation: ownerKey.rawRepresentation),
                                               ciphersuite: .P256_SHA256_AES_GCM_256, info: RetrievalMessages.info(jobID: done.id),
                                               encapsulatedKey: enc)
            let opened = try recipient.open(ciphertext, authenticating: message)
            let outputs = (try JSONSerialization.jsonObject(with: opened) as? [String: Any])?["outputs"] as? [String: Int]
            #expect(outputs == ["sum": Int(values.reduce(0, +)), "max": 300])

            // A wrong signature is refused (the API checks it before it asks the key service).
            let forged = try await jobs.retrieval(client, token: alice, job: id, body: [
                "retrievalNonce": ConfidentialJobsTests.nonce(), "clientSignature": String(repeating: "00", count: 64)])
            #expect(forged.status == .forbidden && forged.problemCode == "INVALID_SIGNATURE")
        }
    }

    /// The built `fhe-jobs keyservice` in a process of its own, sharing the database and blob
    /// folder with the API and worker here, which have no key-encryption key; over its Unix
    /// socket, made with mode 0600.
    @Test(arguments: StoreKind.available)
    func aSeparateKeyServiceProcessServesAConfidentialJobOverAUnixSocket(_ kind: StoreKind) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: WorkerCrashTests.executable.path), "build fhe-jobs first (scripts/test does)")
        try await withStore(kind) { store, context in
            // The SQLite store's folder, or a folder of its own beside a PostgreSQL database.
            let root = try context.sqlitePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent() } ?? FHETestService.temporaryFolder()
            defer { if context.sqlitePath == nil { try? FileManager.default.removeItem(at: root) } }
            let kekFile = root.appendingPathComponent("kek.b64").path
            try SecretFile.create(kekFile, contents: Data(KeyEncryptionKey.generateBase64().utf8))
            let socket = root.appendingPathComponent("keys.sock").path
            let process = Process()
            process.executableURL = WorkerCrashTests.executable
            let metricsPort = 20000 + Int.random(in: 0..<20000)
            process.arguments = ["keyservice", "--data-dir", root.path, "--unix-socket", socket, "--kek-file", kekFile,
                                 "--fhe-parameters", FHETestService.parametersFile.path, "--fhe-allow-insecure-parameters",
                                 "--metrics-port", "\(metricsPort)"]
                + (context.postgresURL.map { ["--database-url", $0] } ?? [])
            // Its log goes to a file (a pipe nobody reads could fill and stop it).
            let log = root.appendingPathComponent("keyservice.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            defer { process.terminate(); process.waitUntilExit() }
            var status = stat()
            var listening = false
            for _ in 0..<300 where process.isRunning {
                listening = stat(socket, &status) == 0
                if listening { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(listening, "the key service did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            let mode = status.st_mode
            #expect(mode & S_IFMT == S_IFSOCK && mode & 0o777 == 0o600, "the socket's mode is \(String(mode, radix: 8))")

            let api = try FHETestService.make(store: store, root: root, kek: nil, keyService: { parameters in
                try RemoteKeyService(endpoint: .unix(path: socket), tls: nil, parameters: parameters, timeout: .seconds(30))
            })
            let worker = try FHETestService.make(store: store, root: root, kek: nil as KeyEncryptionKey?)
            let h = try await ServiceHarness(store: store, context: context, confidential: api)
            try await confidentialJobIsRunAndRetrieved(h, api: api, worker: worker)
            // The key set was made in the key service, wrapped under its key (not one of this process's).
            let keySet = try #require(try await store.allKeySets().first)
            #expect(keySet.kekID == (try KeyEncryptionKey.load(file: kekFile))?.id)

            // Its operator's listener: healthy, and the requests it answered counted by outcome.
            let operatorBase = "http://127.0.0.1:\(metricsPort)"
            let (healthBody, healthResponse) = try await URLSession.shared.data(from: URL(string: "\(operatorBase)/health")!)
            #expect((healthResponse as? HTTPURLResponse)?.statusCode == 200)
            let health = try #require(try JSONSerialization.jsonObject(with: healthBody) as? [String: Any])
            #expect(health["status"] as? String == "ok")
            #expect((health["checks"] as? [String: String]) == ["keyService": "ok", "database": "ok"])
            let (metricsBody, _) = try await URLSession.shared.data(from: URL(string: "\(operatorBase)/metrics")!)
            let metrics = String(decoding: metricsBody, as: UTF8.self)
            #expect(metrics.contains(#"fhe_keyservice_requests_total{operation="owner_key_set",outcome="ok"}"#), "\(metrics.prefix(2000))")
            #expect(metrics.contains(#"fhe_keyservice_requests_total{operation="open_sealed",outcome="ok"}"#))
            #expect(metrics.contains("fhe_keyservice_request_duration_seconds"))
        }
    }

    /// An in-process key service on a real TCP port with mutual TLS, the API's client
    /// presenting a certificate from the key service's CA and checking the key service's.
    @Test func aConfidentialJobOverMutualTLS() async throws {
        try await withStore(.sqlite) { store, context in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let pki = try KeyServicePKI.make(in: root)
            let keyService = try FHETestService.make(store: store, root: root).embeddedKeys
            let server = KeyServiceServer(keys: keyService)
            let listener = try await server.listen(host: "127.0.0.1", port: 0, tls: try pki.files("server").serverContext())
            let port = try #require(listener.port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve(listener) }
                defer { group.cancelAll() }
                let api = try FHETestService.make(store: store, root: root, kek: nil, keyService: { parameters in
                    try RemoteKeyService(endpoint: .tls(host: "localhost", port: port), tlsFiles: pki.files("client"), parameters: parameters)
                })
                let worker = try FHETestService.make(store: store, root: root, kek: nil as KeyEncryptionKey?)
                let h = try await ServiceHarness(store: store, context: context, confidential: api)
                try await confidentialJobIsRunAndRetrieved(h, api: api, worker: worker)
            }
        }
    }

    /// Over TCP only holders of a certificate from the configured CA are answered: one from
    /// another CA, and none at all, fail the handshake, and nothing is made for them.
    @Test func tlsPeersWithoutTheRightCertificateAreRefused() async throws {
        try await withStore(.sqlite) { store, _ in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let pki = try KeyServicePKI.make(in: root)
            let keys = try FHETestService.make(store: store, root: root).embeddedKeys
            let server = KeyServiceServer(keys: keys)
            let listener = try await server.listen(host: "127.0.0.1", port: 0, tls: try pki.files("server").serverContext())
            let port = try #require(listener.port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve(listener) }
                defer { group.cancelAll() }
                let endpoint = KeyServiceEndpoint.tls(host: "localhost", port: port)
                // Another CA's client certificate.
                let rogue = KeyServiceTLSFiles(certificate: pki.certificate("rogue-client"), privateKey: pki.key("rogue-client"), trustedCA: pki.ca)
                let withRogue = try RemoteKeyService(endpoint: endpoint, tlsFiles: rogue, parameters: keys.parameters, timeout: .seconds(10))
                await #expect(throws: DependencyUnavailable.self) { _ = try await withRogue.ownerKeySet(tenant: "acme", owner: "mallory") }
                // No client certificate at all (the key service's certificate is trusted).
                var anonymous = TLSConfiguration.makeClientConfiguration()
                anonymous.trustRoots = .file(pki.ca)
                let withNone = try RemoteKeyService(endpoint: endpoint, tls: try NIOSSLContext(configuration: anonymous),
                                                    parameters: keys.parameters, timeout: .seconds(10))
                await #expect(throws: DependencyUnavailable.self) { _ = try await withNone.ownerKeySet(tenant: "acme", owner: "mallory") }
                #expect(try await store.allKeySets().isEmpty, "no key set was made for a refused peer")
                // A client that does not trust the key service's CA refuses it (server authentication).
                let strangerCA = KeyServiceTLSFiles(certificate: pki.certificate("client"), privateKey: pki.key("client"),
                                                    trustedCA: pki.certificate("rogue-client"))
                let distrustful = try RemoteKeyService(endpoint: endpoint, tlsFiles: strangerCA, parameters: keys.parameters, timeout: .seconds(10))
                await #expect(throws: DependencyUnavailable.self) { _ = try await distrustful.ownerKeySet(tenant: "acme", owner: "mallory") }
                // The right certificate is answered.
                let api = try RemoteKeyService(endpoint: endpoint, tlsFiles: pki.files("client"), parameters: keys.parameters, timeout: .seconds(30))
                let made = try await api.ownerKeySet(tenant: "acme", owner: "alice")
                #expect(made.owner == "alice" && made.tenant == "acme")
            }
        }
    }

    /// Bytes that are not a request (another protocol, another version, a length past the limit,
    /// a body that is not JSON, an answer sent as a request) get a failure frame and a closed
    /// connection; the key service keeps serving. A Unix socket peer whose user is not allowed
    /// is closed before it is read, and one that stalls is cut off.
    @Test func malformedFramesAndStrangersAreRefusedWithoutHarm() async throws {
        try await withStore(.sqlite) { store, _ in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let keys = try FHETestService.make(store: store, root: root).embeddedKeys
            var limits = KeyServiceServer.Limits()
            limits.readTimeout = .seconds(1)
            let server = KeyServiceServer(keys: keys, limits: limits)
            let socket = root.appendingPathComponent("k.sock").path
            let listener = try await server.listen(unixSocket: socket)
            let strangerSocket = root.appendingPathComponent("other.sock").path
            let strangers = try await server.listen(unixSocket: strangerSocket, allowedUserIDs: [getuid() &+ 1])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve(listener) }
                group.addTask { try await server.serve(strangers) }
                defer { group.cancelAll() }
                func header(version: UInt8 = 1, kind: UInt8 = 1, length: UInt32) -> [UInt8] {
                    Array("fhks".utf8) + [version, kind] + withUnsafeBytes(of: length.bigEndian, Array.init)
                }
                let cases: [(String, [UInt8], String)] = [
                    ("HTTP", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "MALFORMED_FRAME"),
                    ("a later version", header(version: 2, length: 2) + Array("{}".utf8), "UNSUPPORTED_VERSION"),
                    // Refused on the header alone: the 2 GiB body is never sent, nor waited for.
                    ("2 GiB announced", header(length: 1 << 31), "FRAME_TOO_LARGE"),
                    ("not JSON", header(length: 3) + Array("abc".utf8), "MALFORMED_FRAME"),
                    ("the wrong JSON", header(length: 2) + Array("{}".utf8), "MALFORMED_FRAME"),
                    ("an answer", header(kind: 0x80, length: 2) + Array("{}".utf8), "MALFORMED_FRAME"),
                    ("an unknown kind", header(kind: 0x33, length: 0), "MALFORMED_FRAME"),
                ]
                for (name, bytes, code) in cases {
                    let (answer, closed) = try await Self.exchangeRaw(socket: socket, bytes)
                    let frame = try #require(answer, "\(name): no answer")
                    #expect(frame.kind == .failure, "\(name)")
                    #expect((try? JSONDecoder().decode(KeyServiceWireError.self, from: frame.body))?.code == code, "\(name)")
                    #expect(closed, "\(name): the connection stayed open")
                }
                // A peer that stops inside a frame is cut off at the read timeout (1 s here).
                let started = ContinuousClock.now
                let (cut, cutClosed) = try await Self.exchangeRaw(socket: socket, header(length: 100) + Array("{\"te".utf8))
                #expect(cut == nil || cut?.kind == .failure)
                #expect(cutClosed && ContinuousClock.now - started < .seconds(5))
                // Still serving.
                let client = try RemoteKeyService(endpoint: .unix(path: socket), tls: nil, parameters: keys.parameters)
                #expect(try await client.ownerKeySet(tenant: "acme", owner: "alice").owner == "alice")
                // A peer of a user that is not allowed: closed unread.
                let stranger = try RemoteKeyService(endpoint: .unix(path: strangerSocket), tls: nil, parameters: keys.parameters, timeout: .seconds(5))
                await #expect(throws: DependencyUnavailable.self) { _ = try await stranger.ownerKeySet(tenant: "acme", owner: "bob") }
                #expect(try await store.keySet(tenant: "acme", owner: "bob", parameterSet: keys.parameters.name) == nil)
            }
        }
    }

    /// The socket appears at its path with its mode already set, replacing a stale socket and
    /// refusing any other file; no staging directory is left beside it, and the process's umask
    /// is never changed (it is every thread's: the blob store's 0700 directories once came out
    /// 0600 while a key service started in the same process).
    @Test func theSocketIsPlacedWithItsModeAndTheUmaskIsLeftAlone() async throws {
        try await withStore(.sqlite) { store, _ in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let server = KeyServiceServer(keys: try FHETestService.make(store: store, root: root).embeddedKeys)
            let umaskBefore = umask(0o022); umask(umaskBefore)
            let socket = root.appendingPathComponent("k.sock").path
            for mode: mode_t in [0o600, 0o660] {
                // The second round replaces the first round's socket, which nobody serves any more.
                let listener = try await server.listen(unixSocket: socket, mode: mode)
                var status = stat()
                #expect(lstat(socket, &status) == 0)
                #expect(status.st_mode & S_IFMT == S_IFSOCK && status.st_mode & 0o777 == mode, "mode \(String(status.st_mode, radix: 8))")
                let serving = Task { try await server.serve(listener) }
                let client = try RemoteKeyService(endpoint: .unix(path: socket), tls: nil, parameters: server.keys.parameters)
                #expect(try await client.ownerKeySet(tenant: "acme", owner: "alice").owner == "alice")
                serving.cancel()
                _ = try? await serving.value
                // Serving removed its socket; leave a stale one (bound, then closed) for the next round.
                if mode == 0o600 {
                    try Self.leaveStaleSocket(at: socket)
                    #expect(lstat(socket, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK)
                }
            }
            let umaskAfter = umask(0o022); umask(umaskAfter)
            #expect(umaskAfter == umaskBefore)
            let entries = try FileManager.default.contentsOfDirectory(atPath: root.path)
            #expect(!entries.contains { $0.hasPrefix(".ks-") }, "\(entries)")
            // A regular file at the path is not replaced.
            let file = root.appendingPathComponent("not-a-socket").path
            FileManager.default.createFile(atPath: file, contents: Data("keep".utf8))
            await #expect(throws: KeyServiceError.self) { _ = try await server.listen(unixSocket: file) }
            #expect(FileManager.default.contents(atPath: file) == Data("keep".utf8))
        }
    }

    /// Frames are checked on their header before any body is kept.
    @Test func framesAreBoundedBeforeTheirBodyArrives() throws {
        var buffer = ByteBuffer(bytes: Array("fhks".utf8) + [1, 1] + [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: KeyServiceProtocolError.frameTooLarge(0x7FFF_FFFF, limit: KeyServiceFrame.requestLimit)) {
            _ = try KeyServiceFrame.parse(&buffer, limit: KeyServiceFrame.requestLimit)
        }
        var garbage = ByteBuffer(bytes: Array("fh".utf8) + [0])
        #expect(throws: KeyServiceProtocolError.self) { _ = try KeyServiceFrame.parse(&garbage, limit: 16) }
        var partial = KeyServiceFrame(kind: .ownerKeySet, body: Data("{\"tenant\":\"a\",\"owner\":\"b\"}".utf8)).encoded()
        let whole = partial
        partial.moveWriterIndex(to: partial.writerIndex - 1)
        let none = try KeyServiceFrame.parse(&partial, limit: 1024)
        #expect(none == nil)
        var complete = whole
        let frame = try KeyServiceFrame.parse(&complete, limit: 1024)
        #expect(frame?.kind == .ownerKeySet)
        #expect(complete.readableBytes == 0)
    }

    /// With the key service down the API answers 503 SERVICE_UNAVAILABLE, retryable, with
    /// Retry-After: the failure that opens the key service's breaker, and every call while it
    /// is open (refused at once, without a connection attempt).
    @Test func aKeyServiceThatIsDownIsA503WithRetryAfter() async throws {
        try await withStore(.sqlite) { store, context in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let breaker = CircuitBreaker(name: RemoteKeyService.dependency,
                                         configuration: .init(failureThreshold: 1, openInterval: .seconds(30), halfOpenProbes: 1))
            let api = try FHETestService.make(store: store, root: root, kek: nil, keyService: { parameters in
                try RemoteKeyService(endpoint: .unix(path: root.appendingPathComponent("nobody-listens.sock").path), tls: nil,
                                     parameters: parameters, timeout: .seconds(5), breaker: breaker)
            })
            let h = try await ServiceHarness(store: store, context: context, confidential: api)
            let alice = try await h.token()
            try await h.test { client in
                for attempt in 1...2 {
                    let r = try await client.execute(uri: "/v1/fhe/keys", method: .get, headers: .bearer(alice))
                    #expect(r.status == .serviceUnavailable, "attempt \(attempt)")
                    #expect(r.problemCode == "SERVICE_UNAVAILABLE" && r.json["retryable"] as? Bool == true, "attempt \(attempt)")
                    #expect(r.headers[.retryAfter].flatMap(Int.init).map { (1...30).contains($0) } == true, "attempt \(attempt)")
                }
            }
            #expect(breaker.state == .open)
        }
    }

    /// `serve` refuses a key-encryption key together with `--key-service`, in one line.
    @Test func theAPIRefusesAKeyEncryptionKeyBesideAKeyService() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: WorkerCrashTests.executable.path), "build fhe-jobs first (scripts/test does)")
        let root = try FHETestService.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let kekFile = root.appendingPathComponent("kek.b64").path
        try SecretFile.create(kekFile, contents: Data(KeyEncryptionKey.generateBase64().utf8))
        let (status, _, err) = try ConfidentialJobsTests.run(WorkerCrashTests.executable.path, [
            "serve", "--data-dir", root.path, "--metrics-port", "0", "--port", "\(20000 + Int.random(in: 0..<20000))",
            "--key-service", "unix:\(root.path)/keys.sock", "--kek-file", kekFile,
            "--fhe-parameters", FHETestService.parametersFile.path, "--fhe-allow-insecure-parameters"])
        #expect(status != 0)
        let lines = err.split(separator: "\n").filter { $0.contains("--key-service") }
        #expect(lines.count == 1 && lines[0].contains("exclude each other"), "\(err)")
    }

    /// Sends `bytes` on a fresh connection to the socket and reads one frame back; whether
    /// the key service closed the connection right after it (well before its 10 s read timeout).
    /// Binds a Unix socket at `path` and closes it, leaving its file behind as a crashed
    /// server would (NIO removes the file when it closes a socket it bound).
    static func leaveStaleSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
    }

    static func exchangeRaw(socket: String, _ bytes: [UInt8]) async throws -> (KeyServiceFrame?, Bool) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            var reader = KeyServiceFrameReader(inbound.makeAsyncIterator(), limit: KeyServiceFrame.answerLimit)
            let frame = try? await reader.next()
            let started = ContinuousClock.now
            let closed = (try? await reader.next()) == nil && ContinuousClock.now - started < .seconds(5)
            return (frame, closed)
        }
    }
}
