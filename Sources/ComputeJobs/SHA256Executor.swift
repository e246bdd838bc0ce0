import Crypto
import Foundation
import Jobs

/// `sha256`: the SHA-256 digest of up to 1 MiB.
///
/// Input `{"data": "text"}` (hashed as UTF-8) or `{"base64": "..."}` (hashed as the decoded
/// bytes), exactly one of the two. Output `{"sha256": "<64 hex digits>", "bytes": N}`.
public struct SHA256Executor: JobExecutor {
    public static let maxBytes = 1 << 20

    public let algorithm = "sha256"

    public init() {}

    public func validate(input: JSONValue) throws(JobInputError) {
        _ = try parse(input)
    }

    public func run(input: JSONValue) async throws -> JSONValue {
        let bytes = try parse(input)
        return .object([
            "sha256": .string(SHA256.hash(data: bytes).hexString),
            "bytes": .number(Double(bytes.count)),
        ])
    }

    func parse(_ input: JSONValue) throws(JobInputError) -> Data {
        let fields = try InputFields(input, algorithm: algorithm, known: ["data", "base64"])
        switch (fields["data"], fields["base64"]) {
        case (nil, nil):
            throw JobInputError("input.data (text) or input.base64 (bytes) is required")
        case (.some, .some):
            throw JobInputError("input must have exactly one of data and base64, not both")
        case (let data?, nil):
            guard let text = data.stringValue else { throw JobInputError("input.data must be a string") }
            guard text.utf8.count <= Self.maxBytes else {
                throw JobInputError("input.data must be at most 1 MiB (\(Self.maxBytes) bytes) of UTF-8")
            }
            return Data(text.utf8)
        case (nil, let encoded?):
            guard let text = encoded.stringValue else { throw JobInputError("input.base64 must be a string") }
            // Padded base64 of n bytes is 4 * ceil(n / 3) characters: anything longer is too big
            // (or not valid base64), and is refused before it is decoded.
            guard text.utf8.count <= 4 * ((Self.maxBytes + 2) / 3) else { throw Self.base64TooLarge }
            guard let bytes = Data(base64Encoded: text) else {
                throw JobInputError("input.base64 must be standard base64 (A-Z, a-z, 0-9, +, /, padded with =)")
            }
            guard bytes.count <= Self.maxBytes else { throw Self.base64TooLarge }
            return bytes
        }
    }

    private static let base64TooLarge = JobInputError("input.base64 must decode to at most 1 MiB (\(maxBytes) bytes)")
}
