import AsyncHTTPClient
import Crypto
import Foundation
import Jobs
import NIOCore
import NIOHTTP1

/// A `BlobStore` in an S3 bucket (AWS S3 or any S3-compatible server with conditional writes:
/// MinIO, Ceph RGW, moto), shared by every machine of the service. Requests are signed with our
/// own SigV4 (`SigV4Signer`), retried and guarded by a circuit breaker (`S3Client`).
///
/// Keys, under the location's prefix (`<T>` is `BlobNamespace.key(ofTenant:)`, the SHA-256 of
/// the tenant's name; ids and holders are validated, so no key is chosen by a client):
///
///     blobs/<T>/<id>               the content
///     holds/<T>/<id>/<holder>      one hold (`:` written `~`): its expiry, seconds since 1970, as text
///     deleting/<T>/<id>            the mark of a sweep or delete of that blob in progress
///     staging/<time>-<uuid>        a large put's content, uploaded in parts, until it is copied
///
/// How the protocol's guarantees are kept where S3 has no rename and no lock:
/// - Nothing partial is visible. A blob of at most one part (`partSize`) is written by one
///   PutObject, which S3 makes visible whole or not at all; a larger one is uploaded in parts
///   (multipart upload) to `staging/<uuid>`, which S3 assembles only at CompleteMultipartUpload,
///   and then copied whole (CopyObject, server side) to `blobs/<T>/<id>`. A put that fails
///   aborts its upload; uploads and staging objects of crashed puts are removed by `sweep` once
///   older than `temporaryLifetime` (so a put must upload its parts within that time: an hour by
///   default, 1.2 MB/s for the largest input of 4 GiB). Content is named by its SHA-256, so two writes of one key
///   write the same bytes: a racing or repeated write never changes a blob.
/// - One blob for concurrent puts of the same content: they write the same key (PutObject with
///   `If-None-Match: *`, so the second is answered 412 and keeps the first) and each adds its
///   own hold object.
/// - A sweep or a delete never undoes a put or a `hold` that returned. Every removal of a blob
///   runs inside its deletion mark, written with `If-None-Match: *` (S3 conditional writes), so
///   at most one process removes a blob at a time, in this order: (1) write the mark, (2) list
///   and read the blob's holds, delete the expired ones, (3) if none is left, delete the content,
///   (4) delete the mark. A put or a `hold`, in this order: (a) write its hold object, (b) check
///   that there is no mark (else wait until it is gone and go back to (a)), (c) make sure the
///   content is there (a put writes it; `hold` answers false if it is gone). S3 is strongly
///   consistent (a read or list after a write sees it), so if (b) saw no mark, either the
///   removal's (1) came later, then its (2) sees the hold and keeps the blob, or its (4) came
///   earlier, then (c) sees the content gone and writes it again. A removal that takes longer
///   than half of `markLifetime` between (1) and (3) gives up without deleting, and a mark
///   older than `markLifetime` (its writer crashed) is removed by the next process that meets it
///   (`If-Match` on its ETag, ages measured on S3's own clock: `Date` minus `Last-Modified`).
///   A hold's expiry moves only by compare-and-swap (`If-Match` / `If-None-Match: *` on its
///   object), and an expired hold is deleted with `If-Match`, so a renewal is never lost.
/// - Memory is one part: a put hashes and buffers at most `partSize` bytes (plus one chunk of
///   its source) before sending them; reads are one ranged GET whose body is read from the
///   connection as the stream is consumed, re-cut into `chunkSize` chunks. The GET has begun
///   when `chunks` returns, so S3 serves the object as it was then, even if it is deleted.
public final class S3BlobStore: BlobStore {
    public struct Configuration: Sendable {
        /// The size of an upload's parts (S3's minimum is 5 MiB for every part but the last);
        /// also the largest blob written in one request. Raised for a put whose limit would
        /// need more than S3's 10,000 parts.
        public var partSize = 8 << 20
        /// The size of the chunks that `chunks(tenant:id:range:)` yields.
        public var chunkSize = 1 << 20
        /// A staging object, an unfinished multipart upload or a deletion mark older than this
        /// belongs to a process that crashed.
        public var temporaryLifetime: TimeInterval = 3600
        /// How long a deletion mark keeps puts waiting before it counts as abandoned.
        public var markLifetime: Duration = .seconds(60)
        /// One request's deadline, to the answer's head (an unreachable endpoint fails each try
        /// only then: the HTTP client keeps trying to connect until it).
        public var requestTimeout: Duration = .seconds(30)
        /// Tries of a request that timed out or got a 5xx.
        public var attempts = 3

        public init() {}

        func validate() throws(BlobStoreError) {
            guard partSize >= 5 << 20, partSize <= 5 << 30 else { throw .invalidConfiguration("the S3 part size must be 5 MiB to 5 GiB") }
            guard chunkSize > 0, markLifetime >= .seconds(2), requestTimeout >= .seconds(1), (1...10).contains(attempts) else {
                throw .invalidConfiguration("the S3 store's chunk size, mark lifetime, timeout or attempts are out of range")
            }
        }
    }

    public let location: S3Location
    public let configuration: Configuration
    let client: S3Client

    /// `breaker` guards the endpoint (give the service's breaker settings); `http` is the shared
    /// HTTP client unless a test gives its own.
    public init(location: S3Location, credentials: AWSCredentials, configuration: Configuration = .init(),
                breaker: CircuitBreaker = CircuitBreaker(name: "s3"), http: HTTPClient = .shared) throws(BlobStoreError) {
        try configuration.validate()
        self.location = location
        self.configuration = configuration
        let timeout = configuration.requestTimeout.components
        client = S3Client(location: location, credentials: credentials, http: http, breaker: breaker,
                          timeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000),
                          attempts: configuration.attempts)
    }

    /// The keys of one blob.
    struct Keys {
        let tenantKey: String
        let id: BlobID
        init(tenant: String, id: BlobID) { tenantKey = BlobNamespace.key(ofTenant: tenant); self.id = id }
        init(tenantKey: String, id: BlobID) { self.tenantKey = tenantKey; self.id = id }
        var data: String { "blobs/\(tenantKey)/\(id.hex)" }
        var holds: String { "holds/\(tenantKey)/\(id.hex)/" }
        /// `:` (in `job:<uuid>`) becomes `~`, which no holder contains: keys then hold only
        /// RFC 3986 unreserved characters and `/`, which every server and proxy leaves as sent
        /// (some decode `%3A` before checking a signature computed over it).
        func hold(_ holder: String) -> String { holds + holder.replacingOccurrences(of: ":", with: "~") }
        var mark: String { "deleting/\(tenantKey)/\(id.hex)" }
    }

    /// `staging/<seconds since 1970>-<uuid>`: the time a put began, which a sweep reads, since
    /// not every server reports an upload's `Initiated` truly (moto answers a fixed date).
    static func stagingKey(now: Date = Date()) -> String {
        "staging/\(Int(now.timeIntervalSince1970))-" + UUID().uuidString.lowercased()
    }

    /// When the put that chose `key` (a staging key) began; nil for a key of another shape.
    static func stagingStart(_ key: String) -> Date? {
        guard key.hasPrefix("staging/"), let seconds = Int(key.dropFirst("staging/".count).prefix { $0 != "-" }) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    // MARK: Holds

    public func hold(tenant: String, id: BlobID, hold: BlobHold) async throws(BlobStoreError) -> Bool {
        let keys = Keys(tenant: tenant, id: id)
        // Most calls name a blob that exists; one that does not gets no hold object at all.
        guard try await head(keys.data) != nil else { return false }
        let written = try await settleHold(keys, hold)
        if try await head(keys.data) != nil { return true }
        // Removed meanwhile: take back the hold this call wrote (a hold it only kept stays; it
        // expires and its orphan is swept).
        if let written {
            _ = try await client.send(.DELETE, key: keys.hold(hold.holder.name), headers: [("If-Match", written)], accept: [200, 204, 404, 412])
        }
        return false
    }

    @discardableResult
    public func release(tenant: String, id: BlobID, holder: BlobHolder) async throws(BlobStoreError) -> Bool {
        let key = Keys(tenant: tenant, id: id).hold(holder.name)
        guard try await head(key) != nil else { return false }
        _ = try await client.send(.DELETE, key: key, accept: [200, 204, 404])
        return true
    }

    /// Steps (a) and (b) of the type's doc: writes the hold, then waits until no removal of the
    /// blob is in progress, writing the hold again after each one. Returns the ETag of the hold
    /// object if this call wrote it.
    func settleHold(_ keys: Keys, _ hold: BlobHold) async throws(BlobStoreError) -> String? {
        let started = ContinuousClock.now
        var delay = Duration.milliseconds(50)
        var written: String?
        while true {
            if let etag = try await writeHold(keys, hold) { written = etag }
            guard let mark = try await head(keys.mark) else { return written }
            if mark.isStale(configuration.markLifetime) {
                _ = try await client.send(.DELETE, key: keys.mark, headers: [("If-Match", mark.etag)], accept: [200, 204, 404, 412])
                continue
            }
            guard ContinuousClock.now - started < configuration.markLifetime * 2 else {
                throw .unavailable("blob \(keys.id): a removal of it by another process has not finished for \(configuration.markLifetime * 2)")
            }
            do { try await Task.sleep(for: delay) } catch { throw .sourceFailed("cancelled while waiting for a removal of blob \(keys.id)") }
            delay = min(delay * 2, .seconds(1))
        }
    }

    /// Writes the hold, or moves an existing hold of the same holder to the later expiry, by
    /// compare-and-swap on the hold object's ETag. Returns the new ETag, or nil if the hold
    /// already ran at least as long.
    func writeHold(_ keys: Keys, _ hold: BlobHold) async throws(BlobStoreError) -> String? {
        let key = keys.hold(hold.holder.name)
        for _ in 0..<16 {
            let current = try await readHold(key)
            if let current, current.expires >= hold.expires { return nil }
            let body = Data("\(hold.expires.timeIntervalSince1970)\n".utf8)
            let condition = current.map { ("If-Match", $0.etag) } ?? ("If-None-Match", "*")
            // 412, or 404 for an If-Match on a hold removed meanwhile: it changed, read it again.
            let response = try await client.send(.PUT, key: key, headers: [condition, ("Content-Type", "text/plain")], body: body, accept: [200, 404, 412])
            if response.status == 200 { return response.headers.first(name: "ETag") ?? "" }
        }
        throw .io("hold \(hold.holder) on blob \(keys.id): the hold kept changing under 16 tries")
    }

    /// A hold's expiry and ETag; nil if there is no such hold. One that cannot be parsed keeps
    /// its blob, as in `FileBlobStore.readHold`.
    func readHold(_ key: String) async throws(BlobStoreError) -> (expires: Date, etag: String)? {
        let response = try await client.send(.GET, key: key, accept: [200, 404], maxBody: 1024)
        guard response.status == 200 else { return nil }
        let text = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (Double(text).map(Date.init(timeIntervalSince1970:)) ?? .distantFuture, response.headers.first(name: "ETag") ?? "")
    }

    // MARK: Objects

    /// What HEAD says of an object.
    struct ObjectHead {
        var size: Int
        var etag: String
        /// S3's clock: when the object was written, and now.
        var lastModified: Date?
        var serverDate: Date?

        func isStale(_ lifetime: Duration) -> Bool {
            guard let lastModified else { return false }
            let age = (serverDate ?? Date()).timeIntervalSince(lastModified)
            return age > Double(lifetime.components.seconds)
        }
    }

    /// HEAD of `key`; nil if there is no such object.
    func head(_ key: String) async throws(BlobStoreError) -> ObjectHead? {
        let response = try await client.send(.HEAD, key: key, accept: [200, 404], maxBody: 0)
        guard response.status == 200 else { return nil }
        guard let size = response.headers.first(name: "Content-Length").flatMap(Int.init), size >= 0 else {
            throw .io("S3 HEAD \(key): no Content-Length in the answer")
        }
        return ObjectHead(size: size, etag: response.headers.first(name: "ETag") ?? "",
                          lastModified: response.headers.first(name: "Last-Modified").flatMap(HTTPDate.parse),
                          serverDate: response.headers.first(name: "Date").flatMap(HTTPDate.parse))
    }

    // MARK: Delete

    @discardableResult
    public func delete(tenant: String, id: BlobID) async throws(BlobStoreError) -> Bool {
        let keys = Keys(tenant: tenant, id: id)
        let started = ContinuousClock.now
        var delay = Duration.milliseconds(50)
        while true {
            if let existed = try await withDeletionMark(keys, { () async throws(BlobStoreError) -> Bool in
                let existed = try await self.head(keys.data) != nil
                // The content first: a crash after it leaves only holds, which expire.
                _ = try await self.client.send(.DELETE, key: keys.data, accept: [200, 204, 404])
                try await self.forEachObject(under: keys.holds) { (object: ListedObject) async throws(BlobStoreError) in
                    _ = try await self.client.send(.DELETE, key: object.key, accept: [200, 204, 404])
                }
                return existed
            }) {
                return existed
            }
            // Another process is removing it (a sweep): wait for it, then remove what is left.
            guard ContinuousClock.now - started < configuration.markLifetime * 2 else {
                throw .unavailable("blob \(id): a removal of it by another process has not finished for \(configuration.markLifetime * 2)")
            }
            do { try await Task.sleep(for: delay) } catch { throw .sourceFailed("cancelled while waiting for a removal of blob \(id)") }
            delay = min(delay * 2, .seconds(1))
        }
    }

    /// Runs `body` holding the blob's deletion mark; nil if another process holds it (a stale
    /// mark is taken over). The mark is removed afterwards, whatever `body` did.
    func withDeletionMark<T>(_ keys: Keys, _ body: () async throws(BlobStoreError) -> T) async throws(BlobStoreError) -> T? {
        for _ in 0..<2 {
            let response = try await client.send(.PUT, key: keys.mark, headers: [("If-None-Match", "*"), ("Content-Type", "text/plain")],
                                                 body: Data((UUID().uuidString + "\n").utf8), accept: [200, 412])
            if response.status == 200 {
                let result: Result<T, BlobStoreError>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                _ = try? await client.send(.DELETE, key: keys.mark, accept: [200, 204, 404])
                return try result.get()
            }
            guard let mark = try await head(keys.mark) else { continue }
            guard mark.isStale(configuration.markLifetime) else { return nil }
            _ = try await client.send(.DELETE, key: keys.mark, headers: [("If-Match", mark.etag)], accept: [200, 204, 404, 412])
        }
        return nil
    }
}

/// HTTP dates (RFC 9110 section 5.6.7, IMF-fixdate), as S3 sends `Date` and `Last-Modified`.
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    /// ISO 8601 with or without fractions, as listings give `LastModified` and `Initiated`.
    static func parseISO(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
