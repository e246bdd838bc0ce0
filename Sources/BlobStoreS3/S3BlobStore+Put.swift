import Foundation
import Jobs
import NIOHTTP1

extension S3BlobStore {
    public func put<Chunks: AsyncSequence>(tenant: String, chunks: Chunks, limit: Int, hold: BlobHold) async throws(BlobStoreError) -> BlobInfo
        where Chunks.Element == Data {
        // S3 allows 10,000 parts: a larger limit takes larger parts.
        let partSize = max(configuration.partSize, limit / 10_000 + 1)
        var intake = BlobIntake(limit: limit)
        var buffer = Data()
        var upload: MultipartUpload?
        do throws(BlobStoreError) {
            // The intake checks each chunk before it is buffered: bytes past the limit are
            // never kept or sent.
            try await intake.take(chunks) { chunk throws(BlobStoreError) in
                buffer.append(chunk)
                while buffer.count >= partSize {
                    let part = Data(buffer.prefix(partSize))
                    buffer = Data(buffer.dropFirst(partSize))
                    if upload == nil { upload = try await startUpload() }
                    try await upload!.send(part, client: client)
                }
            }
            if upload != nil {
                if !buffer.isEmpty { try await upload!.send(buffer, client: client) }
                buffer = Data()
                try await upload!.complete(client: client)
            }
        } catch {
            if let upload { await upload.abort(client: client) }
            throw error
        }
        let id = intake.id
        let keys = Keys(tenant: tenant, id: id)
        let result: Result<Void, BlobStoreError>
        do { try await commit(keys, hold: hold, staged: upload, buffer: buffer); result = .success(()) } catch { result = .failure(error) }
        // The staging object goes either way (a crash here leaves it to the sweep).
        if let upload { _ = try? await client.send(.DELETE, key: upload.key, accept: [200, 204, 404]) }
        try result.get()
        return BlobInfo(tenant: tenant, id: id, size: intake.size)
    }

    /// (a), (b) and (c) of the type's doc, once the content is staged (or, up to one part, in
    /// `buffer`).
    func commit(_ keys: Keys, hold: BlobHold, staged upload: MultipartUpload?, buffer: Data) async throws(BlobStoreError) {
        let id = keys.id
        _ = try await settleHold(keys, hold)
        if let upload {
            if try await head(keys.data) == nil {
                let response = try await client.send(.PUT, key: keys.data, headers: [
                    ("x-amz-copy-source", SigV4Signer.encodePath("/\(location.bucket)/\(location.prefix)\(upload.key)")),
                ], accept: [200])
                // CopyObject may answer 200 and report a failure in the body (S3 API reference, CopyObject).
                if let document = S3XML.parse(response.body), document.name == "Error" {
                    throw S3Client.error(status: 500, body: response.body, "S3 copy of \(upload.key) to \(keys.data)")
                }
            }
        } else {
            // The payload's SHA-256 is the blob's id. 412: the content is there already.
            _ = try await client.send(.PUT, key: keys.data, headers: [("If-None-Match", "*"), ("Content-Type", "application/octet-stream")],
                                      body: buffer, payloadHash: id.hex, accept: [200, 412])
        }
    }

    func startUpload() async throws(BlobStoreError) -> MultipartUpload {
        let key = Self.stagingKey()
        let response = try await client.send(.POST, key: key, query: [("uploads", "")], headers: [("Content-Type", "application/octet-stream")])
        guard let uploadID = S3XML.parse(response.body)?.value("UploadId"), !uploadID.isEmpty else {
            throw .io("S3 CreateMultipartUpload of \(key): no UploadId in the answer")
        }
        return MultipartUpload(key: key, uploadID: uploadID)
    }
}

/// One multipart upload in progress (S3 API reference, CreateMultipartUpload, UploadPart,
/// CompleteMultipartUpload, AbortMultipartUpload).
struct MultipartUpload {
    let key: String
    let uploadID: String
    var etags: [String] = []

    mutating func send(_ part: Data, client: S3Client) async throws(BlobStoreError) {
        let number = etags.count + 1
        let response = try await client.send(.PUT, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: part)
        guard let etag = response.headers.first(name: "ETag") else { throw .io("S3 UploadPart \(number) of \(key): no ETag in the answer") }
        etags.append(etag)
    }

    func complete(client: S3Client) async throws(BlobStoreError) {
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>" }
        let body = Data(("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + parts.joined() + "</CompleteMultipartUpload>").utf8)
        let response = try await client.send(.POST, key: key, query: [("uploadId", uploadID)], headers: [("Content-Type", "application/xml")], body: body)
        // CompleteMultipartUpload may answer 200 and report a failure in the body.
        if let document = S3XML.parse(response.body), document.name == "Error" {
            throw S3Client.error(status: 500, body: response.body, "S3 CompleteMultipartUpload of \(key)")
        }
    }

    /// Best effort: an upload left behind is aborted by the next sweep after `temporaryLifetime`.
    func abort(client: S3Client) async {
        _ = try? await client.send(.DELETE, key: key, query: [("uploadId", uploadID)], accept: [200, 204, 404])
    }
}
