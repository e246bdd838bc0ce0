import Crypto
@testable import FHEJobs
import FHEPrograms
import Foundation
@testable import Jobs
import Testing

/// The retrieval protocol's test vectors, as openapi.yml publishes them (`x-test-vectors`,
/// made by Python's `cryptography` and `pyhpke` in scripts/retrieval_peer.py), reproduced by
/// the service's code: a client in another language is checked against the same values.
@Suite("Retrieval test vectors") struct RetrievalVectorTests {
    /// `name: "value"` lines of the spec's `x-test-vectors` block.
    static let vectors: [String: String] = {
        let spec = ContractTests.spec
        var result: [String: String] = [:]
        var inside = false
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "      x-test-vectors:" { inside = true; continue }
            guard inside else { continue }
            if line.hasPrefix("        #") { continue }
            guard line.hasPrefix("        "), let colon = line.firstIndex(of: ":") else { break }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let raw = Data(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).utf8)
            result[key] = try? JSONDecoder().decode(String.self, from: raw)
        }
        return result
    }()

    func vector(_ name: String) throws -> String { try #require(Self.vectors[name], "x-test-vectors has no \(name)") }
    func bytes(_ name: String) throws -> Data { try #require(Data(hexString: try vector(name)), "\(name) is not hex") }

    @Test func theMessagesAreTheSpecsBytes() throws {
        let job = try #require(UUID(uuidString: try vector("jobId")))
        let message = RetrievalMessages.request(jobID: job, nonce: try vector("retrievalNonce"), resultHash: try vector("resultHash"), sealingKey: nil)
        #expect(message == (try bytes("messageHex")))
        let sealing = try SealingKey(try bytes("sealingKeyHex"))
        #expect(RetrievalMessages.request(jobID: job, nonce: try vector("retrievalNonce"), resultHash: try vector("resultHash"),
                                          sealingKey: sealing) == (try bytes("messageWithSealingKeyHex")))
        #expect(RetrievalMessages.info(jobID: job) == (try bytes("infoHex")))
        let sealedDigest = SHA256.hash(data: try bytes("encHex") + (try bytes("ciphertextHex"))).hexString
        #expect(RetrievalMessages.response(jobID: job, nonce: try vector("retrievalNonce"), resultHash: try vector("resultHash"),
                                           suite: .p256, sealedDigest: sealedDigest,
                                           confirmation: try vector("confirmationReference")) == (try bytes("responseHex")))
    }

    @Test func theSignaturesVerifyInEveryAcceptedForm() throws {
        let key = try P256.Signing.PublicKey(pemRepresentation: try vector("clientPublicKeyPEM"))
        let message = try bytes("messageHex")
        for name in ["signatureDERHex", "signatureRawHex", "signatureHighSRawHex"] {
            for form in [try vector(name), "0x" + (try vector(name)), (try vector(name)).uppercased()] {
                let signature = try #require(RetrievalMessages.signature(form), "\(name) as \(form.prefix(8))…")
                #expect(key.isValidSignature(signature, for: message), "\(name)")
            }
        }
        // The raw scalar is the key the PEM names.
        let privateKey = try P256.Signing.PrivateKey(rawRepresentation: try bytes("clientPrivateKeyHex"))
        #expect(privateKey.publicKey.rawRepresentation == key.rawRepresentation)
        // Not a signature: odd hex, 63 bytes, DER with trailing bytes.
        for bad in ["abc", String(repeating: "00", count: 63), (try vector("signatureDERHex")) + "00", ""] {
            if let parsed = RetrievalMessages.signature(bad) { #expect(!key.isValidSignature(parsed, for: message), "\(bad.prefix(10))") }
        }
    }

    @Test func theSealOpensToThePaddedOutputs() throws {
        let plaintext = try bytes("plaintextHex")
        let encoded = try ResultPlaintext.encode(outputs: [FHEOutput(name: "sum", type: "u32"), FHEOutput(name: "max", type: "u16")],
                                                 values: [("sum", .uint(10)), ("max", .uint(4))])
        #expect(Data(encoded) == plaintext)
        let recipient = try P256.KeyAgreement.PrivateKey(rawRepresentation: try bytes("clientPrivateKeyHex"))
        var opener = try HPKE.Recipient(privateKey: recipient, ciphersuite: .P256_SHA256_AES_GCM_256, info: try bytes("infoHex"),
                                        encapsulatedKey: try bytes("encHex"))
        #expect(try opener.open(try bytes("ciphertextHex"), authenticating: try bytes("messageHex")) == plaintext)
    }

    /// The post-quantum answer: the X-Wing key from its seed and the seal from the spec's eseed
    /// (made by scripts/xwing.py, an X-Wing of its own), opened by swift-crypto's X-Wing.
    @Test func theXWingSealOpensToThePaddedOutputs() throws {
        let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: try bytes("xWingSeedHex"), publicKey: nil)
        let sealingKey = try #require(Data(base64Encoded: try vector("xWingSealingKeyBase64")))
        #expect(key.publicKey.rawRepresentation == sealingKey)
        let job = try #require(UUID(uuidString: try vector("jobId")))
        let message = try bytes("messageWithXWingKeyHex")
        #expect(RetrievalMessages.request(jobID: job, nonce: try vector("retrievalNonce"), resultHash: try vector("resultHash"),
                                          sealingKey: try SealingKey(sealingKey)) == message)
        var opener = try HPKE.Recipient(privateKey: key, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256, info: try bytes("infoHex"),
                                        encapsulatedKey: try bytes("xWingEncHex"))
        #expect(try opener.open(try bytes("xWingCiphertextHex"), authenticating: message) == (try bytes("plaintextHex")))
        // Bound to its message: the seal does not open under the P-256 key's message.
        var other = try HPKE.Recipient(privateKey: key, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256, info: try bytes("infoHex"),
                                       encapsulatedKey: try bytes("xWingEncHex"))
        #expect(throws: (any Error).self) { try other.open(try bytes("xWingCiphertextHex"), authenticating: try bytes("messageHex")) }
    }

    @Test func theAnswerSignatureIsTheSpecs() throws {
        let service = try Curve25519.Signing.PrivateKey(rawRepresentation: try bytes("serviceSeedHex"))
        #expect(service.publicKey.rawRepresentation == (try bytes("servicePublicKeyHex")))
        // Ed25519 is deterministic: the same key and message give the spec's bytes.
        #expect(try service.signature(for: try bytes("responseHex")) == (try bytes("serviceSignatureHex")))
    }

    /// Padding: the same length for every value of the same types.
    @Test func thePlaintextLengthDependsOnlyOnTheTypes() throws {
        let outputs = [FHEOutput(name: "sum", type: "u64"), FHEOutput(name: "ok", type: "bool"), FHEOutput(name: "h", type: "u8[3]")]
        let small = try ResultPlaintext.encode(outputs: outputs, values: [("sum", .uint(0)), ("ok", .bool(true)), ("h", .vector([.uint(0), .uint(1), .uint(2)]))])
        let large = try ResultPlaintext.encode(outputs: outputs, values: [("sum", .uint(.max)), ("ok", .bool(false)),
                                                                         ("h", .vector([.uint(255), .uint(255), .uint(255)]))])
        #expect(small.count == large.count)
        let json = try JSONSerialization.jsonObject(with: Data(large)) as? [String: Any]
        let values = try #require(json?["outputs"] as? [String: Any])
        #expect(values["sum"] as? String == "18446744073709551615" && values["ok"] as? Bool == false)
        #expect(String(decoding: small, as: UTF8.self).hasPrefix(#"{"outputs":{"sum":"0","ok":true,"h":[0,1,2]}}"#))
        #expect(throws: JobInputError.self) { try ResultPlaintext.encode(outputs: outputs, values: [("sum", .uint(1))]) }
        #expect(throws: JobInputError.self) {
            try ResultPlaintext.encode(outputs: [FHEOutput(name: "x", type: "u8")], values: [("x", .uint(256))])
        }
    }

    @Test func requestsAreReadStrictly() throws {
        let good = String(repeating: "a", count: 16)
        #expect(throws: JobServiceError.self) { try ResultRetrievalRequest(retrievalNonce: "short", clientSignature: "00", sealingKey: nil) }
        #expect(throws: JobServiceError.self) { try ResultRetrievalRequest(retrievalNonce: good + "!", clientSignature: "00", sealingKey: nil) }
        #expect(throws: JobServiceError.self) { try ResultRetrievalRequest(retrievalNonce: String(repeating: "a", count: 129), clientSignature: "00", sealingKey: nil) }
        #expect(throws: JobServiceError.self) { try ResultRetrievalRequest(retrievalNonce: good, clientSignature: nil, sealingKey: nil) }
        #expect(throws: JobServiceError.self) { try ResultRetrievalRequest(retrievalNonce: good, clientSignature: "00", sealingKey: "%%") }
        #expect(throws: JobServiceError.self) {
            try ResultRetrievalRequest(retrievalNonce: good, clientSignature: "00", sealingKey: Data(count: 64).base64EncodedString())
        }
        // 65 bytes that are not a point on the curve.
        var notAPoint = Data(count: 65)
        notAPoint[0] = 4
        #expect(throws: JobServiceError.self) {
            try ResultRetrievalRequest(retrievalNonce: good, clientSignature: "00", sealingKey: notAPoint.base64EncodedString())
        }
        let request = try ResultRetrievalRequest(retrievalNonce: "A-z_0-9" + good, clientSignature: "00",
                                                 sealingKey: try bytes("sealingKeyHex").base64EncodedString())
        #expect(request.sealingKey == .p256(try bytes("sealingKeyHex")))
    }
}
