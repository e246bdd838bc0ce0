import Crypto
import Foundation

/// Why a ledger did not verify, with the entry where it broke.
public enum LedgerVerificationError: Error, Equatable, CustomStringConvertible {
    case badHeadSignature
    /// The ledger holds fewer entries than a head seen before: entries were removed.
    case truncated(size: Int64, seenSize: Int64)
    /// The entry at a seen head's place is not that head: the ledger was rewritten.
    case rewritten(sequence: Int64)
    /// Entries are missing, out of order, or do not link to the entry before them.
    case brokenChain(sequence: Int64)
    case badHash(sequence: Int64)
    case badSignature(sequence: Int64)
    /// The entries end elsewhere than the signed head says.
    case headMismatch(size: Int64)

    public var description: String {
        switch self {
        case .badHeadSignature: "the ledger head is not signed by the service's key"
        case .truncated(let size, let seen): "the ledger holds \(size) entries but a head of \(seen) was seen before: entries were removed"
        case .rewritten(let sequence): "entry \(sequence) is not the one a head seen before named: the ledger was rewritten"
        case .brokenChain(let sequence): "entry \(sequence) does not follow the entry before it"
        case .badHash(let sequence): "entry \(sequence)'s hash does not match its fields"
        case .badSignature(let sequence): "entry \(sequence) is not signed by the service's key"
        case .headMismatch(let size): "the entries do not end at the signed head of \(size) entries"
        }
    }
}

/// Checks a run of consecutive ledger entries against the service's key and a signed head,
/// one entry at a time (so a ledger of any length verifies in constant memory):
///
///     var check = try LedgerChainCheck(publicKey: key, head: head, seen: pinnedHead)
///     for entry in entries { try check.append(entry) }    // from `check.firstNeeded` to head.size
///     try check.finish()
///
/// Every entry's hash is recomputed from its fields and its signature checked, each links to
/// the one before, and the last is the head's. With the newest head seen before (`seen`), the
/// head must not be smaller and the run must pass through it unchanged, so a ledger cut back
/// or rewritten below a head once seen fails.
public struct LedgerChainCheck: Sendable {
    public let head: LedgerHead
    let publicKey: Curve25519.Signing.PublicKey
    let seen: LedgerHead?
    private var last: (sequence: Int64, hash: String)?

    public init(publicKey: Curve25519.Signing.PublicKey, head: LedgerHead, seen: LedgerHead?) throws(LedgerVerificationError) {
        guard head.isSigned(by: publicKey), head.size >= 0, (head.size == 0) == (head.headHash == nil) else { throw .badHeadSignature }
        if let seen {
            guard seen.size <= head.size else { throw .truncated(size: head.size, seenSize: seen.size) }
            if seen.size == head.size, seen.headHash != head.headHash { throw .rewritten(sequence: seen.size) }
        }
        self.publicKey = publicKey; self.head = head; self.seen = seen
    }

    /// Where a run must start to prove `sequence` is in the ledger: at it, or earlier, at the
    /// entry after the seen head (whose link shows the seen head unchanged).
    public func firstNeeded(toInclude sequence: Int64) -> Int64 {
        max(1, min(sequence, (seen?.size ?? sequence) + 1))
    }

    /// Takes the next entry of the run.
    public mutating func append(_ entry: LedgerEntry) throws(LedgerVerificationError) {
        if let last {
            guard entry.sequence == last.sequence + 1, entry.previousHash == last.hash else { throw .brokenChain(sequence: entry.sequence) }
        } else {
            // The run may start anywhere up to the seen head's place, so that it covers it.
            let latestStart = (seen?.size ?? head.size) + 1
            guard entry.sequence >= 1, entry.sequence <= max(1, latestStart) else { throw .brokenChain(sequence: entry.sequence) }
            guard (entry.sequence == 1) == (entry.previousHash == nil) else { throw .brokenChain(sequence: entry.sequence) }
            if let seen, entry.sequence == seen.size + 1, entry.previousHash != seen.headHash { throw .rewritten(sequence: seen.size) }
        }
        guard entry.sequence <= head.size else { throw .headMismatch(size: head.size) }
        try Self.checkSigned(entry, by: publicKey)
        if let seen, entry.sequence == seen.size, entry.entryHash != seen.headHash { throw .rewritten(sequence: seen.size) }
        last = (entry.sequence, entry.entryHash)
    }

    /// Ends the run: it must have reached the head.
    public func finish() throws(LedgerVerificationError) {
        guard head.size > 0 else { return }
        guard let last, last.sequence == head.size, last.hash == head.headHash else { throw .headMismatch(size: head.size) }
    }

    /// One entry on its own: its hash from its fields, its signature by the key (entries made
    /// before context lines use the legacy form, `LedgerMessages.legacyEntryHash`).
    public static func checkSigned(_ entry: LedgerEntry, by key: Curve25519.Signing.PublicKey) throws(LedgerVerificationError) {
        guard let signature = Data(base64Encoded: entry.signature) else { throw .badSignature(sequence: entry.sequence) }
        let message = LedgerMessages.entry(sequence: entry.sequence, jobID: entry.jobID, resultHash: entry.resultHash,
                                           status: entry.status, previousHash: entry.previousHash)
        if SHA256.hash(data: message).hexString == entry.entryHash {
            guard key.isValidSignature(signature, for: message) else { throw .badSignature(sequence: entry.sequence) }
            return
        }
        let legacy = LedgerMessages.legacyEntryHash(sequence: entry.sequence, jobID: entry.jobID, resultHash: entry.resultHash,
                                                    status: entry.status, previousHash: entry.previousHash)
        guard legacy == entry.entryHash else { throw .badHash(sequence: entry.sequence) }
        guard key.isValidSignature(signature, for: Data(legacy.utf8)) else { throw .badSignature(sequence: entry.sequence) }
    }
}
