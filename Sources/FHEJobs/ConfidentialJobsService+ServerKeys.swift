import Foundation
import Jobs
import TFHE

/// Client-key mode: an owner who keeps its own TFHE secret key uploads the compressed server
/// key made from it, and names it in jobs (`server_key_id`); the service never has a secret
/// key for those jobs, and their results are ciphertexts only the owner can decrypt.
extension ConfidentialJobsService {
    public func uploadServerKey<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, limit: Int, for principal: Principal, now: Date)
        async throws -> UploadedServerKey where Chunks.Element == Data {
        let limit = min(limit, configuration.maxServerKeyBytes)
        // Held while it is checked; the owner's lasting hold replaces it once it is recorded.
        let pending = BlobHold(holder: .upload(UUID()), expires: now.addingTimeInterval(3600))
        let stored: FHEBlobs.Stored
        do {
            stored = try await blobs.put(tenant: principal.tenant, chunks: chunks, limit: limit, hold: pending)
        } catch BlobStoreError.tooLarge {
            throw JobServiceError.refused(Refusal("SERVER_KEY_TOO_LARGE", status: 413,
                                                  "the server key is larger than this server's limit of \(limit) bytes"))
        }
        let result: Result<UploadedServerKey, any Error>
        do { result = .success(try await keep(stored, for: principal, now: now)) } catch { result = .failure(error) }
        try? await blobs.release(tenant: principal.tenant, id: stored.id, holder: pending.holder)
        return try result.get()
    }

    /// Checks a stored upload in full and records it as the owner's, holding its blob.
    private func keep(_ stored: FHEBlobs.Stored, for principal: Principal, now: Date) async throws -> UploadedServerKey {
        let bytes = try await blobs.read(tenant: principal.tenant, id: stored.id, limit: stored.size)
        let parameters = self.parameters
        do {
            // Read in full: header, parameter fingerprint, lengths, every body word, checksum.
            try await FHEThreads.run { _ = try CompressedServerKey<UInt64>(serialized: bytes, parameters: parameters) }
        } catch {
            throw JobServiceError.refused(Refusal("INVALID_SERVER_KEY", status: 422,
                                                  "not a compressed server key of this service's parameter set \(parameters.name) "
                                                  + "(GET /v1/fhe/keys shows it): \(error)"))
        }
        let blobID = try BlobID(stored.id)
        let hold = BlobHold(holder: .serverKey(owner: principal.subject, id: blobID), expires: .distantFuture)
        guard try await blobs.store.hold(tenant: principal.tenant, id: blobID, hold: hold) else { throw BlobStoreError.notFound }
        let record = UploadedServerKey(id: stored.id, tenant: principal.tenant, owner: principal.subject, parameterSet: parameters.name,
                                       parameterFingerprint: String(parameters.fingerprint, radix: 16), bytes: stored.size, createdAt: now)
        return try await store.insertServerKey(record)
    }

    public func serverKey(id: String, for principal: Principal) async throws -> UploadedServerKey? {
        guard FHEBlobs.isValidID(id) else { return nil }
        return try await store.serverKey(tenant: principal.tenant, owner: principal.subject, id: id)
    }

    /// Deletes one of the caller's server keys. Its queued jobs then fail (their key is gone);
    /// the blob goes at the next sweep unless another owner of the tenant uploaded the same key.
    public func deleteServerKey(id: String, for principal: Principal) async throws -> Bool {
        guard let blobID = try? BlobID(id),
              try await store.deleteServerKey(tenant: principal.tenant, owner: principal.subject, id: id) != nil else { return false }
        try await blobs.store.release(tenant: principal.tenant, id: blobID, holder: .serverKey(owner: principal.subject, id: blobID))
        await cache.evict(id: id)
        return true
    }
}
