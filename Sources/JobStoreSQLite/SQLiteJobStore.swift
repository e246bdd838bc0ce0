import Foundation
import GRDB
import Jobs

/// The embedded default `JobStore`: one SQLite file in WAL mode (readers never block the
/// writer), zero setup. Writes are serialized by SQLite, which makes every guarded update and
/// the idempotency reservation atomic; several processes on one machine may share the file.
public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool
    /// The writes of the hot paths, the queue's work before API requests (`WriterLanes`).
    let lanes: WriterLanes

    /// Opens (creating if needed) the database file at `path`. A new file is created readable
    /// and writable by its owner only: it holds tenants' jobs, inputs and results, and SQLite
    /// gives the -wal and -shm files beside it the database file's mode. An existing file keeps
    /// the mode its operator gave it.
    public init(path: String) throws {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }  // if it failed, opening the pool says why
        var configuration = Configuration()
        // Another process holding the write lock makes us wait, not fail.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL is durable across process crashes; only an OS crash
            // or power loss can lose the last transactions (https://sqlite.org/wal.html).
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        lanes = WriterLanes(pool: pool)
    }

    public func migrate() async throws {
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Submission

    public func reserveIdempotencyKey(_ claim: IdempotencyClaim, requestHash: String, now: Date,
                                      window: TimeInterval, inFlightTimeout: TimeInterval) async throws -> IdempotencyReservation {
        let nowUS = now.microsecondsSince1970, key = claim.key
        return try await lanes.write(.requests) { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM idempotency_keys WHERE tenant = ? AND key = ?",
                                          arguments: [key.tenant, key.key]) {
                let createdAt: Int64 = row["created_at"]
                let state: String = row["state"]
                let lapse = state == "completed" ? window : inFlightTimeout
                if nowUS - createdAt < Int64(lapse * 1_000_000) {
                    guard row["request_hash"] as String == requestHash else { return .mismatch }
                    guard state == "completed" else { return .inProgress }
                    return .completed(StoredResponse(statusCode: row["status_code"], jobID: UUID(uuidString: row["job_id"])!,
                                                     body: row["response"]))
                }
                try db.execute(sql: "DELETE FROM idempotency_keys WHERE tenant = ? AND key = ?", arguments: [key.tenant, key.key])
            }
            try db.execute(sql: """
                INSERT INTO idempotency_keys (tenant, key, request_hash, state, created_at, holder) VALUES (?, ?, ?, 'in_progress', ?, ?)
                """, arguments: [key.tenant, key.key, requestHash, nowUS, claim.holder.uuidString])
            return .reserved
        }
    }

    public func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws {
        try await lanes.write(.requests) { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE tenant = ? AND key = ? AND state = 'in_progress' AND holder = ?",
                           arguments: [claim.key.tenant, claim.key.key, claim.holder.uuidString])
        }
    }

    public func insertJob(_ job: Job, quota: Quota, idempotency: (claim: IdempotencyClaim, response: StoredResponse)?,
                          audit: AuditRecord?) async throws -> InsertOutcome {
        let payload = String(decoding: job.payload.canonicalData(), as: UTF8.self)
        let fhe = try job.fhe.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let month = Usage.month(of: job.createdAt)
        return try await lanes.write(.requests) { db in
            if let claim = idempotency?.claim {
                let held = try Bool.fetchOne(db, sql: """
                    SELECT 1 FROM idempotency_keys WHERE tenant = ? AND key = ? AND state = 'in_progress' AND holder = ?
                    """, arguments: [claim.key.tenant, claim.key.key, claim.holder.uuidString]) ?? false
                if !held { return .reservationLost }
            }
            let active = try Int.fetchOne(db, sql: "SELECT active FROM tenant_active_jobs WHERE tenant = ?",
                                          arguments: [job.tenant]) ?? 0
            if active >= quota.maxActiveJobs { return .activeJobsQuotaExceeded(limit: quota.maxActiveJobs) }
            let submitted = try Int.fetchOne(db, sql: "SELECT jobs_submitted FROM usage WHERE tenant = ? AND month = ?",
                                             arguments: [job.tenant, month]) ?? 0
            if submitted >= quota.maxJobsPerMonth { return .monthlyQuotaExceeded(limit: quota.maxJobsPerMonth) }
            let t = job.createdAt.microsecondsSince1970
            try db.execute(sql: """
                INSERT INTO jobs (id, tenant, owner, type, status, priority, use_fhe, payload, created_at, updated_at,
                                  run_after, attempts, max_attempts, timeout_seconds, fhe, callback_url)
                VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
                """, arguments: [job.id.uuidString, job.tenant, job.owner, job.type.rawValue, job.priority.rank, job.useFHE,
                                 payload, t, t, t, job.maxAttempts, job.timeoutSeconds, fhe, job.callbackURL])
            try db.execute(sql: """
                INSERT INTO usage (tenant, month, jobs_submitted, bytes_stored, fhe_bootstraps) VALUES (?, ?, 1, ?, ?)
                ON CONFLICT (tenant, month) DO UPDATE SET jobs_submitted = jobs_submitted + 1,
                                                          bytes_stored = bytes_stored + excluded.bytes_stored,
                                                          fhe_bootstraps = fhe_bootstraps + excluded.fhe_bootstraps
                """, arguments: [job.tenant, month, payload.utf8.count + (job.fhe?.inputBytes ?? 0), job.fhe?.quote.bootstraps ?? 0])
            if let (claim, response) = idempotency {
                try db.execute(sql: """
                    UPDATE idempotency_keys SET state = 'completed', status_code = ?, job_id = ?, response = ?
                    WHERE tenant = ? AND key = ? AND holder = ?
                    """, arguments: [response.statusCode, response.jobID.uuidString, response.body, claim.key.tenant, claim.key.key,
                                     claim.holder.uuidString])
            }
            if let audit { try Self.appendAudit(audit, in: db) }
            return .inserted
        }
    }

    // MARK: Reading

    public func job(id: JobID, tenant: String?) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ? AND (? IS NULL OR tenant = ?)",
                             arguments: [id.uuidString, tenant, tenant]).map(Self.job(from:))
        }
    }

    public func listJobs(_ query: JobQuery) async throws -> [Job] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        switch query.visibility {
        case .all: break
        case .tenant(let tenant): conditions.append("tenant = ?"); arguments += [tenant]
        case .owner(let tenant, let subject): conditions.append("tenant = ? AND owner = ?"); arguments += [tenant, subject]
        }
        if let status = query.status { conditions.append("status = ?"); arguments += [status.rawValue] }
        if let type = query.type { conditions.append("type = ?"); arguments += [type.rawValue] }
        if let after = query.createdAfter { conditions.append("created_at > ?"); arguments += [after.microsecondsSince1970] }
        if let before = query.createdBefore { conditions.append("created_at < ?"); arguments += [before.microsecondsSince1970] }
        if let cursor = query.after {
            conditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            arguments += [cursor.createdAt, cursor.createdAt, cursor.id.uuidString]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT * FROM jobs \(whereClause) ORDER BY created_at DESC, id DESC LIMIT \(max(1, query.limit))"
        let args = arguments
        return try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: args).map(Self.job(from:)) }
    }

    public func cancelJob(id: JobID, tenant: String?, now: Date) async throws -> Job? {
        let t = now.microsecondsSince1970
        return try await lanes.write(.requests) { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'cancelled', finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ? AND (? IS NULL OR tenant = ?) AND status IN ('queued', 'running')
                """, arguments: [t, t, id.uuidString, tenant, tenant])
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ? AND (? IS NULL OR tenant = ?)",
                                    arguments: [id.uuidString, tenant, tenant]).map(Self.job(from:))
        }
    }

    // MARK: Queue

    public func leaseNextJob(workerID: String, leaseDuration: TimeInterval, now: Date, type: JobType?) async throws -> Job? {
        let t = now.microsecondsSince1970
        let expires = now.addingTimeInterval(leaseDuration).microsecondsSince1970
        return try await lanes.write(.queueWork) { db in
            try Row.fetchOne(db, sql: """
                UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                                started_at = coalesce(started_at, ?), updated_at = ?
                WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= ? AND (? IS NULL OR type = ?)
                            ORDER BY priority DESC, created_at, id LIMIT 1)
                RETURNING *
                """, arguments: [workerID, expires, t, t, t, type?.rawValue, type?.rawValue]).map(Self.job(from:))
        }
    }

    public func heartbeat(jobID: JobID, workerID: String, leaseDuration: TimeInterval, now: Date) async throws -> Bool {
        let expires = now.addingTimeInterval(leaseDuration).microsecondsSince1970
        return try await lanes.write(.queueWork) { db in
            try db.execute(sql: """
                UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?
                """, arguments: [expires, jobID.uuidString, workerID])
            return db.changesCount == 1
        }
    }

    public func completeJob(jobID: JobID, workerID: String, result: JSONValue, resultHash: String,
                            computeSeconds: Double, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        let text = String(decoding: result.canonicalData(), as: UTF8.self)
        return try await lanes.write(.queueWork) { db in
            guard let row = try Row.fetchOne(db, sql: """
                UPDATE jobs SET status = 'succeeded', result = ?, result_hash = ?, finished_at = ?, updated_at = ?,
                                lease_owner = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL
                WHERE id = ? AND status = 'running' AND lease_owner = ?
                RETURNING tenant, use_fhe
                """, arguments: [text, resultHash, t, t, jobID.uuidString, workerID]) else { return false }
            try Self.meter(db, tenant: row["tenant"], at: now, succeeded: 1, computeSeconds: computeSeconds, bytes: text.utf8.count,
                           confidential: row["use_fhe"])
            return true
        }
    }

    public func failJob(jobID: JobID, workerID: String, failure: JobFailure, retryAt: Date?,
                        computeSeconds: Double, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        return try await lanes.write(.queueWork) { db in
            let row: Row?
            if let retryAt {
                row = try Row.fetchOne(db, sql: """
                    UPDATE jobs SET status = 'queued', run_after = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                                    error_code = ?, error_message = ?
                    WHERE id = ? AND status = 'running' AND lease_owner = ?
                    RETURNING tenant, use_fhe
                    """, arguments: [retryAt.microsecondsSince1970, t, failure.code, failure.message, jobID.uuidString, workerID])
            } else {
                row = try Row.fetchOne(db, sql: """
                    UPDATE jobs SET status = 'failed', finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                                    error_code = ?, error_message = ?
                    WHERE id = ? AND status = 'running' AND lease_owner = ?
                    RETURNING tenant, use_fhe
                    """, arguments: [t, t, failure.code, failure.message, jobID.uuidString, workerID])
            }
            guard let row else { return false }
            try Self.meter(db, tenant: row["tenant"], at: now, failed: retryAt == nil ? 1 : 0, computeSeconds: computeSeconds,
                           confidential: row["use_fhe"])
            return true
        }
    }

    public func recordProgress(jobID: JobID, workerID: String, progress: FHEProgress) async throws -> Bool {
        let text = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
        return try await lanes.write(.queueWork) { db in
            try db.execute(sql: "UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running' AND lease_owner = ?",
                           arguments: [text, jobID.uuidString, workerID])
            return db.changesCount == 1
        }
    }

    public func releaseJob(jobID: JobID, workerID: String, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        return try await lanes.write(.queueWork) { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_after = ?, updated_at = ?,
                                lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ? AND status = 'running' AND lease_owner = ?
                """, arguments: [t, t, jobID.uuidString, workerID])
            return db.changesCount == 1
        }
    }

    public func rescueExpiredLeases(now: Date) async throws -> Int {
        let t = now.microsecondsSince1970
        let lost = JobFailure.leaseExpired
        return try await pool.write { db in
            let failed = try String.fetchAll(db, sql: """
                UPDATE jobs SET status = 'failed', finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                                error_code = ?, error_message = ?
                WHERE status = 'running' AND lease_expires_at < ? AND attempts >= max_attempts
                RETURNING tenant
                """, arguments: [t, t, lost.code, lost.message, t])
            for tenant in failed { try Self.meter(db, tenant: tenant, at: now, failed: 1) }
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', run_after = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
                WHERE status = 'running' AND lease_expires_at < ?
                """, arguments: [t, t, t])
            return failed.count + db.changesCount
        }
    }

    public func countNonTerminalJobs() async throws -> [JobStatus: Int] {
        try await pool.read { db in
            var counts: [JobStatus: Int] = [:]
            for status in JobStatus.nonTerminal {
                counts[status] = try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE status = ?", arguments: [status.rawValue]) ?? 0
            }
            return counts
        }
    }

    // MARK: Confirmation

    public func jobsAwaitingConfirmation(limit: Int) async throws -> [Job] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE status = 'succeeded' ORDER BY finished_at LIMIT ?",
                             arguments: [limit]).map(Self.job(from:))
        }
    }

    public func markConfirmed(jobID: JobID, confirmation: Confirmation, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        return try await lanes.write(.queueWork) { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'confirmed', confirmation_kind = ?, confirmation_ref = ?, confirmation_block = ?,
                                confirmed_at = ?, updated_at = ?
                WHERE id = ? AND status = 'succeeded'
                """, arguments: [confirmation.kind.rawValue, confirmation.reference, confirmation.blockNumber,
                                 confirmation.confirmedAt.microsecondsSince1970, t, jobID.uuidString])
            return db.changesCount == 1
        }
    }

    public func appendLedgerEntry(jobID: JobID, makeEntry: @Sendable (String?, Int64) throws -> LedgerEntry) async throws -> LedgerEntry {
        try await pool.write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM ledger WHERE job_id = ?", arguments: [jobID.uuidString]) {
                return Self.ledgerEntry(from: existing)
            }
            let last = try Row.fetchOne(db, sql: "SELECT sequence, entry_hash FROM ledger ORDER BY sequence DESC LIMIT 1")
            let entry = try makeEntry(last?["entry_hash"], (last?["sequence"] as Int64? ?? 0) + 1)
            try db.execute(sql: """
                INSERT INTO ledger (sequence, job_id, result_hash, status, previous_hash, entry_hash, signature, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [entry.sequence, entry.jobID.uuidString, entry.resultHash, entry.status.rawValue,
                                 entry.previousHash, entry.entryHash, entry.signature, entry.recordedAt.microsecondsSince1970])
            return entry
        }
    }

    public func ledgerEntries(fromSequence: Int64, limit: Int) async throws -> [LedgerEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger WHERE sequence >= ? ORDER BY sequence LIMIT ?",
                             arguments: [fromSequence, limit]).map(Self.ledgerEntry(from:))
        }
    }

    public func newestLedgerEntry() async throws -> LedgerEntry? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM ledger ORDER BY sequence DESC LIMIT 1").map(Self.ledgerEntry(from:))
        }
    }

    public func registerSigningKey(_ publicKey: String, now: Date) async throws -> String {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO service_identity (id, signing_key, registered_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
                           arguments: [publicKey, now.microsecondsSince1970])
            return try String.fetchOne(db, sql: "SELECT signing_key FROM service_identity WHERE id = 1") ?? publicKey
        }
    }

    // MARK: Metering and audit

    public func usage(tenant: String, month: String) async throws -> Usage {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM usage WHERE tenant = ? AND month = ?", arguments: [tenant, month]) else {
                return Usage(tenant: tenant, month: month)
            }
            return Usage(tenant: tenant, month: month, jobsSubmitted: row["jobs_submitted"], jobsSucceeded: row["jobs_succeeded"],
                         jobsFailed: row["jobs_failed"], computeSeconds: row["compute_seconds"], bytesStored: row["bytes_stored"],
                         fheBootstraps: row["fhe_bootstraps"], fheComputeSeconds: row["fhe_compute_seconds"])
        }
    }

    public func appendAudit(_ record: AuditRecord) async throws {
        try await lanes.write(.requests) { db in try Self.appendAudit(record, in: db) }
    }

    private static func appendAudit(_ record: AuditRecord, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO audit (at, tenant, actor, action, target, outcome, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [record.at.microsecondsSince1970, record.tenant, record.actor, record.action, record.target,
                             record.outcome, record.requestID])
    }

    public func listAudit(tenant: String?, before: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM audit WHERE (? IS NULL OR tenant = ?) AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?
                """, arguments: [tenant, tenant, before, before, limit]).map { row in
                AuditRecord(id: row["id"], at: Date(microsecondsSince1970: row["at"]), tenant: row["tenant"], actor: row["actor"],
                            action: row["action"], target: row["target"], outcome: row["outcome"], requestID: row["request_id"])
            }
        }
    }

    // MARK: Rows

    private static func meter(_ db: Database, tenant: String, at date: Date, succeeded: Int = 0, failed: Int = 0,
                              computeSeconds: Double = 0, bytes: Int = 0, confidential: Bool = false) throws {
        try db.execute(sql: """
            INSERT INTO usage (tenant, month, jobs_succeeded, jobs_failed, compute_seconds, bytes_stored, fhe_compute_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, month) DO UPDATE SET jobs_succeeded = jobs_succeeded + excluded.jobs_succeeded,
                jobs_failed = jobs_failed + excluded.jobs_failed, compute_seconds = compute_seconds + excluded.compute_seconds,
                bytes_stored = bytes_stored + excluded.bytes_stored,
                fhe_compute_seconds = fhe_compute_seconds + excluded.fhe_compute_seconds
            """, arguments: [tenant, Usage.month(of: date), succeeded, failed, computeSeconds, bytes, confidential ? computeSeconds : 0])
    }

    private static func date(_ row: Row, _ column: String) -> Date? {
        (row[column] as Int64?).map(Date.init(microsecondsSince1970:))
    }

    static func job(from row: Row) throws -> Job {
        guard let id = UUID(uuidString: row["id"]), let type = JobType(rawValue: row["type"]),
              let status = JobStatus(rawValue: row["status"]), let priority = Priority(rank: row["priority"]) else {
            throw DatabaseError(message: "corrupt job row \(row["id"] as String? ?? "?")")
        }
        var job = Job(id: id, tenant: row["tenant"], owner: row["owner"], type: type, priority: priority, useFHE: row["use_fhe"],
                      payload: try JSONValue.decode(Data((row["payload"] as String).utf8)),
                      createdAt: Date(microsecondsSince1970: row["created_at"]), maxAttempts: row["max_attempts"],
                      timeoutSeconds: row["timeout_seconds"])
        job.status = status
        job.updatedAt = Date(microsecondsSince1970: row["updated_at"])
        job.startedAt = date(row, "started_at")
        job.finishedAt = date(row, "finished_at")
        job.runAfter = Date(microsecondsSince1970: row["run_after"])
        job.attempts = row["attempts"]
        job.leaseOwner = row["lease_owner"]
        job.leaseExpiresAt = date(row, "lease_expires_at")
        job.result = try (row["result"] as String?).map { try JSONValue.decode(Data($0.utf8)) }
        job.resultHash = row["result_hash"]
        if let code: String = row["error_code"] { job.failure = JobFailure(code: code, message: row["error_message"] ?? "") }
        if let kind = (row["confirmation_kind"] as String?).flatMap(Confirmation.Kind.init(rawValue:)),
           let confirmedAt = date(row, "confirmed_at") {
            job.confirmation = Confirmation(kind: kind, reference: row["confirmation_ref"], blockNumber: row["confirmation_block"],
                                            confirmedAt: confirmedAt)
        }
        job.fhe = try (row["fhe"] as String?).map { try JSONDecoder().decode(ConfidentialJob.self, from: Data($0.utf8)) }
        job.progress = try (row["progress"] as String?).map { try JSONDecoder().decode(FHEProgress.self, from: Data($0.utf8)) }
        job.callbackURL = row["callback_url"]
        return job
    }

    static func ledgerEntry(from row: Row) -> LedgerEntry {
        LedgerEntry(sequence: row["sequence"], jobID: UUID(uuidString: row["job_id"]) ?? UUID(), resultHash: row["result_hash"],
                    status: JobStatus(rawValue: row["status"]) ?? .succeeded, previousHash: row["previous_hash"],
                    entryHash: row["entry_hash"], signature: row["signature"], recordedAt: Date(microsecondsSince1970: row["recorded_at"]))
    }
}
