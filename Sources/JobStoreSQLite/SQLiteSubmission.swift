import Foundation
import Jobs

/// One submission as the batch transaction takes it: `insertJob`'s arguments, with the job's
/// payload and confidential record already encoded (an encoding failure is its caller's alone).
struct SQLiteSubmission: Sendable {
    /// The most rows one transaction writes, and the most bytes of payloads, confidential
    /// records and stored responses: a batch holds SQLite's one writer for a bounded time.
    static let maxBatchRows = 64
    static let maxBatchBytes = 1 << 20

    var job: Job
    var quota: Quota
    var idempotency: (claim: IdempotencyClaim, response: StoredResponse)?
    var audit: AuditRecord?
    var payload: String
    var fhe: String?

    init(job: Job, quota: Quota, idempotency: (claim: IdempotencyClaim, response: StoredResponse)?, audit: AuditRecord?) throws {
        self.job = job; self.quota = quota; self.idempotency = idempotency; self.audit = audit
        payload = String(decoding: job.payload.canonicalData(), as: UTF8.self)
        fhe = try job.fhe.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
    }

    /// Roughly what the row writes, for the batch's byte cap.
    var bytes: Int { payload.utf8.count + (fhe?.utf8.count ?? 0) + (idempotency?.response.body.count ?? 0) + 512 }
}
