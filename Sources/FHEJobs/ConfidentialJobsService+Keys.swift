import FHEPrograms
import Foundation
import Jobs
import TFHE

extension ConfidentialJobsService {
    public func keys(for principal: Principal) async throws -> FHEKeysDescription {
        let keySet = try await keys.ownerKeySet(tenant: principal.tenant, owner: principal.subject)
        return FHEKeysDescription(
            parameterSet: parameters.name, parameterFingerprint: keySet.parameterFingerprint,
            securityBits: parameters.securityBits, parameterDefinition: configuration.parameterDefinition,
            keySetID: keySet.id, publicKey: (keySet.publicKeyBlob, keySet.publicKeyBytes),
            serverKey: (keySet.serverKeyBlob, keySet.serverKeyBytes))
    }

    public func keyFile(keySetID: String, part: FHEKeyPart, for principal: Principal) async throws -> FHEKeyFile? {
        guard let keySet = try await store.keySet(tenant: principal.tenant, owner: principal.subject, parameterSet: parameters.name),
              keySet.id == keySetID else { return nil }
        let (blob, size) = switch part {
        case .publicKey: (keySet.publicKeyBlob, keySet.publicKeyBytes)
        case .serverKey: (keySet.serverKeyBlob, keySet.serverKeyBytes)
        }
        let id = try BlobID(blob), store = blobs.store, tenant = principal.tenant
        return FHEKeyFile(sha256: blob, bytes: size) { range in try await store.chunks(tenant: tenant, id: id, range: range).stream }
    }

    public func upload<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, limit: Int, for principal: Principal, now: Date)
        async throws -> FHEUpload where Chunks.Element == Data {
        let expires = now.addingTimeInterval(24 * 3600)
        let hold = BlobHold(holder: .upload(UUID()), expires: expires)
        let limit = min(limit, configuration.maxInputBytes)
        let stored: FHEBlobs.Stored
        do {
            stored = try await blobs.put(tenant: principal.tenant, chunks: chunks, limit: limit, hold: hold)
        } catch let error as BlobStoreError {
            if case .tooLarge = error { throw Self.tooLarge(limit) }
            throw error
        }
        let keySetID: String
        do {
            let bytes = try await blobs.read(tenant: principal.tenant, id: stored.id, limit: stored.size)
            let parameters = self.parameters, limits = configuration.limits
            let named = try await FHEThreads.run {
                try EncryptedValues(serialized: bytes, parameters: parameters, limits: limits).keySetID
            }
            // Made under one of the owner's uploaded server keys (client-key mode), or else it
            // must be the owner's own key set.
            if try await store.serverKey(tenant: principal.tenant, owner: principal.subject, id: named.hex) != nil {
                keySetID = named.hex
            } else {
                let keySet = try await keys.ownerKeySet(tenant: principal.tenant, owner: principal.subject)
                guard named.hex == keySet.id else { throw ComputeKey(keySetID: keySet.id, uploaded: false).mismatch(named) }
                keySetID = keySet.id
            }
        } catch {
            try? await blobs.release(tenant: principal.tenant, id: stored.id, holder: hold.holder)
            throw Self.refusal(error)
        }
        return FHEUpload(id: stored.id, bytes: stored.size, keySetID: keySetID, expiresAt: expires)
    }
}
