@testable import BlobStoreS3
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Jobs
import NIOHTTP1
import Testing

/// What only the S3 adapter has: its signature checked by the server, its leftovers (staging
/// objects, unfinished uploads, deletion marks), its errors, its configuration. The protocol's
/// guarantees are checked on it by `BlobStoreTests`.
@Suite("S3BlobStore")
struct S3BlobStoreTests {
    @Test("a wrong secret is refused by the server: the signature is checked", .enabled(if: S3TestServer.isConfigured, S3TestServer.missingMessage))
    func wrongSecret() async throws {
        let store = try S3TestServer.store(secret: "not-the-secret")
        await #expect {
            try await store.put(tenant: "t", data: Data("x".utf8), limit: 10, hold: hold("upload:w", for: 60))
        } throws: { error in
            guard case .denied(let message) = error as? BlobStoreError else { return false }
            return message.contains("SignatureDoesNotMatch") && !message.contains("not-the-secret")
        }
        // The right one is accepted by the same server.
        let good = try S3TestServer.store()
        #expect(try await good.put(tenant: "t", data: Data("x".utf8), limit: 10, hold: hold("upload:w", for: 60)).size == 1)
    }

    @Test("a sweep removes what crashed puts and sweeps left, once older than the lifetime", .enabled(if: S3TestServer.isConfigured, S3TestServer.missingMessage))
    func crashedLeftovers() async throws {
        let store = try S3TestServer.store()
        // A staging object, an upload in parts never completed, a deletion mark: as a crash leaves them.
        _ = try await store.client.send(.PUT, key: S3BlobStore.stagingKey(), body: Data(count: 100))
        var upload = try await store.startUpload()
        try await upload.send(Data(count: 100), client: store.client)
        let id = try BlobID(String(repeating: "ab", count: 32))
        _ = try await store.client.send(.PUT, key: S3BlobStore.Keys(tenant: "t", id: id).mark, body: Data("crashed\n".utf8))

        #expect(try await store.sweep(now: Date()) == SweepReport())
        #expect(try await store.sweep(now: Date().addingTimeInterval(7200)) == SweepReport(temporaryFilesDeleted: 3))
        #expect(try await S3TestServer.keys(store, under: "").isEmpty)
        var report = SweepReport()
        try await store.abortUploads(initiatedBefore: Date().addingTimeInterval(86400), into: &report)
        #expect(report.temporaryFilesDeleted == 0)
    }

    @Test("a deletion mark left by a crashed process holds a put back only until it is stale", .enabled(if: S3TestServer.isConfigured, S3TestServer.missingMessage))
    func staleMark() async throws {
        let store = try S3TestServer.store { $0.markLifetime = .seconds(2) }
        let data = Data("content".utf8)
        let keys = S3BlobStore.Keys(tenant: "t", id: try BlobID(try sha256sum(of: data)))
        _ = try await store.client.send(.PUT, key: keys.mark, body: Data("crashed\n".utf8))
        let started = ContinuousClock.now
        let info = try await store.put(tenant: "t", data: data, limit: 100, hold: hold("upload:m", for: 60))
        let waited = ContinuousClock.now - started
        // S3's clock counts whole seconds: more than 2 s old means 3 s on its clock at most.
        #expect(waited >= .seconds(1) && waited < .seconds(10), "waited \(waited)")
        #expect(try await store.read(tenant: "t", id: info.id, limit: 100) == data)
        #expect(try await S3TestServer.keys(store, under: "deleting/").isEmpty)
    }

    @Test("a live mark of another process: a sweep leaves that blob to it", .enabled(if: S3TestServer.isConfigured, S3TestServer.missingMessage))
    func markedBlobIsSkipped() async throws {
        let store = try S3TestServer.store()
        let info = try await store.put(tenant: "t", data: Data("marked".utf8), limit: 100, hold: hold("upload:x", for: -1))
        let keys = S3BlobStore.Keys(tenant: "t", id: info.id)
        _ = try await store.client.send(.PUT, key: keys.mark, body: Data("another sweep\n".utf8))
        #expect(try await store.sweep(now: Date()) == SweepReport())
        _ = try await store.client.send(.DELETE, key: keys.mark, accept: [204])
        #expect(try await store.sweep(now: Date()) == SweepReport(blobsDeleted: 1, bytesFreed: 6, holdsExpired: 1))
    }

    @Test("holds left without their blob go when they expire", .enabled(if: S3TestServer.isConfigured, S3TestServer.missingMessage))
    func orphanHolds() async throws {
        let store = try S3TestServer.store()
        let id = try BlobID(String(repeating: "cd", count: 32))
        let keys = S3BlobStore.Keys(tenant: "t", id: id)
        _ = try await store.writeHold(keys, hold("job:gone", for: 60))
        _ = try await store.writeHold(keys, hold("job:expired", for: -60))
        #expect(try await store.sweep(now: Date()) == SweepReport(holdsExpired: 1))
        #expect(try await S3TestServer.keys(store, under: keys.holds) == [keys.hold("job:gone")])
    }

    @Test("S3's error documents become typed errors")
    func errorMapping() {
        let body = Data("<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".utf8)
        #expect(S3Client.error(status: 503, body: body, "S3 PUT /b/k") == .unavailable("S3 PUT /b/k: 503 SlowDown: Please reduce your request rate."))
        let denied = Data("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".utf8)
        #expect(S3Client.error(status: 403, body: denied, "S3 GET /b/k") == .denied("S3 GET /b/k: 403 AccessDenied: Access Denied"))
        #expect(S3Client.error(status: 404, body: Data("<Error><Code>NoSuchBucket</Code></Error>".utf8), "S3 GET /b") == .denied("S3 GET /b: 404 NoSuchBucket"))
        #expect(S3Client.error(status: 400, body: Data("not xml".utf8), "S3 PUT /b/k") == .io("S3 PUT /b/k: 400 HTTP 400"))
        #expect(S3Client.error(status: 500, body: Data(), "S3 PUT /b/k") == .unavailable("S3 PUT /b/k: 500 HTTP 500"))
    }

    @Test("an endpoint that does not answer is unavailable, and its breaker opens")
    func unreachable() async throws {
        // A port nothing listens on: connections are refused at once.
        let socket = try LoopbackPort()
        let port = socket.port
        socket.close()
        var configuration = S3BlobStore.Configuration()
        configuration.attempts = 2
        configuration.requestTimeout = .seconds(2)
        let breaker = CircuitBreaker(name: "s3", configuration: .init(failureThreshold: 2, openInterval: .seconds(60)))
        let store = try S3BlobStore(location: S3Location(blobStore: "s3://bucket", endpoint: "http://127.0.0.1:\(port)", region: "us-east-1"),
                                    credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"),
                                    configuration: configuration, breaker: breaker)
        let id = try BlobID(String(repeating: "ab", count: 32))
        await #expect {
            try await store.info(tenant: "t", id: id)
        } throws: { error in
            if case .unavailable = error as? BlobStoreError { return true }
            return false
        }
        #expect(breaker.state == .open)
        await #expect {
            try await store.info(tenant: "t", id: id)
        } throws: { error in
            if case .unavailable(let message) = error as? BlobStoreError { return message.contains("failed repeatedly") }
            return false
        }
    }

    @Test("locations are checked", arguments: [
        ("s3://", nil as String?), ("file://x", nil), ("s3://Bucket", nil), ("s3://ab", nil), ("s3://-bucket", nil),
        ("s3://bucket", "ftp://host"), ("s3://bucket", "https://host/path"), ("s3://bucket/a//b", nil), ("s3://bucket", "http://"),
    ])
    func invalidLocations(_ blobStore: String, _ endpoint: String?) {
        #expect {
            _ = try S3Location(blobStore: blobStore, endpoint: endpoint, region: "us-east-1")
        } throws: { error in
            if case .invalidConfiguration = error as? BlobStoreError { return true }
            return false
        }
    }

    @Test("a location's parts")
    func locations() throws {
        let aws = try S3Location(blobStore: "s3://fhe-blobs/prod/eu", endpoint: nil, region: "eu-west-1")
        #expect(aws.endpoint.absoluteString == "https://s3.eu-west-1.amazonaws.com" && aws.bucket == "fhe-blobs" && aws.prefix == "prod/eu/")
        #expect(aws.hostHeader == "s3.eu-west-1.amazonaws.com")
        let minio = try S3Location(blobStore: "s3://fhe-blobs", endpoint: "http://minio.storage:9000/", region: "us-east-1")
        #expect(minio.prefix == "" && minio.hostHeader == "minio.storage:9000")
        #expect(try S3Location(blobStore: "s3://b12", endpoint: "https://[::1]:443", region: "us-east-1").hostHeader == "[::1]")
    }

    @Test("credentials come from a 0600 file or the environment, and errors never show them")
    func credentials() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3-credentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("s3.env").path
        try SecretFile.create(file, contents: Data("# the service's key\nAWS_ACCESS_KEY_ID=AKIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY = s3cr3t/value=\n\n".utf8))
        let loaded = try AWSCredentials.load(file: file, environment: ["AWS_ACCESS_KEY_ID": "ignored", "AWS_SECRET_ACCESS_KEY": "ignored"])
        #expect(loaded == AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "s3cr3t/value="))
        #expect(try AWSCredentials.load(file: nil, environment: ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B", "AWS_SESSION_TOKEN": "C"])
            == AWSCredentials(accessKeyID: "A", secretAccessKey: "B", sessionToken: "C"))

        let exposed = directory.appendingPathComponent("exposed.env").path
        try Data("AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=topsecret\n".utf8).write(to: URL(fileURLWithPath: exposed))
        chmod(exposed, 0o644)
        let cases: [(String?, [String: String])] = [(exposed, [:]), (nil, ["AWS_ACCESS_KEY_ID": "A"]), (nil, [:]),
                                                    (nil, ["AWS_ACCESS_KEY_ID": "A/B", "AWS_SECRET_ACCESS_KEY": "topsecret"]),
                                                    (directory.appendingPathComponent("missing").path, [:])]
        for (file, environment) in cases {
            #expect {
                _ = try AWSCredentials.load(file: file, environment: environment)
            } throws: { error in
                guard case .invalidConfiguration(let message) = error as? BlobStoreError else { return false }
                return !message.contains("topsecret")
            }
        }
    }
}

/// A free loopback port (bound, then closed by the caller).
struct LoopbackPort {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
