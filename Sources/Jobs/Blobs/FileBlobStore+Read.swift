import Foundation
import Synchronization

extension FileBlobStore {
    public func info(tenant: String, id: BlobID) async throws(BlobStoreError) -> BlobInfo? {
        let paths = paths(tenant: tenant, id: id)
        return try await Self.offload { () throws(BlobStoreError) in
            try PosixFile.status(paths.data).map { BlobInfo(tenant: tenant, id: id, size: $0.size) }
        }
    }

    public func read(tenant: String, id: BlobID, limit: Int) async throws(BlobStoreError) -> Data {
        let paths = paths(tenant: tenant, id: id)
        return try await Self.offload { () throws(BlobStoreError) in
            guard let file = try PosixFile.openForReading(paths.data) else { throw .notFound }
            let size = try file.size()
            guard size <= limit else { throw .tooLarge(limit: limit) }
            let data = try file.read(at: 0, count: size)
            guard data.count == size else { throw .io("read \(paths.data): \(data.count) of \(size) bytes") }
            return data
        }
    }

    public func chunks(tenant: String, id: BlobID, range: ClosedRange<Int>?) async throws(BlobStoreError)
        -> (info: BlobInfo, stream: AsyncThrowingStream<Data, any Error>) {
        let paths = paths(tenant: tenant, id: id)
        // The stream reads from this descriptor: a blob deleted meanwhile stays readable to it.
        let (file, size) = try await Self.offload { () throws(BlobStoreError) in
            guard let file = try PosixFile.openForReading(paths.data) else { throw .notFound }
            return (file, try file.size())
        }
        let bounds: Range<Int>
        if let range {
            guard range.lowerBound >= 0, range.upperBound < size else { throw .invalidRange(size: size) }
            bounds = range.lowerBound..<(range.upperBound + 1)
        } else {
            bounds = 0..<size
        }
        let reader = BlobChunkReader(file: file, bounds: bounds, chunkSize: chunkSize)
        return (BlobInfo(tenant: tenant, id: id, size: size), AsyncThrowingStream { try await reader.next() })
    }
}

/// Reads a range of an open blob one chunk per call, for `AsyncThrowingStream(unfolding:)`; the
/// file closes when the stream (and so this reader) is released, consumed or not.
final class BlobChunkReader: Sendable {
    let file: PosixFile
    let end: Int
    let chunkSize: Int
    /// The offset of the next chunk. The stream asks for one chunk at a time; the mutex only
    /// makes that visible to the compiler.
    private let offset: Mutex<Int>

    init(file: PosixFile, bounds: Range<Int>, chunkSize: Int) {
        self.file = file; self.end = bounds.upperBound; self.chunkSize = chunkSize
        offset = Mutex(bounds.lowerBound)
    }

    func next() async throws(BlobStoreError) -> Data? {
        let start = offset.withLock { $0 }
        guard start < end else { return nil }
        let count = min(chunkSize, end - start)
        let file = file
        let data = try await FileBlobStore.offload { () throws(BlobStoreError) in try file.read(at: start, count: count) }
        guard data.count == count else { throw .io("read \(file.path): the blob is shorter than it was") }
        offset.withLock { $0 = start + count }
        return data
    }
}
