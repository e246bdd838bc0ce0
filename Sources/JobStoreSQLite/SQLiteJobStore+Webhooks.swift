import Foundation
import GRDB
import Jobs

extension SQLiteJobStore {
    public func leaseWebhookDelivery(owner: String, leaseDuration: TimeInterval, now: Date) async throws -> WebhookDelivery? {
        let t = now.microsecondsSince1970
        let expires = now.addingTimeInterval(leaseDuration).microsecondsSince1970
        // One writer at a time: the select and the update are one statement, so no two
        // dispatchers lease one delivery. A delivery waits while an earlier one of its job is
        // pending, so a job's deliveries go in order.
        return try await pool.write { db in
            try Row.fetchOne(db, sql: """
                UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
                WHERE rowid = (
                    SELECT d.rowid FROM webhook_deliveries d
                    WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND (d.lease_expires_at IS NULL OR d.lease_expires_at < ?)
                      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                                      WHERE e.job_id = d.job_id AND e.sequence < d.sequence AND e.state = 'pending')
                    ORDER BY d.next_attempt_at, d.job_id, d.sequence LIMIT 1)
                RETURNING *
                """, arguments: [owner, expires, t, t]).map { try Self.webhookDelivery(from: $0) }
        }
    }

    public func recordWebhookAttempt(jobID: JobID, sequence: Int, owner: String, attempt: WebhookAttempt,
                                     next: WebhookNextStep, now: Date) async throws -> Bool {
        let (state, nextAt, finished) = Self.columns(of: next, now: now)
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE webhook_deliveries
                SET state = ?, next_attempt_at = coalesce(?, next_attempt_at), finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
                WHERE job_id = ? AND sequence = ? AND state = 'pending' AND lease_owner = ?
                """, arguments: [state, nextAt, finished, jobID.uuidString, sequence, owner])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: """
                INSERT INTO webhook_attempts (job_id, sequence, number, at, status_code, error, duration_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [jobID.uuidString, sequence, attempt.number, attempt.at.microsecondsSince1970, attempt.statusCode,
                                 attempt.error, attempt.durationSeconds])
            return true
        }
    }

    public func webhookDeliveries(jobID: JobID) async throws -> [WebhookDelivery] {
        try await pool.read { db in
            var deliveries = try Row.fetchAll(db, sql: "SELECT * FROM webhook_deliveries WHERE job_id = ? ORDER BY sequence",
                                              arguments: [jobID.uuidString]).map { try Self.webhookDelivery(from: $0) }
            let attempts = try Row.fetchAll(db, sql: "SELECT * FROM webhook_attempts WHERE job_id = ? ORDER BY sequence, number",
                                            arguments: [jobID.uuidString])
            for row in attempts {
                let sequence: Int = row["sequence"]
                guard let index = deliveries.firstIndex(where: { $0.sequence == sequence }) else { continue }
                deliveries[index].history.append(WebhookAttempt(
                    number: row["number"], at: Date(microsecondsSince1970: row["at"]), statusCode: row["status_code"],
                    error: row["error"], durationSeconds: row["duration_seconds"]))
            }
            return deliveries
        }
    }

    public func countPendingWebhookDeliveries() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'") ?? 0 }
    }

    /// The state, next attempt time and finish time a step writes (times in microseconds).
    static func columns(of next: WebhookNextStep, now: Date) -> (state: String, nextAt: Int64?, finished: Int64?) {
        switch next {
        case .delivered: ("delivered", nil, now.microsecondsSince1970)
        case .giveUp: ("failed", nil, now.microsecondsSince1970)
        case .retry(let at): ("pending", at.microsecondsSince1970, nil)
        }
    }

    static func webhookDelivery(from row: Row) throws -> WebhookDelivery {
        guard let jobID = UUID(uuidString: row["job_id"]), let state = WebhookDelivery.State(rawValue: row["state"]) else {
            throw DatabaseError(message: "corrupt webhook delivery row \(row["job_id"] as String? ?? "?")")
        }
        return WebhookDelivery(jobID: jobID, sequence: row["sequence"], event: row["event"], state: state, attempts: row["attempts"],
                               createdAt: Date(microsecondsSince1970: row["created_at"]),
                               nextAttemptAt: Date(microsecondsSince1970: row["next_attempt_at"]), leaseOwner: row["lease_owner"],
                               leaseExpiresAt: (row["lease_expires_at"] as Int64?).map(Date.init(microsecondsSince1970:)),
                               finishedAt: (row["finished_at"] as Int64?).map(Date.init(microsecondsSince1970:)))
    }
}
