import Crypto
import Foundation
import Jobs

/// The fields of an `fhe_compute` payload, read and checked:
///
///     algorithm              the FHEPrograms program's name
///     parameters             the algorithm's parameters, plus the service's own:
///                            fhe_scheme ("tfhe"), security_level (the bits the key set's
///                            parameter set gives), timeout (seconds)
///     client_public_key      the owner's P-256 public key (SPKI PEM) that signs retrievals
///     encrypted_data         the encrypted-values file, base64 (bounded by the body limit), or
///     encrypted_data_id      a file uploaded before with POST /v1/fhe/ciphertexts, or
///     encrypted_data_url     a URL the service fetches at submission (allowed hosts only),
///     encrypted_data_sha256  optionally pinning the file's SHA-256 (any of the three forms)
///     server_key_id          client-key mode: the uploaded server key to compute under
struct ConfidentialPayload {
    enum Source: Equatable {
        case inline(Data)
        case uploaded(String)
        case url(String)
    }

    var algorithm: String
    /// The algorithm's own parameters (the service's removed), as a JSON object.
    var programParameters: JSONValue
    /// `payload.parameters` as given (what the result digest commits to).
    var parameters: JSONValue
    var clientPublicKeyPEM: String
    var source: Source
    var pinnedSHA256: String?
    var serverKeyID: String?

    /// The service's own fields of `payload.parameters`.
    static let serviceParameters: Set<String> = ["fhe_scheme", "security_level", "timeout"]

    init(_ payload: JSONValue, securityBits: Int?) throws(JobServiceError) {
        guard let algorithm = payload["algorithm"]?.stringValue else {
            throw .invalidRequest("payload.algorithm must be a string naming the algorithm")
        }
        self.algorithm = algorithm
        parameters = payload["parameters"] ?? .object([:])
        guard var program = parameters.objectValue else { throw .invalidRequest("payload.parameters must be an object") }
        if let scheme = program["fhe_scheme"] {
            guard scheme == .string("tfhe") else {
                throw .refused(Refusal("UNSUPPORTED_FHE_PARAMETERS", status: 422, "payload.parameters.fhe_scheme: only \"tfhe\" is offered"))
            }
        }
        if let level = program["security_level"] {
            guard let bits = level.integerValue else {
                throw .invalidRequest("payload.parameters.security_level must be a whole number of bits")
            }
            guard let offered = securityBits, bits <= offered else {
                let offer = securityBits.map { "\($0)-bit" } ?? "an insecure test"
                throw .refused(Refusal("UNSUPPORTED_FHE_PARAMETERS", status: 422,
                                       "payload.parameters.security_level \(bits) is not offered: this service's parameter set is \(offer) one"))
            }
        }
        for name in Self.serviceParameters { program[name] = nil }
        programParameters = .object(program)

        guard let pem = payload["client_public_key"]?.stringValue else {
            throw .refused(Refusal("INVALID_CLIENT_PUBLIC_KEY", status: 400,
                                   "payload.client_public_key is required: the owner's P-256 public key as SPKI PEM, which signs result retrievals"))
        }
        // PEM with literal "\n" escapes (as the seed's curl example writes it) is read as lines.
        let normalized = pem.replacingOccurrences(of: "\\n", with: "\n")
        guard (try? P256.Signing.PublicKey(pemRepresentation: normalized)) != nil else {
            throw .refused(Refusal("INVALID_CLIENT_PUBLIC_KEY", status: 400,
                                   "payload.client_public_key is not a P-256 public key in SPKI PEM (-----BEGIN PUBLIC KEY-----)"))
        }
        clientPublicKeyPEM = normalized

        let inline = payload["encrypted_data"], uploaded = payload["encrypted_data_id"], url = payload["encrypted_data_url"]
        switch (inline, uploaded, url) {
        case (let value?, nil, nil):
            guard let text = value.stringValue, let bytes = Data(base64Encoded: text) else {
                throw .refused(Refusal("MALFORMED_CIPHERTEXT", status: 400, "payload.encrypted_data must be standard base64"))
            }
            source = .inline(bytes)
        case (nil, let value?, nil):
            guard let id = value.stringValue, FHEBlobs.isValidID(id) else {
                throw .invalidRequest("payload.encrypted_data_id must be the id (64 lowercase hex digits) POST /v1/fhe/ciphertexts answered")
            }
            source = .uploaded(id)
        case (nil, nil, let value?):
            guard let text = value.stringValue, text.utf8.count <= 2048 else {
                throw .invalidRequest("payload.encrypted_data_url must be a URL of at most 2048 characters")
            }
            source = .url(text)
        default:
            throw .refused(Refusal("MISSING_ENCRYPTED_DATA", status: 400,
                                   "give the encrypted inputs exactly one way: encrypted_data (base64), encrypted_data_id or encrypted_data_url"))
        }
        if let pin = payload["encrypted_data_sha256"] {
            guard let hex = pin.stringValue?.lowercased(), FHEBlobs.isValidID(hex) else {
                throw .invalidRequest("payload.encrypted_data_sha256 must be 64 hex digits")
            }
            pinnedSHA256 = hex
        }
        if let key = payload["server_key_id"] {
            guard let id = key.stringValue, FHEBlobs.isValidID(id) else {
                throw .invalidRequest("payload.server_key_id must be the id (64 lowercase hex digits) POST /v1/fhe/server-keys answered")
            }
            serverKeyID = id
        }
    }

    /// The payload as stored: the inputs by their blob id, never their bytes.
    func stored(inputBlob: String, url: String?) -> JSONValue {
        var fields: [String: JSONValue] = [
            "algorithm": .string(algorithm), "parameters": parameters,
            "client_public_key": .string(clientPublicKeyPEM), "encrypted_data_id": .string(inputBlob),
        ]
        if let url { fields["encrypted_data_url"] = .string(url) }
        if let serverKeyID { fields["server_key_id"] = .string(serverKeyID) }
        return .object(fields)
    }
}
