import Crypto
import Foundation
import Jobs

/// Reads the service's local ledger over the API (`GET /v1/ledger/head`, `/v1/ledger/entries`)
/// and checks it with `LedgerChainCheck` against the service's pinned key, a page at a time.
public struct LedgerClient: Sendable {
    public let client: ServiceClient
    public let serviceKey: Curve25519.Signing.PublicKey
    /// Entries asked for per request (the API's maximum).
    static let pageSize: Int64 = 1000

    public init(client: ServiceClient, serviceKey: Curve25519.Signing.PublicKey) {
        self.client = client; self.serviceKey = serviceKey
    }

    /// The signed head and the key the service says signed it (base64), not yet checked.
    public static func head(_ client: ServiceClient) async throws -> (head: LedgerHead, signingKey: String?) {
        let object = try await client.send("GET", "/v1/ledger/head").object()
        guard let size = (object["size"] as? NSNumber)?.int64Value, let signature = object["signature"] as? String else {
            throw ClientError("the ledger head is not {size, head, signature, signingKey}")
        }
        return (LedgerHead(size: size, headHash: object["head"] as? String, signature: signature), object["signingKey"] as? String)
    }

    /// Checks the ledger from the entry `toInclude` needs (or from entry 1) up to `head`,
    /// passing through `seen` (the newest head seen before), and hands each entry to `visit`.
    /// Throws `LedgerVerificationError` for a ledger that does not verify.
    public func verify(head: LedgerHead, seen: LedgerHead?, toInclude sequence: Int64?,
                       visit: (LedgerEntry) throws -> Void = { _ in }) async throws {
        var check = try LedgerChainCheck(publicKey: serviceKey, head: head, seen: seen)
        var next = check.firstNeeded(toInclude: sequence ?? 1)
        while next <= head.size {
            let limit = min(Self.pageSize, head.size - next + 1)
            let page = try await entries(from: next, limit: limit)
            guard !page.isEmpty else { throw LedgerVerificationError.headMismatch(size: head.size) }
            for entry in page {
                try check.append(entry)
                try visit(entry)
            }
            next = page[page.count - 1].sequence + 1
        }
        try check.finish()
    }

    func entries(from: Int64, limit: Int64) async throws -> [LedgerEntry] {
        let object = try await client.send("GET", "/v1/ledger/entries?from=\(from)&limit=\(limit)").object()
        guard let items = object["entries"] as? [[String: Any]] else { throw ClientError("the ledger's entries are not {entries: [...]}") }
        return try items.map(Self.entry)
    }

    static func entry(_ item: [String: Any]) throws(ClientError) -> LedgerEntry {
        guard let sequence = (item["sequence"] as? NSNumber)?.int64Value, let job = (item["jobId"] as? String).flatMap(UUID.init),
              let resultHash = item["resultHash"] as? String, let status = (item["status"] as? String).flatMap(JobStatus.init),
              let entryHash = item["entryHash"] as? String, let signature = item["signature"] as? String,
              let recordedAt = (item["recordedAt"] as? String).flatMap(Self.date) else {
            throw ClientError("a ledger entry is not {sequence, jobId, resultHash, status, previousHash, entryHash, signature, recordedAt}")
        }
        return LedgerEntry(sequence: sequence, jobID: job, resultHash: resultHash, status: status, previousHash: item["previousHash"] as? String,
                           entryHash: entryHash, signature: signature, recordedAt: recordedAt)
    }

    /// RFC 3339, with or without fractional seconds (format styles are values: nothing is
    /// allocated per entry of a long ledger).
    static func date(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
