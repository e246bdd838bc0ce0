import Foundation
import Jobs

/// The blob store as confidential jobs use it: whole files in, whole files out, each held by
/// the key set, the upload or the job that needs it.
public struct FHEBlobs: Sendable {
    public struct Stored: Sendable, Equatable {
        /// Hex SHA-256 of the content.
        public var id: String
        public var size: Int
    }

    public let store: any BlobStore

    public init(_ store: any BlobStore) { self.store = store }

    static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    func put(tenant: String, _ data: Data, hold: BlobHold) async throws -> Stored {
        let info = try await store.put(tenant: tenant, data: data, limit: max(data.count, 1), hold: hold)
        return Stored(id: info.id.hex, size: info.size)
    }

    func put<Chunks: AsyncSequence>(tenant: String, chunks: Chunks, limit: Int, hold: BlobHold) async throws -> Stored
        where Chunks.Element == Data {
        let info = try await store.put(tenant: tenant, chunks: chunks, limit: limit, hold: hold)
        return Stored(id: info.id.hex, size: info.size)
    }

    /// Adds a holder to an existing blob; nil when there is none.
    func hold(tenant: String, id: String, hold: BlobHold) async throws -> Stored? {
        guard let blobID = try? BlobID(id) else { return nil }
        guard try await store.hold(tenant: tenant, id: blobID, hold: hold),
              let info = try await store.info(tenant: tenant, id: blobID) else { return nil }
        return Stored(id: info.id.hex, size: info.size)
    }

    func release(tenant: String, id: String, holder: BlobHolder) async throws {
        guard let blobID = try? BlobID(id) else { return }
        try await store.release(tenant: tenant, id: blobID, holder: holder)
    }

    func read(tenant: String, id: String, limit: Int) async throws -> Data {
        try await store.read(tenant: tenant, id: try BlobID(id), limit: limit)
    }
}

/// Fetches a client's `encrypted_data_url` into the blob store, at submission, within the
/// server's fetch policy (allowed hosts, addresses checked on every connection, size and time
/// limits). Refusals are `JobServiceError.refused` with the fetch's code.
public protocol EncryptedInputFetcher: Sendable {
    func fetch(_ url: String, limit: Int, into blobs: FHEBlobs, tenant: String, hold: BlobHold) async throws -> FHEBlobs.Stored
}
