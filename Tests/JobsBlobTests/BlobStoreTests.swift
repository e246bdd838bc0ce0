@testable import BlobStoreS3
import Foundation
import Jobs
import Synchronization
import Testing

/// The protocol's guarantees, on every adapter (`BlobStoreKind.available`: the file store, and
/// the S3 store on the test server); checks of one adapter's own layout run only on it.
@Suite("BlobStore")
struct BlobStoreTests {
    // MARK: Put and read

    @Test("put then read returns the bytes, named by their SHA-256", arguments: BlobStoreKind.available)
    func roundTrip(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            // FIPS 180-2, appendix B.1.
            let abc = try await store.put(tenant: "t", data: Data("abc".utf8), limit: 10, hold: hold("upload:a", for: 60))
            #expect(abc.id.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(abc.size == 3)

            let data = pseudoRandomBytes(1_000_003, seed: 1)
            let info = try await store.put(tenant: "t", data: data, limit: 2_000_000, hold: hold("upload:b", for: 60))
            #expect(info.id.hex == (try sha256sum(of: data)))
            #expect(info == BlobInfo(tenant: "t", id: info.id, size: data.count))
            #expect(try await store.read(tenant: "t", id: info.id, limit: data.count) == data)
            #expect(try await store.info(tenant: "t", id: info.id) == info)
            #expect(try await t.leftovers().isEmpty)
        }
    }

    @Test("an empty blob is a blob", arguments: BlobStoreKind.available)
    func emptyBlob(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let info = try await store.put(tenant: "t", data: Data(), limit: 0, hold: hold("upload:e", for: 60))
            #expect(info.id.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(try await store.read(tenant: "t", id: info.id, limit: 0) == Data())
            let (_, stream) = try await store.chunks(tenant: "t", id: info.id, range: nil)
            #expect(try await collect(stream).data.isEmpty)
        }
    }

    @Test("a 20 MB put streams chunk by chunk (to disk; to S3 in parts) and reads back in 1 MiB chunks", arguments: BlobStoreKind.available)
    func streamingPut(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let tmp = (t.fileRoot ?? URL(fileURLWithPath: "/nonexistent")).appendingPathComponent("tmp")
            let mismatches = Shared<[String]>([])
            // Before each chunk is produced, everything yielded so far must be in the temporary file:
            // the store wrote it instead of keeping it. (The S3 store keeps at most a part: its
            // staging upload is checked below.)
            let source = ChunkSource(total: 20_000_000 + 12_345, chunk: 256 * 1024, seed: 2, beforeEach: { sent in
                guard sent > 0, kind == .file else { return }
                let parts = entries(tmp)
                let size = parts.first.flatMap { try? FileManager.default.attributesOfItem(atPath: tmp.path + "/" + $0)[.size] as? Int }
                if parts.count != 1 || size != sent { mismatches.withLock { $0.append("after \(sent) bytes: \(parts) \(size ?? -1)") } }
            })
            let info = try await store.put(tenant: "t", chunks: source, limit: 32_000_000, hold: hold("upload:big", for: 60))
            #expect(mismatches.withLock { $0 }.isEmpty)
            #expect(info.size == source.total)
            #expect(try await t.blobCount() == 1)
            if let root = t.fileRoot {
                let dataFiles = files(named: "data", under: root.appendingPathComponent("tenants"))
                #expect(try sha256sum(ofFile: dataFiles[0]) == info.id.hex)
            } else {
                #expect(info.id.hex == (try sha256sum(of: source.bytes)))
            }
            #expect(try await t.leftovers().isEmpty)

            let (read, stream) = try await store.chunks(tenant: "t", id: info.id, range: nil)
            #expect(read == info)
            let (data, sizes) = try await collect(stream)
            #expect(sizes.allSatisfy { $0 <= 1 << 20 } && sizes.count == 20)
            #expect(data == source.bytes)
            await #expect(throws: BlobStoreError.tooLarge(limit: 1_000_000)) {
                try await store.read(tenant: "t", id: info.id, limit: 1_000_000)
            }
        }
    }

    @Test("a put past its limit stops there and leaves nothing", arguments: BlobStoreKind.available)
    func limitExceeded(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let pulled = Shared(0)
            let source = ChunkSource(total: 5 << 20, chunk: 1 << 20, seed: 3, beforeEach: { _ in pulled.withLock { $0 += 1 } })
            await #expect(throws: BlobStoreError.tooLarge(limit: 3 << 20 - 1)) {
                try await store.put(tenant: "t", chunks: source, limit: 3 << 20 - 1, hold: hold("upload:x", for: 60))
            }
            // Two chunks fit in 3 MiB - 1; the third is refused and no fourth is asked for.
            #expect(pulled.withLock { $0 } == 3)
            #expect(try await t.leftovers().isEmpty)
            #expect(try await t.blobCount() == 0)

            await #expect(throws: BlobStoreError.tooLarge(limit: 2)) {
                try await store.put(tenant: "t", data: Data("abc".utf8), limit: 2, hold: hold("upload:y", for: 60))
            }
            // Exactly the limit is allowed.
            let exact = ChunkSource(total: 3 << 20, chunk: 1 << 20, seed: 3)
            let info = try await store.put(tenant: "t", chunks: exact, limit: 3 << 20, hold: hold("upload:z", for: 60))
            #expect(info.size == 3 << 20)
        }
    }

    @Test("a failing source is reported and leaves nothing", arguments: BlobStoreKind.available)
    func sourceFailure(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            // Past one S3 part (5 MiB in the tests), so an upload in parts is under way when it fails.
            let source = ChunkSource(total: 12 << 20, chunk: 1 << 20, seed: 4, failAfter: 7)
            await #expect {
                try await store.put(tenant: "t", chunks: source, limit: 8 << 20, hold: hold("upload:f", for: 60))
            } throws: { error in
                if case .sourceFailed = error as? BlobStoreError { return true }
                return false
            }
            #expect(try await t.leftovers().isEmpty)
            if let s3 = t.s3 {
                // The upload in parts was aborted, not left for the sweep.
                var report = SweepReport()
                try await s3.abortUploads(initiatedBefore: Date().addingTimeInterval(86400), into: &report)
                #expect(report.temporaryFilesDeleted == 0)
            }
        }
    }

    // MARK: Holds and sweep

    @Test("the same content twice is one blob with two holds; it goes when both are released", arguments: BlobStoreKind.available)
    func sameContentTwice(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let data = pseudoRandomBytes(10_000, seed: 5)
            let first = try await store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("job:1", for: 3600))
            let second = try await store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("job:2", for: 3600))
            #expect(first == second)
            #expect(try await t.blobCount() == 1)
            #expect(try await t.holdCount(tenant: "t", id: first.id) == 2)

            #expect(try await store.release(tenant: "t", id: first.id, holder: holder("job:1")))
            #expect(try await store.release(tenant: "t", id: first.id, holder: holder("job:1")) == false)
            #expect(try await store.sweep(now: Date()) == SweepReport())
            #expect(try await store.read(tenant: "t", id: first.id, limit: 1 << 20) == data)

            try await store.release(tenant: "t", id: first.id, holder: holder("job:2"))
            #expect(try await store.sweep(now: Date()) == SweepReport(blobsDeleted: 1, bytesFreed: 10_000))
            #expect(try await store.info(tenant: "t", id: first.id) == nil)
            #expect(try await t.leftovers().isEmpty)
        }
    }

    @Test("an upload no job uses expires on its own; a blob goes when all its holds expire", arguments: BlobStoreKind.available)
    func expiry(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let now = Date()
            let upload = try await store.put(tenant: "t", data: Data("upload".utf8), limit: 100, hold: hold("upload:u", for: 3600, from: now))
            let used = try await store.put(tenant: "t", data: Data("used".utf8), limit: 100, hold: hold("upload:v", for: 3600, from: now))
            #expect(try await store.hold(tenant: "t", id: used.id, hold: hold("job:j", for: 3 * 3600, from: now)))
            #expect(try await store.sweep(now: now.addingTimeInterval(1800)) == SweepReport())

            let report = try await store.sweep(now: now.addingTimeInterval(2 * 3600))
            #expect(report == SweepReport(blobsDeleted: 1, bytesFreed: 6, holdsExpired: 2))
            #expect(try await store.info(tenant: "t", id: upload.id) == nil)
            await #expect(throws: BlobStoreError.notFound) { try await store.read(tenant: "t", id: upload.id, limit: 100) }
            #expect(try await store.info(tenant: "t", id: used.id) != nil)

            #expect(try await store.sweep(now: now.addingTimeInterval(4 * 3600)) == SweepReport(blobsDeleted: 1, bytesFreed: 4, holdsExpired: 1))
            #expect(try await store.hold(tenant: "t", id: used.id, hold: hold("job:j", for: 3600)) == false)
        }
    }

    @Test("a hold moves to the later expiry, never to an earlier one", arguments: BlobStoreKind.available)
    func holdExtends(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let now = Date()
            let info = try await store.put(tenant: "t", data: Data("x".utf8), limit: 100, hold: hold("job:k", for: 3600, from: now))
            #expect(try await store.hold(tenant: "t", id: info.id, hold: hold("job:k", for: 3 * 3600, from: now)))
            #expect(try await store.hold(tenant: "t", id: info.id, hold: hold("job:k", for: 60, from: now)))
            #expect(try await store.sweep(now: now.addingTimeInterval(2 * 3600)).blobsDeleted == 0)
            #expect(try await store.sweep(now: now.addingTimeInterval(4 * 3600)).blobsDeleted == 1)
        }
    }

    @Test("a sweep removes the temporary files of crashed puts once they are an hour old")
    func crashedPut() async throws {
        try await withStore { store, root in
            let tmp = root.appendingPathComponent("tmp")
            let old = tmp.appendingPathComponent("crashed.part").path
            let fresh = tmp.appendingPathComponent("running.part").path
            #expect(FileManager.default.createFile(atPath: old, contents: Data(count: 100)))
            #expect(FileManager.default.createFile(atPath: fresh, contents: Data(count: 100)))
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old)
            #expect(try await store.sweep(now: Date()) == SweepReport(temporaryFilesDeleted: 1))
            #expect(entries(tmp) == ["running.part"])
        }
    }

    // MARK: Isolation and validation

    @Test("one tenant cannot reach another's blob by its id", arguments: BlobStoreKind.available)
    func tenantIsolation(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let secret = Data("tenant A's ciphertext".utf8)
            let a = try await store.put(tenant: "A", data: secret, limit: 100, hold: hold("upload:a", for: 3600))
            #expect(try await store.info(tenant: "B", id: a.id) == nil)
            await #expect(throws: BlobStoreError.notFound) { try await store.read(tenant: "B", id: a.id, limit: 100) }
            await #expect(throws: BlobStoreError.notFound) { try await store.chunks(tenant: "B", id: a.id, range: nil) }
            #expect(try await store.hold(tenant: "B", id: a.id, hold: hold("job:b", for: 3600)) == false)
            #expect(try await store.release(tenant: "B", id: a.id, holder: holder("upload:a")) == false)
            #expect(try await store.delete(tenant: "B", id: a.id) == false)
            #expect(try await store.read(tenant: "A", id: a.id, limit: 100) == secret)

            // The same content stored by B is B's own copy, and tenant names never reach a path.
            let hostile = "../../etc/passwd\u{0}/x"
            let b = try await store.put(tenant: hostile, data: secret, limit: 100, hold: hold("upload:b", for: 3600))
            #expect(b.id == a.id)
            #expect(try await t.blobCount() == 2)
            if let root = t.fileRoot { #expect(entries(root.deletingLastPathComponent()) == ["store"]) }
            #expect(try await store.delete(tenant: hostile, id: b.id))
            #expect(try await store.read(tenant: "A", id: a.id, limit: 100) == secret)
        }
    }

    @Test("ids that are not 64 lowercase hex digits are refused", arguments: [
        "../x", "", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/",
        "../../../../../../../../../../../../../../../../../../../../etc/x",
    ])
    func invalidIDs(raw: String) {
        #expect {
            _ = try BlobID(raw)
        } throws: { error in
            if case .invalidID = error as? BlobStoreError { return true }
            return false
        }
    }

    @Test("holder names are checked", arguments: ["", "../x", ".hidden", "a/b", "job: x", String(repeating: "h", count: 129), "é"])
    func invalidHolders(raw: String) {
        #expect {
            _ = try BlobHolder(raw)
        } throws: { error in
            if case .invalidHolder = error as? BlobStoreError { return true }
            return false
        }
    }

    @Test("valid ids and holders are accepted")
    func validNames() throws {
        let id = try BlobID("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(id.description == id.hex)
        let job = BlobHolder.job(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!)
        #expect(job.name == "job:e621e1f8-c36c-495a-93fc-0c247a3e6e5f")
        #expect(try BlobHolder(job.name) == job)
        #expect(try BlobHolder(String(repeating: "h", count: 128)).name.count == 128)
        let decoded = try JSONDecoder().decode([BlobID].self, from: JSONEncoder().encode([id]))
        #expect(decoded == [id])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([BlobID].self, from: Data(#"["../x"]"#.utf8)) }
    }

    // MARK: Ranges

    @Test("ranges read the bytes asked for, in chunks", arguments: BlobStoreKind.available)
    func ranges(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind, chunkSize: 1000) { t in
            let store = t.store
            let data = pseudoRandomBytes(10_000, seed: 6)
            let info = try await store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("upload:r", for: 60))
            for range in [0...0, 10...20, 995...1005, 0...9999, 9999...9999, 2000...4999] {
                let (read, stream) = try await store.chunks(tenant: "t", id: info.id, range: range)
                #expect(read.size == 10_000)
                let (bytes, sizes) = try await collect(stream)
                #expect(bytes == data.subdata(in: range.lowerBound..<(range.upperBound + 1)), "range \(range)")
                #expect(sizes.allSatisfy { $0 <= 1000 })
            }
            for range in [0...10_000, 10_000...10_000, -1...5] {
                await #expect(throws: BlobStoreError.invalidRange(size: 10_000)) {
                    try await store.chunks(tenant: "t", id: info.id, range: range)
                }
            }
        }
    }

    @Test("a stream already open still reads a blob deleted meanwhile", arguments: BlobStoreKind.available)
    func streamOutlivesDelete(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind, chunkSize: 100) { t in
            let store = t.store
            let data = pseudoRandomBytes(1000, seed: 7)
            let info = try await store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("upload:s", for: 60))
            let (_, stream) = try await store.chunks(tenant: "t", id: info.id, range: nil)
            #expect(try await store.delete(tenant: "t", id: info.id))
            #expect(try await collect(stream).data == data)
        }
    }

    // MARK: Concurrency

    @Test("eight concurrent puts of the same content end with one blob holding all eight", arguments: BlobStoreKind.available)
    func concurrentPuts(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let source = ChunkSource(total: 2 << 20, chunk: 128 * 1024, seed: 8)
            let infos = try await withThrowingTaskGroup(of: BlobInfo.self) { group in
                for i in 0..<8 {
                    group.addTask { try await store.put(tenant: "t", chunks: source, limit: 4 << 20, hold: hold("job:\(i)", for: 3600)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(infos).count == 1)
            #expect(try await t.blobCount() == 1)
            #expect(try await t.holdCount(tenant: "t", id: infos[0].id) == 8)
            #expect(try await t.leftovers().isEmpty)
            #expect(try await store.read(tenant: "t", id: infos[0].id, limit: 4 << 20) == source.bytes)
        }
    }

    @Test("a put or a hold racing a sweep of the same blob keeps the blob", arguments: BlobStoreKind.available)
    func putRacingSweep(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            for round in 0..<25 {
                let data = pseudoRandomBytes(50_000, seed: UInt64(100 + round % 3))
                // The blob exists with only an expired hold: the sweep wants it gone.
                let old = try await store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("upload:old\(round)", for: -1))
                async let swept = store.sweep(now: Date())
                async let put = store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("job:new\(round)", for: 3600))
                _ = try await (swept, put)
                #expect(try await store.read(tenant: "t", id: old.id, limit: 1 << 20) == data, "round \(round)")

                #expect(try await store.release(tenant: "t", id: old.id, holder: holder("job:new\(round)")))
                _ = try await store.put(tenant: "t", data: data, limit: 1 << 20, hold: hold("upload:again\(round)", for: -1))
                async let swept2 = store.sweep(now: Date())
                async let held = store.hold(tenant: "t", id: old.id, hold: hold("job:held\(round)", for: 3600))
                let (_, didHold) = try await (swept2, held)
                if didHold {
                    #expect(try await store.info(tenant: "t", id: old.id) != nil, "round \(round)")
                }
                // Either way nothing is left half-deleted: a sweep at the end sees a consistent blob.
                _ = try await store.sweep(now: Date())
                #expect((try await store.info(tenant: "t", id: old.id) != nil) == didHold)
                if didHold { try await store.delete(tenant: "t", id: old.id) }
            }
        }
    }

    // MARK: Delete and modes

    @Test("delete removes the blob and all its holds", arguments: BlobStoreKind.available)
    func deleteEverything(_ kind: BlobStoreKind) async throws {
        try await withBlobStore(kind) { t in
            let store = t.store
            let data = Data("server key".utf8)
            let info = try await store.put(tenant: "t", data: data, limit: 100, hold: hold("upload:k", for: 3600))
            #expect(try await store.hold(tenant: "t", id: info.id, hold: hold("job:k", for: 3600)))
            #expect(try await store.delete(tenant: "t", id: info.id))
            #expect(try await store.info(tenant: "t", id: info.id) == nil)
            #expect(try await t.blobCount() == 0)
            #expect(try await t.holdCount(tenant: "t", id: info.id) == 0)
            if let root = t.fileRoot {
                let tenants = root.appendingPathComponent("tenants")
                #expect(files(named: "holds", under: tenants).isEmpty)
                #expect(files(named: info.id.hex, under: tenants).isEmpty)
            }
            #expect(try await store.delete(tenant: "t", id: info.id) == false)
            #expect(try await store.hold(tenant: "t", id: info.id, hold: hold("job:k", for: 3600)) == false)
            #expect(try await store.sweep(now: Date().addingTimeInterval(86400)) == SweepReport())
            // And the content can be stored again afterwards.
            #expect(try await store.put(tenant: "t", data: data, limit: 100, hold: hold("upload:k", for: 3600)) == info)
        }
    }

    @Test("directories are 0700 and files 0600")
    func modes() async throws {
        try await withStore { store, root in
            let info = try await store.put(tenant: "t", data: Data("m".utf8), limit: 10, hold: hold("upload:m", for: 3600))
            let tenants = root.appendingPathComponent("tenants")
            let data = try #require(files(named: "data", under: tenants).first)
            let blob = (data as NSString).deletingLastPathComponent
            let shard = (blob as NSString).deletingLastPathComponent
            let tenant = (shard as NSString).deletingLastPathComponent
            #expect((blob as NSString).lastPathComponent == info.id.hex)
            for directory in [root.path, root.path + "/tmp", root.path + "/locks", tenants.path, tenant, shard, blob, blob + "/holds"] {
                #expect(try mode(directory) == 0o700, "\(directory)")
            }
            for file in [data, blob + "/holds/upload:m", root.path + "/locks/" + info.id.hex.prefix(2)] {
                #expect(try mode(file) == 0o600, "\(file)")
            }
        }
    }
}
