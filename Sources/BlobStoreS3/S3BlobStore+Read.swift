import AsyncHTTPClient
import Foundation
import Jobs
import NIOCore
import NIOFoundationCompat
import Synchronization

extension S3BlobStore {
    public func info(tenant: String, id: BlobID) async throws(BlobStoreError) -> BlobInfo? {
        try await head(Keys(tenant: tenant, id: id).data).map { BlobInfo(tenant: tenant, id: id, size: $0.size) }
    }

    public func read(tenant: String, id: BlobID, limit: Int) async throws(BlobStoreError) -> Data {
        let key = Keys(tenant: tenant, id: id).data
        guard let object = try await head(key) else { throw .notFound }
        guard object.size <= limit else { throw .tooLarge(limit: limit) }
        // The same object as the HEAD's (a blob is only ever rewritten with the same bytes, but
        // a delete between the two answers 412 or 404, never other bytes).
        let response = try await client.send(.GET, key: key, headers: [("If-Match", object.etag)], accept: [200, 404, 412], maxBody: object.size)
        guard response.status == 200 else { throw .notFound }
        guard response.body.count == object.size else { throw .io("S3 GET \(key): \(response.body.count) of \(object.size) bytes") }
        return response.body
    }

    public func chunks(tenant: String, id: BlobID, range: ClosedRange<Int>?) async throws(BlobStoreError)
        -> (info: BlobInfo, stream: AsyncThrowingStream<Data, any Error>) {
        let key = Keys(tenant: tenant, id: id).data
        guard let object = try await head(key) else { throw .notFound }
        let bounds: Range<Int>
        if let range {
            guard range.lowerBound >= 0, range.upperBound < object.size else { throw .invalidRange(size: object.size) }
            bounds = range.lowerBound..<(range.upperBound + 1)
        } else {
            bounds = 0..<object.size
        }
        let info = BlobInfo(tenant: tenant, id: id, size: object.size)
        // An empty blob has no byte to ask for (a Range on it is answered 416).
        guard !bounds.isEmpty else { return (info, AsyncThrowingStream { nil }) }
        let response = try await client.stream(key: key, headers: [
            ("Range", "bytes=\(bounds.lowerBound)-\(bounds.upperBound - 1)"), ("If-Match", object.etag),
        ], accept: [200, 206, 404, 412])
        guard response.status.code == 200 || response.status.code == 206 else { throw .notFound }
        let reader = S3ChunkReader(body: response.body, count: bounds.count, chunkSize: configuration.chunkSize, key: key)
        return (info, AsyncThrowingStream { try await reader.next() })
    }
}

/// Cuts a GET's body into chunks of `chunkSize` bytes, reading from the connection only as
/// chunks are asked for (for `AsyncThrowingStream(unfolding:)`, which asks one at a time); the
/// request ends when the stream is released, consumed or not.
final class S3ChunkReader: Sendable {
    private struct State: @unchecked Sendable {
        // Only touched by the one `next()` the stream runs at a time.
        var iterator: HTTPClientResponse.Body.AsyncIterator
        var pending = ByteBuffer()
        var remaining: Int
    }
    private let state: Mutex<State?>
    let chunkSize: Int
    let key: String

    init(body: HTTPClientResponse.Body, count: Int, chunkSize: Int, key: String) {
        state = Mutex(State(iterator: body.makeAsyncIterator(), remaining: count))
        self.chunkSize = chunkSize; self.key = key
    }

    func next() async throws(BlobStoreError) -> Data? {
        guard var current = state.withLock({ $0.take() }) else { return nil }
        guard current.remaining > 0 else { return nil }
        let want = min(chunkSize, current.remaining)
        while current.pending.readableBytes < want {
            let buffer: ByteBuffer?
            do { buffer = try await current.iterator.next() } catch { throw .unavailable("S3 GET \(key): \(error)") }
            guard var buffer else { throw .io("S3 GET \(key): the answer ended \(current.remaining - current.pending.readableBytes) bytes early") }
            current.pending.writeBuffer(&buffer)
        }
        let data = current.pending.readData(length: want)!
        current.pending.discardReadBytes()
        current.remaining -= want
        let next = current
        state.withLock { $0 = next }
        return data
    }
}
