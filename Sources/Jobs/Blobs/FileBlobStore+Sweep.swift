import Foundation

extension FileBlobStore {
    public func sweep(now: Date) async throws(BlobStoreError) -> SweepReport {
        try await Self.offload { () throws(BlobStoreError) in try self.sweepNow(now) }
    }

    /// Visits every blob (each under its lock, so never between a put's link and its hold),
    /// then the temporary files. A blob created after its shard was listed waits for the next
    /// sweep. Removals are not fsynced: one lost in a crash is redone by the next sweep.
    func sweepNow(_ now: Date) throws(BlobStoreError) -> SweepReport {
        var report = SweepReport()
        for tenant in try PosixFile.entries(layout.tenantsDirectory) where Self.isHex(tenant, count: 64) {
            let tenantDirectory = layout.tenantsDirectory + "/" + tenant
            for shard in try PosixFile.entries(tenantDirectory) where Self.isHex(shard, count: 2) {
                let shardDirectory = tenantDirectory + "/" + shard
                for name in try PosixFile.entries(shardDirectory) {
                    guard name.hasPrefix(shard), let id = try? BlobID(name) else { continue }
                    let paths = BlobPaths(directory: shardDirectory + "/" + name)
                    try withBlobLock(id) { () throws(BlobStoreError) in try Self.sweepBlob(paths, now: now, into: &report) }
                }
            }
        }
        let cutoff = now.addingTimeInterval(-temporaryFileLifetime)
        for name in try PosixFile.entries(layout.temporaryDirectory) {
            let path = layout.temporaryDirectory + "/" + name
            guard let status = try PosixFile.status(path), status.modified < cutoff else { continue }
            if try PosixFile.remove(path) { report.temporaryFilesDeleted += 1 }
        }
        return report
    }

    /// Removes a blob's expired holds and, if none is left, the blob; the caller holds its lock.
    static func sweepBlob(_ paths: BlobPaths, now: Date, into report: inout SweepReport) throws(BlobStoreError) {
        var live = 0
        for name in try PosixFile.entries(paths.holds) {
            // Under the lock no hold is being written: a dot file is a crashed write's leftover.
            if name.hasPrefix(".") { try PosixFile.remove(paths.hold(name)); continue }
            guard let expires = try readHold(paths.hold(name)) else { continue }
            if expires > now {
                live += 1
            } else if try PosixFile.remove(paths.hold(name)) {
                report.holdsExpired += 1
            }
        }
        guard live == 0 else { return }
        let size = try PosixFile.status(paths.data)?.size
        try PosixFile.remove(paths.data)
        try removeBlobDirectory(paths)
        if let size { report.blobsDeleted += 1; report.bytesFreed += size }
    }

    static func isHex(_ name: String, count: Int) -> Bool {
        name.utf8.count == count && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
