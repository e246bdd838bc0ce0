import Crypto
import FHEPrograms
import Foundation
import Jobs
import TFHE

/// The client's side of `POST /v1/jobs/{jobId}/fhe-result` (openapi.yml states it in full):
/// a fresh nonce, the signature, the call, the check of the service's signature and of the
/// result hash against the job, and the opening of the seal.
public struct ResultRetrievalClient: Sendable {
    public let client: ServiceClient
    public let serviceKey: Curve25519.Signing.PublicKey

    public init(client: ServiceClient, serviceKey: Curve25519.Signing.PublicKey) {
        self.client = client; self.serviceKey = serviceKey
    }

    /// 32 characters of base64url from 24 random bytes.
    public static func freshNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    /// The job's outputs as JSON text (`{"NAME": VALUE, ...}`), opened with `key` (the job's
    /// P-256 key), through a fresh X-Wing key if `postQuantum`; in client-key mode the result
    /// ciphertext is decrypted with `clientKey`.
    public func outputs(jobID: JobID, key: P256.Signing.PrivateKey, postQuantum: Bool,
                        clientKey: ClientKey<UInt64>?) async throws -> String {
        let path = "/v1/jobs/\(jobID.uuidString.lowercased())"
        let job = try await client.send("GET", path).object()
        guard let status = job["status"] as? String, ["succeeded", "confirmed"].contains(status) else {
            throw ClientError("job \(jobID.uuidString.lowercased()) is \(job["status"] as? String ?? "unknown"): its result is not ready (fhe client wait)")
        }
        guard let resultHash = job["resultHash"] as? String else { throw ClientError("the job has no result hash") }
        let xWing = postQuantum ? try XWingMLKEM768X25519.PrivateKey() : nil
        let sealingKey: SealingKey? = try xWing.map { try SealingKey($0.publicKey.rawRepresentation) }
        let nonce = Self.freshNonce()
        let message = RetrievalMessages.request(jobID: jobID, nonce: nonce, resultHash: resultHash, sealingKey: sealingKey)
        var body: [String: Any] = ["retrievalNonce": nonce, "clientSignature": try key.signature(for: message).derRepresentation.hexString]
        if let sealingKey { body["sealingKey"] = sealingKey.bytes.base64EncodedString() }
        let answer = try await client.send("POST", path + "/fhe-result", json: body).object()

        // The answer is the service's, for this job, nonce and result.
        guard answer["jobId"] as? String == jobID.uuidString.lowercased(), answer["resultHash"] as? String == resultHash else {
            throw ClientError("the answer names another job or result hash than the job's")
        }
        let sealed = answer["sealed"] as? [String: Any]
        let suite: HPKESuiteIDs?, enc: Data, payload: Data
        if let sealed {
            guard let ids = sealed["suite"] as? [String: Int], let kem = ids["kem"], let kdf = ids["kdf"], let aead = ids["aead"],
                  let e = (sealed["enc"] as? String).flatMap({ Data(base64Encoded: $0) }),
                  let c = (sealed["ciphertext"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
                throw ClientError("the answer's seal is malformed")
            }
            suite = HPKESuiteIDs(kem: UInt16(truncatingIfNeeded: kem), kdf: UInt16(truncatingIfNeeded: kdf), aead: UInt16(truncatingIfNeeded: aead))
            enc = e; payload = c
        } else {
            guard let c = (answer["ciphertext"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
                throw ClientError("the answer carries neither a seal nor a ciphertext")
            }
            suite = nil; enc = Data(); payload = c
        }
        let confirmation = (answer["confirmation"] as? [String: Any])?["reference"] as? String
        let signed = RetrievalMessages.response(jobID: jobID, nonce: nonce, resultHash: resultHash, suite: suite,
                                                sealedDigest: SHA256.hash(data: enc + payload).hexString, confirmation: confirmation)
        guard let signature = (answer["serviceSignature"] as? String).flatMap({ Data(base64Encoded: $0) }),
              serviceKey.isValidSignature(signature, for: signed) else {
            throw ClientError("the answer is not signed by the pinned service key: refusing it")
        }

        guard let suite else {
            guard let clientKey else { throw ClientError("this job ran in client-key mode: give --client-key to decrypt its result") }
            let values = try EncryptedValues(serialized: payload, parameters: clientKey.parameters)
            return Self.json(try values.decrypt(with: clientKey), kinds: values.shapes.mapValues(\.kind))
        }
        let info = RetrievalMessages.info(jobID: jobID)
        var plaintext: Data
        switch suite {
        case .p256:
            let recipient = try P256.KeyAgreement.PrivateKey(rawRepresentation: key.rawRepresentation)
            var opener = try HPKE.Recipient(privateKey: recipient, ciphersuite: .P256_SHA256_AES_GCM_256, info: info, encapsulatedKey: enc)
            plaintext = try opener.open(payload, authenticating: message)
        case .xWing:
            guard let xWing else { throw ClientError("the service sealed to an X-Wing key this client did not send") }
            var opener = try HPKE.Recipient(privateKey: xWing, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256, info: info, encapsulatedKey: enc)
            plaintext = try opener.open(payload, authenticating: message)
        default:
            throw ClientError("the answer uses suite \(suite.line), which this client does not know")
        }
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        guard let object = (try? JSONSerialization.jsonObject(with: plaintext)) as? [String: Any], let outputs = object["outputs"] else {
            throw ClientError("the opened result is not {\"outputs\": ...}")
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: outputs, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Outputs as the seal's JSON writes them (u64 as decimal strings), sorted by name.
    static func json(_ values: [(String, ClearValue)], kinds: [String: ValueKind]) -> String {
        func text(_ value: ClearValue, _ kind: ValueKind?) -> String {
            switch value {
            case .bool(let b): b ? "true" : "false"
            case .uint(let x): kind == .uint64 ? "\"\(x)\"" : "\(x)"
            case .vector(let items): "[" + items.map { text($0, kind) }.joined(separator: ",") + "]"
            }
        }
        return "{" + values.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\(text($0.1, kinds[$0.0]))" }.joined(separator: ",") + "}"
    }
}
