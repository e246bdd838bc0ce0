import Crypto
import Foundation

/// A job as a client submits it, before validation.
public struct JobSubmission: Sendable, Equatable {
    public var type: JobType
    public var payload: JSONValue
    public var priority: Priority
    public var useFHE: Bool
    /// Where the service POSTs the job's completion (`callbackUrl`), if anywhere.
    public var callbackURL: String?

    public init(type: JobType, payload: JSONValue, priority: Priority = .normal, useFHE: Bool = false, callbackURL: String? = nil) {
        self.type = type; self.payload = payload; self.priority = priority; self.useFHE = useFHE; self.callbackURL = callbackURL
    }

    /// SHA-256 of the submission's canonical JSON: two requests with one idempotency key are
    /// "the same" exactly when their fingerprints are equal.
    public var fingerprint: String {
        var fields: [String: JSONValue] = [
            "type": .string(type.rawValue), "payload": payload,
            "priority": .string(priority.rawValue), "useFHE": .bool(useFHE),
        ]
        // Only when given, so fingerprints of submissions without one stay what they were.
        if let callbackURL { fields["callbackUrl"] = .string(callbackURL) }
        let canonical = JSONValue.object(fields).canonicalData()
        return SHA256.hash(data: canonical).hexString
    }
}

extension Sequence where Element == UInt8 {
    public var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
extension Digest {
    public var hexString: String { Array(self).hexString }
}
