import Crypto
import Foundation

/// A job as a client submits it, before validation.
public struct JobSubmission: Sendable, Equatable {
    public var type: JobType
    public var payload: JSONValue
    public var priority: Priority
    public var useFHE: Bool

    public init(type: JobType, payload: JSONValue, priority: Priority = .normal, useFHE: Bool = false) {
        self.type = type; self.payload = payload; self.priority = priority; self.useFHE = useFHE
    }

    /// SHA-256 of the submission's canonical JSON: two requests with one idempotency key are
    /// "the same" exactly when their fingerprints are equal.
    public var fingerprint: String {
        let canonical = JSONValue.object([
            "type": .string(type.rawValue), "payload": payload,
            "priority": .string(priority.rawValue), "useFHE": .bool(useFHE),
        ]).canonicalData()
        return SHA256.hash(data: canonical).hexString
    }
}

extension Sequence where Element == UInt8 {
    public var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
extension Digest {
    public var hexString: String { Array(self).hexString }
}
