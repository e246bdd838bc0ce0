import Dispatch
import Foundation

/// A `BlobStore` in a directory of the local disk or of a volume that several processes share
/// (any POSIX file system with hard links and flock(2): ext4, XFS, APFS; NFSv4, where Linux
/// carries flock as a byte-range lock). The layout is described by `BlobLayout`.
///
/// How the protocol's guarantees are kept:
/// - Nothing partial is visible. A put writes `tmp/<uuid>.part` (created 0600 by open(2)),
///   fsyncs it, and only then hard-links it as the blob's `data`; link(2) is atomic and fails
///   if `data` exists, so an existing blob is never replaced (the same id is the same content).
///   After a crash there is either no `data` or a whole one, and `.part` files that a sweep
///   removes after `temporaryFileLifetime`. A hold is written beside and renamed into place.
/// - One blob for concurrent puts of the same content: link(2) admits one winner; the others
///   find `data` there, drop their temporary file and only add their hold.
/// - A sweep never undoes a put or a hold. The step of a put from "link `data`" to "hold file
///   written", a `hold`, a `release`, a `delete`, and the sweep's "read holds, remove expired
///   ones, remove the blob if none is left" each run under the exclusive flock(2) of the blob's
///   lock file (`locks/<id[0..<2]>`, never deleted, so every process locks the same inode). So a
///   sweep either runs wholly before a put's step (the put then links the blob afresh) or wholly
///   after it (and sees the new hold). Streaming and hashing happen before, outside the lock.
/// - Memory is one chunk: each chunk of a put is hashed and written before the next is asked
///   for; reads go through pread(2) in `chunkSize` pieces as the stream is consumed.
///
/// Every system call blocks, so each runs on a Dispatch thread rather than the cooperative pool
/// (which a waiting flock or a slow fsync would otherwise stall).
public final class FileBlobStore: BlobStore {
    let layout: BlobLayout
    /// A temporary file untouched for this long belongs to a put that crashed.
    public let temporaryFileLifetime: TimeInterval
    /// The size of the chunks that `chunks(tenant:id:range:)` yields.
    public let chunkSize: Int

    /// Opens the store at `root`, creating it (and `tmp`, `locks`, `tenants` in it) with mode
    /// 0700 if needed.
    public init(root: URL, temporaryFileLifetime: TimeInterval = 3600, chunkSize: Int = 1 << 20) throws(BlobStoreError) {
        precondition(chunkSize > 0)
        layout = BlobLayout(root: root.standardizedFileURL.path)
        self.temporaryFileLifetime = temporaryFileLifetime
        self.chunkSize = chunkSize
        var prefix = ""
        for component in layout.root.split(separator: "/") {
            prefix += "/" + component
            try PosixFile.makeDirectory(prefix)
        }
        for directory in [layout.temporaryDirectory, layout.locksDirectory, layout.tenantsDirectory] {
            try PosixFile.makeDirectory(directory)
        }
    }

    func paths(tenant: String, id: BlobID) -> BlobPaths { BlobPaths(directory: layout.blobDirectory(tenant: tenant, id: id)) }

    // MARK: Put

    public func put<Chunks: AsyncSequence>(tenant: String, chunks: Chunks, limit: Int, hold: BlobHold) async throws(BlobStoreError) -> BlobInfo
        where Chunks.Element == Data {
        let temporary = layout.newTemporaryPath()
        let file = try await Self.offload { () throws(BlobStoreError) in try PosixFile.create(temporary) }
        var intake = BlobIntake(limit: limit)
        do throws(BlobStoreError) {
            // The intake checks each chunk before it is written: bytes past the limit never
            // reach the disk.
            try await intake.take(chunks) { chunk throws(BlobStoreError) in
                try await Self.offload { () throws(BlobStoreError) in try file.write(chunk) }
            }
            try await Self.offload { () throws(BlobStoreError) in try file.sync() }
        } catch {
            _ = try? PosixFile.remove(temporary)
            throw error
        }
        let id = intake.id, size = intake.size
        let paths = paths(tenant: tenant, id: id)
        let layout = layout
        do throws(BlobStoreError) {
            try await Self.offload { () throws(BlobStoreError) in
                try self.withBlobLock(id) { () throws(BlobStoreError) in
                    let created = try PosixFile.makeDirectory(layout.tenantDirectory(tenant))
                    if created { try PosixFile.syncDirectory(layout.tenantsDirectory) }
                    if try PosixFile.makeDirectory(layout.shardDirectory(tenant: tenant, id: id)) {
                        try PosixFile.syncDirectory(layout.tenantDirectory(tenant))
                    }
                    if try PosixFile.makeDirectory(paths.directory) {
                        try PosixFile.syncDirectory(layout.shardDirectory(tenant: tenant, id: id))
                    }
                    let newHolds = try PosixFile.makeDirectory(paths.holds)
                    // Fails with "exists" if the content is there already: keep that one.
                    let linked = try PosixFile.link(temporary, as: paths.data)
                    try PosixFile.remove(temporary)
                    try Self.writeHold(hold, in: paths)
                    if linked || newHolds { try PosixFile.syncDirectory(paths.directory) }
                }
            }
        } catch {
            _ = try? PosixFile.remove(temporary)
            throw error
        }
        return BlobInfo(tenant: tenant, id: id, size: size)
    }

    // MARK: Holds

    public func hold(tenant: String, id: BlobID, hold: BlobHold) async throws(BlobStoreError) -> Bool {
        let paths = paths(tenant: tenant, id: id)
        return try await Self.offload { () throws(BlobStoreError) in
            try self.withBlobLock(id) { () throws(BlobStoreError) in
                guard try PosixFile.status(paths.data) != nil else { return false }
                if try PosixFile.makeDirectory(paths.holds) { try PosixFile.syncDirectory(paths.directory) }
                try Self.writeHold(hold, in: paths)
                return true
            }
        }
    }

    @discardableResult
    public func release(tenant: String, id: BlobID, holder: BlobHolder) async throws(BlobStoreError) -> Bool {
        let paths = paths(tenant: tenant, id: id)
        return try await Self.offload { () throws(BlobStoreError) in
            try self.withBlobLock(id) { () throws(BlobStoreError) in
                guard try PosixFile.remove(paths.hold(holder.name)) else { return false }
                try PosixFile.syncDirectory(paths.holds)
                return true
            }
        }
    }

    /// Writes (or moves to the later expiry) one hold, durably; the caller holds the blob's lock.
    static func writeHold(_ hold: BlobHold, in paths: BlobPaths) throws(BlobStoreError) {
        let final = paths.hold(hold.holder.name)
        var expires = hold.expires
        if let current = try readHold(final), current > expires { expires = current }
        let temporary = paths.newHoldTemporary(hold.holder)
        do throws(BlobStoreError) {
            let file = try PosixFile.create(temporary)
            try file.write(Data("\(expires.timeIntervalSince1970)\n".utf8))
            try file.sync()
            try PosixFile.rename(temporary, to: final)
        } catch {
            _ = try? PosixFile.remove(temporary)
            throw error
        }
        try PosixFile.syncDirectory(paths.holds)
    }

    /// A hold's expiry; nil if there is no such hold. A hold file that cannot be parsed (it is
    /// written whole by rename, so only a hand edit makes one) keeps its blob: losing data to a
    /// damaged record is worse than keeping a blob an operator can remove.
    static func readHold(_ path: String) throws(BlobStoreError) -> Date? {
        guard let file = try PosixFile.openForReading(path) else { return nil }
        let text = String(decoding: try file.read(at: 0, count: 64), as: UTF8.self)
        guard let seconds = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return .distantFuture }
        return Date(timeIntervalSince1970: seconds)
    }

    // MARK: Delete

    @discardableResult
    public func delete(tenant: String, id: BlobID) async throws(BlobStoreError) -> Bool {
        let paths = paths(tenant: tenant, id: id)
        let shard = layout.shardDirectory(tenant: tenant, id: id)
        return try await Self.offload { () throws(BlobStoreError) in
            try self.withBlobLock(id) { () throws(BlobStoreError) in
                guard try PosixFile.status(paths.directory) != nil else { return false }
                // The content first: a crash after it leaves only holds, which a sweep clears.
                let existed = try PosixFile.remove(paths.data)
                try Self.removeBlobDirectory(paths)
                try PosixFile.syncDirectory(shard)
                return existed
            }
        }
    }

    /// Removes what is left of a blob's directory once its `data` is gone: every hold (and any
    /// hold being written when a process crashed), `holds`, the directory.
    static func removeBlobDirectory(_ paths: BlobPaths) throws(BlobStoreError) {
        for name in try PosixFile.entries(paths.holds) { try PosixFile.remove(paths.hold(name)) }
        try PosixFile.removeDirectory(paths.holds)
        try PosixFile.removeDirectory(paths.directory)
    }

    // MARK: Locks and threads

    /// Runs `body` holding the exclusive flock(2) of the lock file for `id`'s first byte, which
    /// all processes on the volume share. `body` must not wait for anything but the disk.
    func withBlobLock<T>(_ id: BlobID, _ body: () throws(BlobStoreError) -> T) throws(BlobStoreError) -> T {
        let lock = try PosixFile.openLockFile(layout.lockPath(id))
        try lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs blocking system calls on a Dispatch thread and waits for them without blocking the
    /// caller's thread.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws(BlobStoreError) -> T) async throws(BlobStoreError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, BlobStoreError>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(BlobStoreError) in try body() })
            }
        }
        return try result.get()
    }
}
