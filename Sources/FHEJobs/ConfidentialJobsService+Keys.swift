import FHEPrograms
import Foundation
import Jobs
import TFHE

extension ConfidentialJobsService {
    public func keys(for principal: Principal) async throws -> FHEKeysDescription {
        let keySet = try await keys.keySet(tenant: principal.tenant, owner: principal.subject)
        return FHEKeysDescription(
            parameterSet: parameters.name, parameterFingerprint: keySet.parameterFingerprint,
            securityBits: parameters.securityBits, parameterDefinition: configuration.parameterDefinition,
            keySetID: keySet.id, publicKey: (keySet.publicKeyBlob, keySet.publicKeyBytes),
            serverKey: (keySet.serverKeyBlob, keySet.serverKeyBytes))
    }

    public func keyFile(keySetID: String, part: FHEKeyPart, for principal: Principal) async throws -> (bytes: Data, sha256: String)? {
        guard let keySet = try await store.keySet(tenant: principal.tenant, owner: principal.subject, parameterSet: parameters.name),
              keySet.id == keySetID else { return nil }
        let (blob, size) = switch part {
        case .publicKey: (keySet.publicKeyBlob, keySet.publicKeyBytes)
        case .serverKey: (keySet.serverKeyBlob, keySet.serverKeyBytes)
        }
        return (try await blobs.read(tenant: principal.tenant, id: blob, limit: size), blob)
    }

    public func upload<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, limit: Int, for principal: Principal, now: Date)
        async throws -> FHEUpload where Chunks.Element == Data {
        let keySet = try await keys.keySet(tenant: principal.tenant, owner: principal.subject)
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
        do {
            let bytes = try await blobs.read(tenant: principal.tenant, id: stored.id, limit: stored.size)
            let parameters = self.parameters, limits = configuration.limits
            try await FHEThreads.run {
                let values = try EncryptedValues(serialized: bytes, parameters: parameters, limits: limits)
                guard values.keySetID.hex == keySet.id else {
                    throw ProgramError(.keySetMismatch, "the file was encrypted under key set \(values.keySetID.hex); "
                        + "this owner's key set is \(keySet.id) (GET /v1/fhe/keys)")
                }
            }
        } catch {
            try? await blobs.release(tenant: principal.tenant, id: stored.id, holder: hold.holder)
            throw Self.refusal(error)
        }
        return FHEUpload(id: stored.id, bytes: stored.size, keySetID: keySet.id, expiresAt: expires)
    }
}
