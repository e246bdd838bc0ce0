import Crypto
import Foundation

/// What a blob store's `put` has taken in so far: its size, checked against the put's limit
/// before a chunk is kept anywhere, and the SHA-256 that names the blob (`BlobID`). Every
/// store reads its chunks through `take`, so the limit, the name and the errors of a put are
/// decided in one place.
public struct BlobIntake {
    public let limit: Int
    /// The bytes taken so far.
    public private(set) var size = 0
    private var hasher = SHA256()

    public init(limit: Int) {
        self.limit = limit
    }

    /// Reads `chunks` to their end, handing each chunk to `keep` once it is counted. A chunk
    /// that would take the size past the limit ends the put with `tooLarge` before `keep` sees
    /// it; a failure of the source is `sourceFailed`; `keep`'s own errors pass through.
    public mutating func take<Chunks: AsyncSequence>(_ chunks: Chunks, keep: (Data) async throws(BlobStoreError) -> Void)
        async throws(BlobStoreError) where Chunks.Element == Data {
        do {
            for try await chunk in chunks {
                guard chunk.count <= limit - size else { throw BlobStoreError.tooLarge(limit: limit) }
                hasher.update(data: chunk)
                size += chunk.count
                try await keep(chunk)
            }
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError.sourceFailed(String(describing: error))
        }
    }

    /// The content's name, once every chunk is in.
    public var id: BlobID { BlobID(digest: hasher.finalize()) }
}
