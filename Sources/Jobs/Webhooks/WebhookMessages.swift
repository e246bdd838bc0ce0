import Crypto
import Foundation

/// The bytes of a webhook delivery and what its signature covers.
///
/// The body is a documented subset of the job (`GET /v1/jobs/{jobId}` without `payload`,
/// `result`, `fhe` and `progress`): no input, no result, nothing confidential; the receiver
/// fetches the rest with its own token. It is built at each attempt from the job as it is then
/// (`event` and `occurredAt` name the transition; `job.status` may have moved on since). The signature is Ed25519 by the service's signing key
/// (the one that signs the ledger, `serviceSigningKey` of `GET /v1/fhe/keys`) over
///
///     fhe-jobs webhook v1
///     <Webhook-Timestamp, seconds since 1970>
///     <the body's bytes>
///
/// The context line keeps a webhook signature from standing for any other message the service
/// signs (`LedgerMessages`), and the timestamp lets a receiver refuse an old delivery replayed
/// to it (check it is within a few minutes of its own clock, and remember `Webhook-Id`s seen).
public enum WebhookMessages {
    public static let contextLine = "fhe-jobs webhook v1"

    /// The header names, as the receiver reads them.
    public static let idHeader = "Webhook-Id"
    public static let timestampHeader = "Webhook-Timestamp"
    public static let signatureHeader = "Webhook-Signature"

    /// The signed message for a body sent at `timestamp`.
    public static func signedMessage(timestamp: Int64, body: Data) -> Data {
        var message = Data("\(contextLine)\n\(timestamp)\n".utf8)
        message.append(body)
        return message
    }

    /// `Webhook-Signature`'s value: `ed25519=` and the base64 signature.
    public static func signature(timestamp: Int64, body: Data, by key: Curve25519.Signing.PrivateKey) throws -> String {
        "ed25519=" + (try key.signature(for: signedMessage(timestamp: timestamp, body: body))).base64EncodedString()
    }

    /// Whether `header` (a `Webhook-Signature` value) is the service's signature of `body` at
    /// `timestamp`: what a receiver checks, with the key it pinned.
    public static func isValid(signatureHeader header: String, timestamp: Int64, body: Data,
                               key: Curve25519.Signing.PublicKey) -> Bool {
        guard header.hasPrefix("ed25519="), let raw = Data(base64Encoded: String(header.dropFirst("ed25519=".count))) else { return false }
        return key.isValidSignature(raw, for: signedMessage(timestamp: timestamp, body: body))
    }

    /// The body of `delivery` of `job` (canonical JSON: sorted keys, no whitespace).
    public static func body(of delivery: WebhookDelivery, job: Job) -> Data {
        var summary: [String: JSONValue] = [
            "id": .string(job.id.uuidString.lowercased()), "type": .string(job.type.rawValue), "status": .string(job.status.rawValue),
            "priority": .string(job.priority.rawValue), "useFHE": .bool(job.useFHE), "tenant": .string(job.tenant),
            "owner": .string(job.owner), "createdAt": time(job.createdAt), "updatedAt": time(job.updatedAt),
            "attempts": .number(Double(job.attempts)), "maxAttempts": .number(Double(job.maxAttempts)),
        ]
        if let startedAt = job.startedAt { summary["startedAt"] = time(startedAt) }
        if let finishedAt = job.finishedAt { summary["finishedAt"] = time(finishedAt) }
        if let resultHash = job.resultHash { summary["resultHash"] = .string(resultHash) }
        if let failure = job.failure, job.status == .failed {
            summary["error"] = .object(["code": .string(failure.code), "message": .string(failure.message)])
        }
        if let c = job.confirmation {
            var confirmation: [String: JSONValue] = ["kind": .string(c.kind.rawValue), "reference": .string(c.reference),
                                                     "confirmedAt": time(c.confirmedAt)]
            if let block = c.blockNumber { confirmation["blockNumber"] = .number(Double(block)) }
            summary["confirmation"] = .object(confirmation)
        }
        return JSONValue.object([
            "event": .string(delivery.event), "deliveryId": .string(delivery.deliveryID),
            "occurredAt": time(delivery.createdAt), "job": .object(summary),
        ]).canonicalData()
    }

    private static func time(_ date: Date) -> JSONValue {
        .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
