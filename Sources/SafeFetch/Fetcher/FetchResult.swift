import Crypto
import Foundation

/// What a successful fetch delivered to its consumer.
public struct FetchResult: Sendable, Equatable {
    /// The bytes handed to the consumer.
    public let byteCount: Int
    /// Their SHA-256, lowercase hex.
    public let sha256: String

    public init(byteCount: Int, sha256: String) {
        self.byteCount = byteCount
        self.sha256 = sha256
    }
}

/// Counts and hashes a body as it streams, and stops it at the limit: a chunk that would take
/// the count past the limit is refused before anyone sees it.
struct BodyMeter {
    let limit: Int
    private(set) var count = 0
    private var hash = SHA256()

    init(limit: Int) {
        self.limit = limit
    }

    /// How many more bytes the limit admits, plus one, so that a reader asking for this many
    /// learns that a body is too large without reading further.
    var readAllowance: Int { limit - count + 1 }

    mutating func admit(_ chunk: Data) throws(FetchError) {
        guard chunk.count <= limit - count else { throw .tooLarge(limit: limit) }
        hash.update(data: chunk)
        count += chunk.count
    }

    /// The result, once the body has ended, checked against the client's digest if it gave one.
    consuming func finish(expected: String?) throws(FetchError) -> FetchResult {
        let actual = hash.finalize().map { String(format: "%02x", $0) }.joined()
        if let expected {
            let normalized = expected.trimmingCharacters(in: .whitespaces).lowercased()
            guard normalized == actual else { throw .checksumMismatch(expected: expected, actual: actual) }
        }
        return FetchResult(byteCount: count, sha256: actual)
    }
}
