import Crypto
import Foundation

/// Storage of large opaque byte strings: ciphertexts (job inputs and results) and uploaded
/// server keys, tens to hundreds of MB each. Two adapters implement it: `FileBlobStore`, a
/// directory that several processes may share, and `S3BlobStore` (module BlobStoreS3), an S3
/// bucket that several machines share; each type's doc says how it keeps the guarantees below.
///
/// A blob is named by the SHA-256 of its content (`BlobID`) inside its tenant's namespace, so
/// the same bytes stored twice by one tenant are one blob, and one tenant cannot name (nor learn
/// the existence of) another tenant's blob. Content is never deduplicated across tenants.
///
/// A blob lives while it is held. A hold is a holder's claim (`job:<uuid>`, `upload:<uuid>`)
/// with an expiry; `sweep` removes expired holds and then every blob left without one, so an
/// upload that no job ever uses goes away on its own. Until a sweep runs, a blob whose holds
/// have all expired may still be read.
///
/// Guarantees every adapter gives:
/// - A blob is visible only complete: a crash at any point of a `put` leaves either no blob
///   or the whole blob, and temporary data (a file, a staging object, an unfinished upload)
///   that `sweep` removes once it is older than an hour.
/// - Concurrent puts of the same content (by tasks or by processes sharing the storage) end
///   with one blob that carries every put's hold.
/// - A put, or a `hold` that returned true, is never undone by a sweep running at the same
///   time: when the call returns, the blob exists and carries the hold.
/// - Memory is bounded by the chunk size, never by the blob's size.
public protocol BlobStore: Sendable {
    /// Stores the content of `chunks` (at most `limit` bytes in all) and holds it with `hold`.
    /// Stops as soon as the content passes `limit` (`tooLarge`), keeping nothing. If the tenant
    /// already has this content, the existing blob is kept and gains the hold.
    func put<Chunks: AsyncSequence>(tenant: String, chunks: Chunks, limit: Int, hold: BlobHold) async throws(BlobStoreError) -> BlobInfo
        where Chunks.Element == Data

    /// Adds a hold to an existing blob, or moves an existing hold of the same holder to the later
    /// of the two expiries. False if the tenant has no such blob.
    func hold(tenant: String, id: BlobID, hold: BlobHold) async throws(BlobStoreError) -> Bool
    /// Removes one holder's hold; the blob goes at the next sweep if it was the last. False if
    /// there was no such hold.
    @discardableResult
    func release(tenant: String, id: BlobID, holder: BlobHolder) async throws(BlobStoreError) -> Bool

    /// The blob's size, or nil if the tenant has no such blob.
    func info(tenant: String, id: BlobID) async throws(BlobStoreError) -> BlobInfo?
    /// The whole blob; `tooLarge` if it is longer than `limit` (checked before reading).
    func read(tenant: String, id: BlobID, limit: Int) async throws(BlobStoreError) -> Data
    /// The blob, or the bytes of `range` (offsets from 0, both ends included, as an HTTP
    /// `Range: bytes=a-b`), as a stream of chunks of about 1 MiB read as they are consumed.
    /// `invalidRange` if the range does not lie inside the blob. The stream reads the blob as it
    /// was when this returned, even if the blob is deleted meanwhile.
    func chunks(tenant: String, id: BlobID, range: ClosedRange<Int>?) async throws(BlobStoreError)
        -> (info: BlobInfo, stream: AsyncThrowingStream<Data, any Error>)

    /// Removes the blob and all its holds at once (server-key DELETE, crypto-shredding of a
    /// tenant's data). False if the tenant had no such blob. The bytes are unlinked, not
    /// overwritten: shredding rests on the ciphertexts being useless without the client's key.
    @discardableResult
    func delete(tenant: String, id: BlobID) async throws(BlobStoreError) -> Bool

    /// Removes holds expired at `now`, then blobs without holds, then temporary files of puts
    /// that crashed (untouched for an hour, by default, at `now`). Run it periodically; a put
    /// whose hold is already expired is kept until the next sweep.
    func sweep(now: Date) async throws(BlobStoreError) -> SweepReport
}

extension BlobStore {
    /// Stores `data` (already in memory) as `put(tenant:chunks:limit:hold:)` does.
    public func put(tenant: String, data: Data, limit: Int, hold: BlobHold) async throws(BlobStoreError) -> BlobInfo {
        guard data.count <= limit else { throw .tooLarge(limit: limit) }
        let chunks = AsyncStream<Data> { $0.yield(data); $0.finish() }
        return try await put(tenant: tenant, chunks: chunks, limit: limit, hold: hold)
    }
}

/// A blob's name: the SHA-256 of its content, 64 lowercase hex digits.
public struct BlobID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let hex: String

    /// Accepts exactly 64 lowercase hex digits (the form the API returns and paths use).
    public init(_ hex: String) throws(BlobStoreError) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw .invalidID("a blob id is 64 lowercase hex digits (SHA-256), not \"\(hex.prefix(80))\"")
        }
        self.hex = hex
    }

    public init(digest: SHA256.Digest) { hex = digest.hexString }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    public var description: String { hex }
}

/// Who holds a blob: `job:<uuid>`, `upload:<uuid>` or another name of 1 to 128 characters
/// from `A-Z a-z 0-9 . _ : -` that starts with a letter or digit (it names a file).
public struct BlobHolder: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) throws(BlobStoreError) {
        let bytes = Array(name.utf8)
        func isAlphanumeric(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
        guard (1...128).contains(bytes.count), isAlphanumeric(bytes[0]),
              bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
                                 || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") }) else {
            throw .invalidHolder("a blob holder is 1 to 128 of A-Z a-z 0-9 . _ : - starting with a letter or digit, not \"\(name.prefix(80))\"")
        }
        self.name = name
    }

    /// The hold of a job on its inputs and results.
    public static func job(_ id: JobID) -> BlobHolder { BlobHolder(unchecked: "job:" + id.uuidString.lowercased()) }
    /// The hold of an upload not yet used by a job.
    public static func upload(_ id: UUID) -> BlobHolder { BlobHolder(unchecked: "upload:" + id.uuidString.lowercased()) }

    /// An owner's hold on the server key it uploaded (client-key mode), for as long as it keeps
    /// it; the owner is named by a digest, since subjects are any string and holders name files.
    public static func serverKey(owner: String, id: BlobID) -> BlobHolder {
        BlobHolder(unchecked: "serverkey:\(SHA256.hash(data: Data(owner.utf8)).hexString.prefix(32)):\(id.hex)")
    }

    private init(unchecked name: String) { self.name = name }

    public var description: String { name }
}

/// A holder's claim on a blob until `expires`.
public struct BlobHold: Sendable, Hashable {
    public var holder: BlobHolder
    public var expires: Date
    public init(holder: BlobHolder, expires: Date) { self.holder = holder; self.expires = expires }
}

public struct BlobInfo: Sendable, Hashable {
    public var tenant: String
    public var id: BlobID
    /// In bytes.
    public var size: Int
    public init(tenant: String, id: BlobID, size: Int) { self.tenant = tenant; self.id = id; self.size = size }
}

/// What a sweep removed.
public struct SweepReport: Sendable, Equatable {
    public var blobsDeleted = 0
    public var bytesFreed = 0
    public var holdsExpired = 0
    public var temporaryFilesDeleted = 0
    public init(blobsDeleted: Int = 0, bytesFreed: Int = 0, holdsExpired: Int = 0, temporaryFilesDeleted: Int = 0) {
        self.blobsDeleted = blobsDeleted; self.bytesFreed = bytesFreed
        self.holdsExpired = holdsExpired; self.temporaryFilesDeleted = temporaryFilesDeleted
    }
}

/// Why a blob store refused or failed a call.
public enum BlobStoreError: Error, Equatable, Sendable {
    /// The content is longer than the caller's limit (payload too large).
    case tooLarge(limit: Int)
    /// The tenant has no such blob.
    case notFound
    case invalidID(String)
    case invalidHolder(String)
    /// The requested range does not lie inside the blob of `size` bytes (416, `bytes */size`).
    case invalidRange(size: Int)
    /// The chunk sequence given to `put` failed (the client went away, the task was cancelled).
    case sourceFailed(String)
    /// The storage failed (disk full, permissions); the message names the call and the errno.
    case io(String)
    /// The storage cannot be reached for now (a timeout, a 5xx, an open circuit breaker): the
    /// same call may succeed later.
    case unavailable(String)
    /// The storage refused the service's credentials or permissions (a wrong key, a clock too
    /// far off, a missing bucket): an operator must fix the configuration.
    case denied(String)
    /// A store option is wrong (an S3 location, a region, a credential file).
    case invalidConfiguration(String)
}

/// How adapters name a tenant's namespace: the SHA-256 (hex) of the tenant's name. Tenant
/// names come from tokens and may hold any character, so none is ever part of a path or key.
public enum BlobNamespace {
    public static func key(ofTenant tenant: String) -> String { SHA256.hash(data: Data(tenant.utf8)).hexString }
}
