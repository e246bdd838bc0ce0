import Foundation
import Jobs
import PostgresNIO

extension PostgresJobStore {
    public func leaseWebhookDelivery(owner: String, leaseDuration: TimeInterval, now: Date) async throws -> WebhookDelivery? {
        let t = now.microsecondsSince1970
        let expires = now.addingTimeInterval(leaseDuration).microsecondsSince1970
        // As the job queue: SKIP LOCKED passes over a delivery another replica is leasing right
        // now, and the re-check under the row lock (READ COMMITTED) passes over one whose lease
        // was just taken. A delivery waits while an earlier one of its job is pending.
        return try await client.rows("""
            UPDATE webhook_deliveries SET lease_owner = \(owner), lease_expires_at = \(expires), attempts = attempts + 1
            WHERE (job_id, sequence) = (
                SELECT d.job_id, d.sequence FROM webhook_deliveries d
                WHERE d.state = 'pending' AND d.next_attempt_at <= \(t) AND (d.lease_expires_at IS NULL OR d.lease_expires_at < \(t))
                  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                                  WHERE e.job_id = d.job_id AND e.sequence < d.sequence AND e.state = 'pending')
                ORDER BY d.next_attempt_at, d.job_id, d.sequence LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, logger: logger).first.map(WebhookDelivery.init(row:))
    }

    public func recordWebhookAttempt(jobID: JobID, sequence: Int, owner: String, attempt: WebhookAttempt,
                                     next: WebhookNextStep, now: Date) async throws -> Bool {
        let (state, nextAt, finished): (String, Int64?, Int64?) = switch next {
        case .delivered: ("delivered", nil, now.microsecondsSince1970)
        case .giveUp: ("failed", nil, now.microsecondsSince1970)
        case .retry(let at): ("pending", at.microsecondsSince1970, nil)
        }
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            let updated = try await connection.rows("""
                UPDATE webhook_deliveries
                SET state = \(state), next_attempt_at = coalesce(\(nextAt)::bigint, next_attempt_at), finished_at = \(finished)::bigint,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE job_id = \(jobID) AND sequence = \(sequence)::int AND state = 'pending' AND lease_owner = \(owner)
                RETURNING job_id
                """, logger: logger)
            guard !updated.isEmpty else { return false }
            try await connection.query("""
                INSERT INTO webhook_attempts (job_id, sequence, number, at, status_code, error, duration_seconds)
                VALUES (\(jobID), \(sequence)::int, \(attempt.number)::int, \(attempt.at.microsecondsSince1970),
                        \(attempt.statusCode)::int, \(attempt.error)::text, \(attempt.durationSeconds))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            return true
        }
    }

    public func webhookDeliveries(jobID: JobID) async throws -> [WebhookDelivery] {
        var deliveries = try await client.rows("""
            SELECT * FROM webhook_deliveries WHERE job_id = \(jobID) ORDER BY sequence
            """, logger: logger).map(WebhookDelivery.init(row:))
        for row in try await client.rows("""
            SELECT sequence, number, at, status_code, error, duration_seconds FROM webhook_attempts
            WHERE job_id = \(jobID) ORDER BY sequence, number
            """, logger: logger) {
            let (sequence, number, at, status, error, seconds) = try row.decode((Int, Int, Int64, Int?, String?, Double).self)
            guard let index = deliveries.firstIndex(where: { $0.sequence == sequence }) else { continue }
            deliveries[index].history.append(WebhookAttempt(number: number, at: Date(microsecondsSince1970: at), statusCode: status,
                                                            error: error, durationSeconds: seconds))
        }
        return deliveries
    }

    public func countPendingWebhookDeliveries() async throws -> Int {
        try await client.rows("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'", logger: logger)
            .first?.decode(Int.self) ?? 0
    }
}

extension WebhookDelivery {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        func date(_ column: String) throws -> Date? {
            try cells[column].decode(Int64?.self).map(Date.init(microsecondsSince1970:))
        }
        let jobID = try cells["job_id"].decode(UUID.self)
        let stateName = try cells["state"].decode(String.self)
        guard let state = State(rawValue: stateName) else {
            throw CorruptRowError(table: "webhook_deliveries", key: jobID.uuidString, reason: "unknown state \(stateName)")
        }
        self.init(jobID: jobID, sequence: try cells["sequence"].decode(Int.self), event: try cells["event"].decode(String.self),
                  state: state, attempts: try cells["attempts"].decode(Int.self),
                  createdAt: Date(microsecondsSince1970: try cells["created_at"].decode(Int64.self)),
                  nextAttemptAt: Date(microsecondsSince1970: try cells["next_attempt_at"].decode(Int64.self)),
                  leaseOwner: try cells["lease_owner"].decode(String?.self), leaseExpiresAt: try date("lease_expires_at"),
                  finishedAt: try date("finished_at"))
    }
}
