import Crypto
import Foundation

/// A request for a confidential job's result (`POST /v1/jobs/{jobId}/fhe-result`), as the
/// client sends it, read strictly. The protocol is fixed in openapi.yml; this is its one
/// implementation on the service side.
public struct ResultRetrievalRequest: Sendable, Equatable {
    /// 16 to 128 characters of `[A-Za-z0-9_-]`, chosen by the client, used once per job.
    public var nonce: String
    /// The client's signature over `RetrievalRequestMessage`, as given (checked by the key service).
    public var signature: String
    /// An optional key to seal to instead of `client_public_key`: a P-256 public key (65-byte
    /// uncompressed point) or an X-Wing public key (1,216 bytes).
    public var sealingKey: SealingKey?

    public init(nonce: String, signature: String, sealingKey: SealingKey?) {
        self.nonce = nonce; self.signature = signature; self.sealingKey = sealingKey
    }

    /// Reads the body's fields; every refusal is 400 INVALID_REQUEST with what is wrong.
    public init(retrievalNonce: String?, clientSignature: String?, sealingKey: String?) throws(JobServiceError) {
        guard let nonce = retrievalNonce, Self.isValidNonce(nonce) else {
            throw .invalidRequest("retrievalNonce must be 16 to 128 characters of A-Z a-z 0-9 _ -")
        }
        guard let signature = clientSignature, !signature.isEmpty, signature.utf8.count <= 300 else {
            throw .invalidRequest("clientSignature must be the hex of an ECDSA P-256 signature (64 bytes r||s, or DER)")
        }
        self.nonce = nonce
        self.signature = signature
        self.sealingKey = try sealingKey.map { text throws(JobServiceError) in
            guard text.utf8.count <= 2048, let bytes = Data(base64Encoded: text) else {
                throw .invalidRequest("sealingKey must be standard base64 (with padding)")
            }
            return try SealingKey(bytes)
        }
    }

    static func isValidNonce(_ nonce: String) -> Bool {
        let bytes = nonce.utf8
        return (16...128).contains(bytes.count) && bytes.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x5F || b == 0x2D
        }
    }
}

/// A key the result is sealed to, other than the job's `client_public_key`.
public enum SealingKey: Sendable, Equatable {
    /// A P-256 public key, 65 bytes: 0x04 || x || y.
    case p256(Data)
    /// An X-Wing public key (draft-connolly-cfrg-xwing-kem-06), 1,216 bytes.
    case xWing(Data)

    public static let p256Length = 65
    public static let xWingLength = 1216

    public init(_ bytes: Data) throws(JobServiceError) {
        switch bytes.count {
        case Self.p256Length:
            guard bytes.first == 0x04, (try? P256.KeyAgreement.PublicKey(x963Representation: bytes)) != nil else {
                throw .invalidRequest("sealingKey: 65 bytes that are not an uncompressed P-256 point (0x04 || x || y) on the curve")
            }
            self = .p256(bytes)
        case Self.xWingLength:
            guard (try? XWingMLKEM768X25519.PublicKey(rawRepresentation: bytes)) != nil else {
                throw .invalidRequest("sealingKey: 1216 bytes that are not an X-Wing public key")
            }
            self = .xWing(bytes)
        default:
            throw .invalidRequest("sealingKey must be a P-256 public key (65 bytes, uncompressed) or an X-Wing public key (1216 bytes), not \(bytes.count) bytes")
        }
    }

    public var bytes: Data {
        switch self {
        case .p256(let b), .xWing(let b): b
        }
    }
}

/// The messages of the retrieval protocol: lines of UTF-8 text, each ended by `\n`, the first
/// naming the message type so a signature over one kind can never be taken for another.
public enum RetrievalMessages {
    /// What the client signs (ECDSA P-256, SHA-256), and the seal's associated data.
    public static func request(jobID: JobID, nonce: String, resultHash: String, sealingKey: SealingKey?) -> Data {
        var text = """
            fhe-jobs fhe-result v1
            job: \(jobID.uuidString.lowercased())
            nonce: \(nonce)
            result: \(resultHash.lowercased())

            """
        if let sealingKey { text += "sealing-key: \(SHA256.hash(data: sealingKey.bytes).hexString)\n" }
        return Data(text.utf8)
    }

    /// What the service signs (Ed25519) over its answer. `suite` is nil in client-key mode;
    /// `sealedDigest` is the hex SHA-256 of enc || ciphertext (or of the result ciphertext);
    /// `confirmation` the ledger entry's or transaction's hash, or nil while unconfirmed.
    public static func response(jobID: JobID, nonce: String, resultHash: String, suite: HPKESuiteIDs?,
                                sealedDigest: String, confirmation: String?) -> Data {
        Data("""
            fhe-jobs fhe-result-response v1
            job: \(jobID.uuidString.lowercased())
            nonce: \(nonce)
            result: \(resultHash.lowercased())
            suite: \(suite?.line ?? "none")
            sealed: \(sealedDigest)
            confirmation: \(confirmation ?? "none")

            """.utf8)
    }

    /// The HPKE `info`: `fhe-jobs fhe-result v1` and the lowercase job id, one space between.
    public static func info(jobID: JobID) -> Data { Data("fhe-jobs fhe-result v1 \(jobID.uuidString.lowercased())".utf8) }

    /// Reads `clientSignature`: hex (an optional `0x`) of exactly 64 bytes read as r || s, or
    /// else of a strict DER encoding. nil if it is neither.
    public static func signature(_ text: String) -> P256.Signing.ECDSASignature? {
        var hex = Substring(text)
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") { hex = hex.dropFirst(2) }
        guard let bytes = Data(hexString: hex) else { return nil }
        if bytes.count == 64 { return try? P256.Signing.ECDSASignature(rawRepresentation: bytes) }
        return try? P256.Signing.ECDSASignature(derRepresentation: bytes)
    }
}

/// The IANA ids of an HPKE suite (RFC 9180 section 7): KEM, KDF, AEAD.
public struct HPKESuiteIDs: Sendable, Equatable, Codable {
    public var kem: UInt16
    public var kdf: UInt16
    public var aead: UInt16

    public init(kem: UInt16, kdf: UInt16, aead: UInt16) { self.kem = kem; self.kdf = kdf; self.aead = aead }

    /// DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
    public static let p256 = HPKESuiteIDs(kem: 0x0010, kdf: 0x0001, aead: 0x0002)
    /// X-Wing (ML-KEM-768 and X25519), HKDF-SHA256, AES-256-GCM.
    public static let xWing = HPKESuiteIDs(kem: 0x647A, kdf: 0x0001, aead: 0x0002)

    /// `0010,0001,0002`: four lowercase hex digits each.
    public var line: String { [kem, kdf, aead].map { String(format: "%04x", $0) }.joined(separator: ",") }
}

/// The answer to a retrieval.
public struct ResultRetrievalAnswer: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        /// Network-key mode: the outputs' JSON sealed with HPKE.
        case sealed(suite: HPKESuiteIDs, enc: Data, ciphertext: Data)
        /// Client-key mode: the result's encrypted-values file, which only the owner can open.
        case ciphertext(Data)
    }

    public var jobID: JobID
    public var resultHash: String
    public var payload: Payload
    public var confirmation: Confirmation?
    /// Ed25519 over `RetrievalMessages.response`, by the service's signing key.
    public var serviceSignature: Data

    public init(jobID: JobID, resultHash: String, payload: Payload, confirmation: Confirmation?, serviceSignature: Data) {
        self.jobID = jobID; self.resultHash = resultHash; self.payload = payload
        self.confirmation = confirmation; self.serviceSignature = serviceSignature
    }
}

/// How consuming a retrieval nonce went.
public enum NonceConsumption: Sendable, Equatable {
    case consumed
    /// The nonce was used before for this job.
    case reused
    /// The job already holds the most used nonces it may.
    case limitReached
}

extension Data {
    /// Bytes from an even number of hex digits (either case); nil otherwise.
    init?(hexString: some StringProtocol) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = value(utf8[i]), let low = value(utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        self.init(bytes)
    }
}
