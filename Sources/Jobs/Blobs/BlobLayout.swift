import Crypto
import Foundation

/// Where `FileBlobStore` keeps each thing under its root (every directory 0700, every file 0600):
///
///     root/tmp/<uuid>.part                  puts in progress (or crashed: swept after an hour)
///     root/locks/<id[0..<2]>                256 flock(2) files, one per first byte of blob ids
///     root/tenants/<T>/<id[0..<2]>/<id>/data            the content
///     root/tenants/<T>/<id[0..<2]>/<id>/holds/<holder>  one hold: its expiry, seconds since 1970
///
/// `<T>` is the SHA-256 (hex) of the tenant's name (`BlobNamespace`): tenant names come from
/// tokens and may hold any character, so none is ever part of a path. Blob ids and holders are validated before they
/// get here (`BlobID`, `BlobHolder`: hex digits, and no name starting with a dot), so a hold
/// file never collides with the `.`-prefixed temporary file a hold is written through.
///
/// The tenant and shard directories are never removed (at most 256 shards a tenant), so a put
/// only needs the lock for the blob's own directory.
struct BlobLayout: Sendable {
    let root: String

    var temporaryDirectory: String { root + "/tmp" }
    var locksDirectory: String { root + "/locks" }
    var tenantsDirectory: String { root + "/tenants" }

    func newTemporaryPath() -> String { temporaryDirectory + "/" + UUID().uuidString.lowercased() + ".part" }

    func lockPath(_ id: BlobID) -> String { locksDirectory + "/" + id.hex.prefix(2) }

    static func tenantKey(_ tenant: String) -> String { BlobNamespace.key(ofTenant: tenant) }

    func tenantDirectory(_ tenant: String) -> String { tenantsDirectory + "/" + Self.tenantKey(tenant) }
    func shardDirectory(tenant: String, id: BlobID) -> String { tenantDirectory(tenant) + "/" + id.hex.prefix(2) }
    func blobDirectory(tenant: String, id: BlobID) -> String { shardDirectory(tenant: tenant, id: id) + "/" + id.hex }
}

/// The paths of one blob's directory.
struct BlobPaths: Sendable {
    let directory: String
    var data: String { directory + "/data" }
    var holds: String { directory + "/holds" }
    func hold(_ holderName: String) -> String { holds + "/" + holderName }
    /// A hold is written here and renamed over `hold(_:)`; holders never start with a dot.
    func newHoldTemporary(_ holder: BlobHolder) -> String { holds + "/." + holder.name + "." + UUID().uuidString.lowercased() }
}
