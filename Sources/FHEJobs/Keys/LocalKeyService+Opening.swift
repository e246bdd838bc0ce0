import Crypto
import Foundation
import Jobs

/// Result retrieval's step inside the key boundary: the owner's signature checked, the key set
/// found and bound to the owner, the result decrypted, encoded, sealed (HPKE, RFC 9180) and the
/// plaintext zeroized. Only the seal leaves.
extension LocalKeyService {
    public func openSealed(_ request: SealedOpening) async throws -> SealedResult {
        // The API checked the signature already; the key service checks it again, so that a
        // process that can reach it still needs the owner's signature for a given job, nonce
        // and result to have one opened (and the seal's AAD is the message the owner signed).
        let sealingKey = try request.sealingKey.map { bytes throws(JobServiceError) in try SealingKey(bytes) }
        let message = RetrievalMessages.request(jobID: request.jobID, nonce: request.nonce, resultHash: request.resultHash,
                                                sealingKey: sealingKey)
        guard let owner = try? P256.Signing.PublicKey(pemRepresentation: request.clientPublicKey),
              let signature = RetrievalMessages.signature(request.signature),
              owner.isValidSignature(signature, for: message) else {
            throw JobServiceError.refused(Refusal("INVALID_SIGNATURE", status: 403,
                "clientSignature is not a valid ECDSA P-256 signature of the retrieval message for this job, nonce and result by the job's client_public_key"))
        }
        guard let record = try await store.keySet(id: request.keySetID) else {
            throw JobServiceError.refused(Refusal("KEY_SET_DELETED", status: 410,
                "the owner's key set was deleted (crypto-shredding): this result can never be opened"))
        }
        // A key set opens only for its own owner, whatever the caller says the job is.
        guard record.tenant == request.tenant, record.owner == request.owner else {
            throw JobServiceError.refused(Refusal("FORBIDDEN", status: 403, "the key set \(request.keySetID) is not this owner's"))
        }
        guard holdsKeyEncryptionKey else {
            throw JobServiceError.refused(Refusal("KEY_SERVICE_UNAVAILABLE", status: 503, "this process has no key-encryption key"))
        }
        var clock = RetrievalTimings.Stopwatch()
        let file = try await blobs.read(tenant: request.tenant, id: request.resultBlob, limit: maxResultBytes)
        let resultRead = clock.lap()
        var plaintext = try ResultPlaintext.encode(outputs: request.outputs, values: try await decrypt(file, keySet: record))
        // Zeroized once sealed (the engine's and the seal's own copies are theirs to drop).
        defer { plaintext.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let decryption = clock.lap()
        let sealed = try Self.seal(plaintext, to: sealingKey, clientPublicKey: owner,
                                   info: RetrievalMessages.info(jobID: request.jobID), aad: message)
        return SealedResult(suite: sealed.suite, enc: sealed.enc, ciphertext: sealed.ciphertext,
                            resultRead: resultRead, decryption: decryption, seal: clock.lap())
    }

    /// HPKE base mode (RFC 9180) to the sealing key, or else to the job's client key.
    static func seal(_ plaintext: [UInt8], to sealingKey: SealingKey?, clientPublicKey: P256.Signing.PublicKey,
                     info: Data, aad: Data) throws -> (suite: HPKESuiteIDs, enc: Data, ciphertext: Data) {
        switch sealingKey {
        case nil:
            let recipient = try P256.KeyAgreement.PublicKey(rawRepresentation: clientPublicKey.rawRepresentation)
            var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: .P256_SHA256_AES_GCM_256, info: info)
            return (.p256, sender.encapsulatedKey, try sender.seal(plaintext, authenticating: aad))
        case .p256(let bytes):
            let recipient = try P256.KeyAgreement.PublicKey(x963Representation: bytes)
            var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: .P256_SHA256_AES_GCM_256, info: info)
            return (.p256, sender.encapsulatedKey, try sender.seal(plaintext, authenticating: aad))
        case .xWing(let bytes):
            let recipient = try XWingMLKEM768X25519.PublicKey(rawRepresentation: bytes)   // checked when the request was read
            var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256, info: info)
            return (.xWing, sender.encapsulatedKey, try sender.seal(plaintext, authenticating: aad))
        }
    }
}
