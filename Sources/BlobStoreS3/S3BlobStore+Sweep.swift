import Foundation
import Jobs
import NIOHTTP1

/// One object of a listing, its key without the location's prefix.
struct ListedObject: Sendable {
    var key: String
    var size: Int
    var lastModified: Date?
    var etag: String
}

extension S3BlobStore {
    /// Visits every blob (each inside its deletion mark, so never between a put's hold and its
    /// check for a mark: see the type's doc), then the holds left without a blob, then staging
    /// objects, unfinished uploads and deletion marks of crashed processes. Listings are read a
    /// page (1,000 keys) at a time, so memory does not grow with the bucket. A blob written
    /// after its page was listed waits for the next sweep.
    public func sweep(now: Date) async throws(BlobStoreError) -> SweepReport {
        var report = SweepReport()
        try await forEachObject(under: "blobs/") { (object: ListedObject) async throws(BlobStoreError) in
            guard let keys = Self.blobKeys(object.key, under: "blobs/") else { return }
            try await self.sweepBlob(keys, now: now, into: &report)
        }
        // Holds whose blob is gone (a delete that crashed between its steps, a put that failed
        // after writing its hold): the expired ones go; live ones wait for their expiry.
        var checked: (keys: String, blobExists: Bool)?
        try await forEachObject(under: "holds/") { (object: ListedObject) async throws(BlobStoreError) in
            let parts = object.key.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 4, let id = try? BlobID(String(parts[2])) else { return }
            let keys = Keys(tenantKey: String(parts[1]), id: id)
            if checked?.keys != keys.holds { checked = (keys.holds, try await self.head(keys.data) != nil) }
            guard checked?.blobExists == false, let hold = try await self.readHold(object.key), hold.expires <= now else { return }
            if try await self.deleteHold(object.key, etag: hold.etag) { report.holdsExpired += 1 }
        }
        let cutoff = now.addingTimeInterval(-configuration.temporaryLifetime)
        for prefix in ["staging/", "deleting/"] {
            try await forEachObject(under: prefix) { (object: ListedObject) async throws(BlobStoreError) in
                guard let modified = object.lastModified, modified < cutoff else { return }
                let response = try await self.client.send(.DELETE, key: object.key, headers: [("If-Match", object.etag)], accept: [200, 204, 404, 412])
                if response.status != 412 && response.status != 404 { report.temporaryFilesDeleted += 1 }
            }
        }
        try await abortUploads(initiatedBefore: cutoff, into: &report)
        return report
    }

    /// Removes a blob's expired holds and, if none is left, the blob, inside its deletion mark.
    /// Skipped if another process holds the mark (it is removing the blob already).
    func sweepBlob(_ keys: Keys, now: Date, into report: inout SweepReport) async throws(BlobStoreError) {
        // Most blobs have live holds and nothing to remove: reading needs no mark, and a blob
        // with nothing to remove costs no write.
        var live = 0, expired = 0
        try await forEachObject(under: keys.holds) { (object: ListedObject) async throws(BlobStoreError) in
            guard let hold = try await self.readHold(object.key) else { return }
            if hold.expires > now { live += 1 } else { expired += 1 }
        }
        if live > 0 && expired == 0 { return }
        let started = ContinuousClock.now
        var found = SweepReport()
        _ = try await withDeletionMark(keys) { () async throws(BlobStoreError) in
            var live = 0
            try await self.forEachObject(under: keys.holds) { (object: ListedObject) async throws(BlobStoreError) in
                guard let hold = try await self.readHold(object.key) else { return }
                if hold.expires > now {
                    live += 1
                } else if try await self.deleteHold(object.key, etag: hold.etag) {
                    found.holdsExpired += 1
                } else {
                    live += 1  // renewed meanwhile
                }
            }
            // A removal that took this long may have outlived its mark in another process's eyes.
            guard live == 0, ContinuousClock.now - started < self.configuration.markLifetime / 2 else { return }
            guard let object = try await self.head(keys.data) else { return }
            _ = try await self.client.send(.DELETE, key: keys.data, accept: [200, 204, 404])
            found.blobsDeleted += 1
            found.bytesFreed += object.size
        }
        report.blobsDeleted += found.blobsDeleted
        report.bytesFreed += found.bytesFreed
        report.holdsExpired += found.holdsExpired
    }

    /// Deletes a hold if it is still the one read (its ETag); false if it changed or went.
    func deleteHold(_ key: String, etag: String) async throws(BlobStoreError) -> Bool {
        let response = try await client.send(.DELETE, key: key, headers: [("If-Match", etag)], accept: [200, 204, 404, 412])
        return response.status == 200 || response.status == 204
    }

    /// The keys of a blob from its listed key (`blobs/<T>/<id>`); nil for a key of another shape.
    static func blobKeys(_ key: String, under prefix: String) -> Keys? {
        let parts = key.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 64, parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              let id = try? BlobID(String(parts[1])) else { return nil }
        return Keys(tenantKey: String(parts[0]), id: id)
    }

    /// Calls `body` for every object whose key starts with `prefix` (ListObjectsV2, a page at a time).
    func forEachObject(under prefix: String, _ body: (ListedObject) async throws(BlobStoreError) -> Void) async throws(BlobStoreError) {
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", location.prefix + prefix), ("max-keys", "1000")]
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.send(.GET, key: nil, query: query)
            guard let document = S3XML.parse(response.body), document.name == "ListBucketResult" else {
                throw .io("S3 ListObjectsV2 \(prefix): the answer is not a listing")
            }
            for entry in document.all("Contents") {
                guard let key = entry.value("Key"), key.hasPrefix(location.prefix) else { continue }
                try await body(ListedObject(key: String(key.dropFirst(location.prefix.count)), size: entry.value("Size").flatMap(Int.init) ?? 0,
                                            lastModified: entry.value("LastModified").flatMap(HTTPDate.parseISO), etag: entry.value("ETag") ?? ""))
            }
            token = document.value("IsTruncated") == "true" ? document.value("NextContinuationToken") : nil
        } while token != nil
    }

    /// Aborts the multipart uploads of staging keys begun before `cutoff` (a put that crashed
    /// mid-upload; S3 keeps and bills their parts until then).
    func abortUploads(initiatedBefore cutoff: Date, into report: inout SweepReport) async throws(BlobStoreError) {
        var markers: (key: String, upload: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", location.prefix + "staging/")]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.upload)] }
            let response = try await client.send(.GET, key: nil, query: query)
            guard let document = S3XML.parse(response.body), document.name == "ListMultipartUploadsResult" else {
                throw .io("S3 ListMultipartUploads: the answer is not a listing")
            }
            for upload in document.all("Upload") {
                guard let key = upload.value("Key"), key.hasPrefix(location.prefix), let id = upload.value("UploadId") else { continue }
                let relative = String(key.dropFirst(location.prefix.count))
                // The later of the server's `Initiated` and the start written in the key.
                let started = [upload.value("Initiated").flatMap(HTTPDate.parseISO), Self.stagingStart(relative)].compactMap { $0 }.max()
                guard let started, started < cutoff else { continue }
                await MultipartUpload(key: relative, uploadID: id).abort(client: client)
                report.temporaryFilesDeleted += 1
            }
            if document.value("IsTruncated") == "true", let key = document.value("NextKeyMarker"), let upload = document.value("NextUploadIdMarker") {
                markers = (key, upload)
            } else {
                markers = nil
            }
        } while markers != nil
    }
}
