import Foundation
import Jobs
import PostgresNIO

/// The `JobStore` for several processes on several machines: every replica and worker shares
/// one PostgreSQL database. It keeps the SQLite store's columns and semantics; where SQLite
/// gets atomicity from its single writer, this store gets it from row locks, `FOR UPDATE SKIP
/// LOCKED` (leasing), advisory locks (quotas), `ON CONFLICT` (idempotency keys) and a table
/// lock (the ledger's hash chain).
///
/// The store does not own the client: its owner must run `client.run()` in a long-running
/// task (or hand the client to a ServiceGroup) for as long as the store is used, since the
/// client only hands out connections while `run()` is running.
///
///     let client = PostgresClient(configuration: try PostgresJobStore.configuration(url: url))
///     let running = Task { await client.run() }  // or add the client to a ServiceGroup
///     let store = PostgresJobStore(client: client, logger: logger)
///     try await store.migrate()
///     ...
///     running.cancel()  // closes the client's connections
public final class PostgresJobStore: JobStore {
    let client: PostgresPool
    let logger: Logger

    /// The channel `insertJob` notifies (once per batch), and `PostgresQueueListener` listens on.
    static let queuedChannel = "fhe_jobs_queued"

    /// With a `breaker`, a request waits at most `leaseTimeout` for a connection and holds it
    /// at most `queryTimeout` (then the connection is closed, failing the statement), and
    /// while the database keeps failing, requests fail at once with `CircuitOpenError` (see
    /// `PostgresPool`); without one, requests wait for the pool and the database as long as
    /// it takes.
    public init(client: PostgresClient, logger: Logger, breaker: CircuitBreaker? = nil, leaseTimeout: Duration = .seconds(10),
                queryTimeout: Duration = .seconds(10)) {
        let pool = PostgresPool(client, breaker: breaker, leaseTimeout: breaker == nil ? nil : leaseTimeout,
                                useTimeout: breaker == nil ? nil : queryTimeout)
        self.client = pool
        self.logger = logger
        submissions = GroupCommitQueue(maxItems: PostgresSubmissionBatch.maxRows, maxBytes: PostgresSubmissionBatch.maxBytes,
                                       metricLabel: SubmissionBatchMetric.label, size: { $0.statementBytes }) { rows in
            try await PostgresSubmissionBatch.write(rows, pool: pool, channel: PostgresJobStore.queuedChannel, logger: logger)
        }
    }

    /// Submissions that arrive while a batch is being written are written together, by the
    /// next statement (group commit): one round trip and one commit per batch.
    let submissions: GroupCommitQueue<PostgresSubmission, InsertOutcome>

    /// How the submissions were batched so far (tests, benchmarks).
    public var submissionBatches: GroupCommitStatistics { submissions.statistics }

    public func migrate() async throws {
        try await PostgresMigrations.migrate(client: client.unguarded, logger: logger)
    }

    /// How long `ping` waits for a connection, and then for the answer. The client keeps
    /// requests waiting while it cannot connect (it retries, and never fails them), and a
    /// server that hangs may never answer, so without deadlines a readiness check would hang
    /// for as long as the database is down.
    static let pingTimeout: Duration = .seconds(5)

    public func ping() async throws {
        // Past the breaker: a readiness check or the wait for the database at start asks the
        // database itself, and a start while it comes up is not cut short by an open breaker.
        let pool = PostgresPool(client.unguarded, breaker: nil, leaseTimeout: Self.pingTimeout, useTimeout: Self.pingTimeout)
        _ = try await pool.rows("SELECT 1", logger: logger)
    }

    // MARK: Submission

    public func reserveIdempotencyKey(_ claim: IdempotencyClaim, requestHash: String, now: Date,
                                      window: TimeInterval, inFlightTimeout: TimeInterval) async throws -> IdempotencyReservation {
        let nowUS = now.microsecondsSince1970, key = claim.key, holder = claim.holder
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            // A row deleted (released) between the insert and the read makes the insert worth
            // trying again; the loop ends because each turn either inserts or finds a row.
            while true {
                // Of concurrent requests with one key, exactly one inserts: the others wait
                // for its transaction to end, then find the key taken.
                let inserted = try await connection.rows("""
                    INSERT INTO idempotency_keys (tenant, key, request_hash, state, created_at, holder)
                    VALUES (\(key.tenant), \(key.key), \(requestHash), 'in_progress', \(nowUS), \(holder))
                    ON CONFLICT (tenant, key) DO NOTHING
                    RETURNING tenant
                    """, logger: logger)
                if !inserted.isEmpty { return .reserved }

                // Locked, so of concurrent requests finding a lapsed row only the first
                // replaces it; the others then read its replacement, which has not lapsed.
                guard let row = try await connection.rows("""
                    SELECT request_hash, state, status_code, job_id, response, created_at FROM idempotency_keys
                    WHERE tenant = \(key.tenant) AND key = \(key.key)
                    FOR UPDATE
                    """, logger: logger).first else { continue }
                let cells = row.makeRandomAccess()
                let state = try cells["state"].decode(String.self)
                let lapse = state == "completed" ? window : inFlightTimeout
                if nowUS - (try cells["created_at"].decode(Int64.self)) < Int64(lapse * 1_000_000) {
                    guard try cells["request_hash"].decode(String.self) == requestHash else { return .mismatch }
                    guard state == "completed" else { return .inProgress }
                    guard let statusCode = try cells["status_code"].decode(Int?.self),
                          let jobID = try cells["job_id"].decode(UUID?.self),
                          let body = try cells["response"].decode(Data?.self) else {
                        throw CorruptRowError(table: "idempotency_keys", key: "\(key.tenant)/\(key.key)",
                                              reason: "completed without a stored response")
                    }
                    return .completed(StoredResponse(statusCode: statusCode, jobID: jobID, body: body))
                }
                try await connection.query("""
                    UPDATE idempotency_keys
                    SET request_hash = \(requestHash), state = 'in_progress', status_code = NULL, job_id = NULL,
                        response = NULL, created_at = \(nowUS), holder = \(holder)
                    WHERE tenant = \(key.tenant) AND key = \(key.key)
                    """, logger: logger)
                return .reserved
            }
        }
    }

    /// The longest a release waits for a connection. A release only lets a retry in before the
    /// reservation lapses by itself (the in-flight timeout); it follows a failed insert, so
    /// when the database is down it would otherwise hold the answer for a second full wait.
    static let releaseWait: Duration = .seconds(1)

    public func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws {
        try await client.waitingAtMost(Self.releaseWait).query("""
            DELETE FROM idempotency_keys
            WHERE tenant = \(claim.key.tenant) AND key = \(claim.key.key) AND state = 'in_progress' AND holder = \(claim.holder)
            """, logger: logger)
    }

    public func insertJob(_ job: Job, quota: Quota, idempotency: (claim: IdempotencyClaim, response: StoredResponse)?,
                          audit: AuditRecord?) async throws -> InsertOutcome {
        // Written with the submissions that arrive while the statement before is in flight, by
        // one statement (`fhe_submit_jobs`, migration 14: the claim check, the quota checks and
        // the writes, the callback URL and the audit record with them, server-side under each
        // tenant's lock), so one round trip and one commit per batch, and no job exists without
        // its usage, its stored response or its audit record.
        try await submissions.submit(PostgresSubmission(job: job, quota: quota, idempotency: idempotency, audit: audit))
    }

    // MARK: Reading

    public func job(id: JobID, tenant: String?) async throws -> Job? {
        try await client.rows("SELECT * FROM jobs WHERE id = \(id) AND (\(tenant)::text IS NULL OR tenant = \(tenant))",
                              logger: logger).first.map(Job.init(row:))
    }

    public func listJobs(_ query: JobQuery) async throws -> [Job] {
        var tenant: String?
        var owner: String?
        switch query.visibility {
        case .all: break
        case .tenant(let t): tenant = t
        case .owner(let t, let subject): tenant = t; owner = subject
        }
        let after = query.createdAfter?.microsecondsSince1970
        let before = query.createdBefore?.microsecondsSince1970
        let cursorCreatedAt = query.after?.createdAt
        let cursorID = query.after?.id
        // One fixed statement: an absent filter is a NULL parameter that disables its
        // condition. The query is planned with the actual parameters (an unnamed statement),
        // so the disabled conditions cost nothing.
        return try await client.rows("""
            SELECT * FROM jobs
            WHERE (\(tenant)::text IS NULL OR tenant = \(tenant))
              AND (\(owner)::text IS NULL OR owner = \(owner))
              AND (\(query.status?.rawValue)::text IS NULL OR status = \(query.status?.rawValue))
              AND (\(query.type?.rawValue)::text IS NULL OR type = \(query.type?.rawValue))
              AND (\(after)::bigint IS NULL OR created_at > \(after))
              AND (\(before)::bigint IS NULL OR created_at < \(before))
              AND (\(cursorCreatedAt)::bigint IS NULL
                   OR created_at < \(cursorCreatedAt) OR (created_at = \(cursorCreatedAt) AND id < \(cursorID)))
            ORDER BY created_at DESC, id DESC
            LIMIT \(max(1, query.limit))
            """, logger: logger).map(Job.init(row:))
    }

    public func cancelJob(id: JobID, tenant: String?, now: Date) async throws -> Job? {
        let t = now.microsecondsSince1970
        if let cancelled = try await client.rows("""
            UPDATE jobs SET status = 'cancelled', finished_at = \(t), updated_at = \(t), lease_owner = NULL, lease_expires_at = NULL
            WHERE id = \(id) AND (\(tenant)::text IS NULL OR tenant = \(tenant)) AND status IN ('queued', 'running')
            RETURNING *
            """, logger: logger).first {
            return try Job(row: cancelled)
        }
        // Not cancellable (already finished) or not there: the job as it is.
        return try await job(id: id, tenant: tenant)
    }

    // MARK: Queue

    public func leaseNextJob(workerID: String, leaseDuration: TimeInterval, now: Date, type: JobType?) async throws -> Job? {
        let t = now.microsecondsSince1970
        let expires = now.addingTimeInterval(leaseDuration).microsecondsSince1970
        // SKIP LOCKED: a job another worker is leasing right now is passed over rather than
        // waited for, so concurrent workers take different jobs and never block each other.
        return try await client.rows("""
            UPDATE jobs SET status = 'running', lease_owner = \(workerID), lease_expires_at = \(expires),
                            attempts = attempts + 1, started_at = coalesce(started_at, \(t)), updated_at = \(t)
            WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= \(t)
                          AND (\(type?.rawValue)::text IS NULL OR type = \(type?.rawValue))
                        ORDER BY priority DESC, created_at, id LIMIT 1
                        FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, logger: logger).first.map(Job.init(row:))
    }

    public func heartbeat(jobID: JobID, workerID: String, leaseDuration: TimeInterval, now: Date) async throws -> Bool {
        let expires = now.addingTimeInterval(leaseDuration).microsecondsSince1970
        return try await !client.rows("""
            UPDATE jobs SET lease_expires_at = \(expires) WHERE id = \(jobID) AND status = 'running' AND lease_owner = \(workerID)
            RETURNING id
            """, logger: logger).isEmpty
    }

    public func completeJob(jobID: JobID, workerID: String, result: JSONValue, resultHash: String,
                            computeSeconds: Double, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        let text = String(decoding: result.canonicalData(), as: UTF8.self)
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            guard let (tenant, confidential) = try await connection.rows("""
                UPDATE jobs SET status = 'succeeded', result = \(text), result_hash = \(resultHash), finished_at = \(t),
                                updated_at = \(t), lease_owner = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL
                WHERE id = \(jobID) AND status = 'running' AND lease_owner = \(workerID)
                RETURNING tenant, use_fhe
                """, logger: logger).first?.decode((String, Bool).self) else { return false }
            try await Self.meter(connection, logger: logger, tenant: tenant, at: now, succeeded: 1,
                                 computeSeconds: computeSeconds, bytes: text.utf8.count, confidential: confidential)
            return true
        }
    }

    public func failJob(jobID: JobID, workerID: String, failure: JobFailure, retryAt: Date?,
                        computeSeconds: Double, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            let updated: [PostgresRow]
            if let retryAt {
                updated = try await connection.rows("""
                    UPDATE jobs SET status = 'queued', run_after = \(retryAt.microsecondsSince1970), updated_at = \(t),
                                    lease_owner = NULL, lease_expires_at = NULL,
                                    error_code = \(failure.code), error_message = \(failure.message)
                    WHERE id = \(jobID) AND status = 'running' AND lease_owner = \(workerID)
                    RETURNING tenant, use_fhe
                    """, logger: logger)
            } else {
                updated = try await connection.rows("""
                    UPDATE jobs SET status = 'failed', finished_at = \(t), updated_at = \(t),
                                    lease_owner = NULL, lease_expires_at = NULL,
                                    error_code = \(failure.code), error_message = \(failure.message)
                    WHERE id = \(jobID) AND status = 'running' AND lease_owner = \(workerID)
                    RETURNING tenant, use_fhe
                    """, logger: logger)
            }
            guard let (tenant, confidential) = try updated.first?.decode((String, Bool).self) else { return false }
            try await Self.meter(connection, logger: logger, tenant: tenant, at: now, failed: retryAt == nil ? 1 : 0,
                                 computeSeconds: computeSeconds, confidential: confidential)
            return true
        }
    }

    public func recordProgress(jobID: JobID, workerID: String, progress: FHEProgress) async throws -> Bool {
        let text = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
        return try await !client.rows("""
            UPDATE jobs SET progress = \(text) WHERE id = \(jobID) AND status = 'running' AND lease_owner = \(workerID)
            RETURNING id
            """, logger: logger).isEmpty
    }

    public func releaseJob(jobID: JobID, workerID: String, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        return try await !client.rows("""
            UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_after = \(t), updated_at = \(t),
                            lease_owner = NULL, lease_expires_at = NULL
            WHERE id = \(jobID) AND status = 'running' AND lease_owner = \(workerID)
            RETURNING id
            """, logger: logger).isEmpty
    }

    public func rescueExpiredLeases(now: Date) async throws -> Int {
        let t = now.microsecondsSince1970
        let lost = JobFailure.leaseExpired
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(PostgresAdvisoryLocks.leaseRescue))", logger: logger)
            let failedTenants = try await connection.rows("""
                UPDATE jobs SET status = 'failed', finished_at = \(t), updated_at = \(t), lease_owner = NULL, lease_expires_at = NULL,
                                error_code = \(lost.code), error_message = \(lost.message)
                WHERE status = 'running' AND lease_expires_at < \(t) AND attempts >= max_attempts
                RETURNING tenant
                """, logger: logger).map { try $0.decode(String.self) }
            let requeued = try await connection.rows("""
                UPDATE jobs SET status = 'queued', run_after = \(t), updated_at = \(t), lease_owner = NULL, lease_expires_at = NULL
                WHERE status = 'running' AND lease_expires_at < \(t)
                RETURNING id
                """, logger: logger)
            // Metered last, tenants in order: like `completeJob` and `failJob`, this locks
            // job rows before usage rows, and usage rows in one order, so concurrent
            // transactions cannot deadlock waiting for each other's rows.
            var failedPerTenant: [String: Int] = [:]
            for tenant in failedTenants { failedPerTenant[tenant, default: 0] += 1 }
            for (tenant, failed) in failedPerTenant.sorted(by: { $0.key < $1.key }) {
                try await Self.meter(connection, logger: logger, tenant: tenant, at: now, failed: failed)
            }
            return failedTenants.count + requeued.count
        }
    }

    public func countNonTerminalJobs() async throws -> [JobStatus: Int] {
        // One round trip; each count matches one partial index (jobs_queue, jobs_leases,
        // jobs_awaiting_confirmation).
        guard let row = try await client.rows("""
            SELECT (SELECT count(*) FROM jobs WHERE status = 'queued'), (SELECT count(*) FROM jobs WHERE status = 'running'),
                   (SELECT count(*) FROM jobs WHERE status = 'succeeded')
            """, logger: logger).first else { return [:] }
        let (queued, running, succeeded) = try row.decode((Int, Int, Int).self)
        return [.queued: queued, .running: running, .succeeded: succeeded]
    }

    // MARK: Confirmation

    public func jobsAwaitingConfirmation(limit: Int) async throws -> [Job] {
        try await client.rows("""
            SELECT * FROM jobs WHERE status = 'succeeded' ORDER BY finished_at LIMIT \(Self.limit(limit))
            """, logger: logger).map(Job.init(row:))
    }

    public func markConfirmed(jobID: JobID, confirmation: Confirmation, now: Date) async throws -> Bool {
        let t = now.microsecondsSince1970
        return try await !client.rows("""
            UPDATE jobs SET status = 'confirmed', confirmation_kind = \(confirmation.kind.rawValue),
                            confirmation_ref = \(confirmation.reference), confirmation_block = \(confirmation.blockNumber),
                            confirmed_at = \(confirmation.confirmedAt.microsecondsSince1970), updated_at = \(t)
            WHERE id = \(jobID) AND status = 'succeeded'
            RETURNING id
            """, logger: logger).isEmpty
    }

    public func appendLedgerEntry(jobID: JobID, makeEntry: @Sendable (String?, Int64) throws -> LedgerEntry) async throws -> LedgerEntry {
        let logger = logger
        // In the caller's task: `makeEntry` cannot escape it (see `PostgresPool.withConnectionInCallerTask`).
        return try await client.withConnectionInCallerTask { connection in try await connection.transaction(logger: logger) { connection in
            // Appends one at a time across every process, so each entry links to the entry
            // before it; reads of the ledger go on meanwhile (EXCLUSIVE does not block them).
            try await connection.query("LOCK TABLE ledger IN EXCLUSIVE MODE", logger: logger)
            if let existing = try await connection.rows("SELECT * FROM ledger WHERE job_id = \(jobID)", logger: logger).first {
                return try LedgerEntry(row: existing)
            }
            let last = try await connection.rows("""
                SELECT sequence, entry_hash FROM ledger ORDER BY sequence DESC LIMIT 1
                """, logger: logger).first?.decode((Int64, String).self)
            let entry = try makeEntry(last?.1, (last?.0 ?? 0) + 1)
            try await connection.query("""
                INSERT INTO ledger (sequence, job_id, result_hash, status, previous_hash, entry_hash, signature, recorded_at)
                VALUES (\(entry.sequence), \(entry.jobID), \(entry.resultHash), \(entry.status.rawValue), \(entry.previousHash),
                        \(entry.entryHash), \(entry.signature), \(entry.recordedAt.microsecondsSince1970))
                """, logger: logger)
            return entry
        } }
    }

    public func ledgerEntries(fromSequence: Int64, limit: Int) async throws -> [LedgerEntry] {
        try await client.rows("""
            SELECT * FROM ledger WHERE sequence >= \(fromSequence) ORDER BY sequence LIMIT \(Self.limit(limit))
            """, logger: logger).map(LedgerEntry.init(row:))
    }

    public func newestLedgerEntry() async throws -> LedgerEntry? {
        try await client.rows("SELECT * FROM ledger ORDER BY sequence DESC LIMIT 1", logger: logger).first.map(LedgerEntry.init(row:))
    }

    public func registerSigningKey(_ publicKey: String, now: Date) async throws -> String {
        // One statement: the insert takes effect only for the first process, and every
        // process reads back the same row.
        let rows = try await client.rows("""
            WITH inserted AS (
                INSERT INTO service_identity (id, signing_key, registered_at) VALUES (1, \(publicKey), \(now.microsecondsSince1970))
                ON CONFLICT (id) DO NOTHING RETURNING signing_key
            )
            SELECT signing_key FROM inserted UNION ALL SELECT signing_key FROM service_identity WHERE id = 1
            """, logger: logger)
        if let recorded = try rows.first?.decode(String.self) { return recorded }
        // A process that raced the first one waited on its insert, but its statement's
        // snapshot predates that row: read it afresh.
        guard let recorded = try await client.rows("SELECT signing_key FROM service_identity WHERE id = 1", logger: logger)
            .first?.decode(String.self) else { throw CorruptRowError(table: "service_identity", key: "1", reason: "no row after the insert") }
        return recorded
    }

    // MARK: Metering and audit

    public func usage(tenant: String, month: String) async throws -> Usage {
        guard let row = try await client.rows("""
            SELECT * FROM usage WHERE tenant = \(tenant) AND month = \(month)
            """, logger: logger).first else { return Usage(tenant: tenant, month: month) }
        return try Usage(tenant: tenant, month: month, row: row)
    }

    public func appendAudit(_ record: AuditRecord) async throws {
        try await client.query("""
            INSERT INTO audit (at, tenant, actor, action, target, outcome, request_id)
            VALUES (\(record.at.microsecondsSince1970), \(record.tenant), \(record.actor), \(record.action), \(record.target),
                    \(record.outcome), \(record.requestID))
            """, logger: logger)
    }

    public func listAudit(tenant: String?, before: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await client.rows("""
            SELECT * FROM audit
            WHERE (\(tenant)::text IS NULL OR tenant = \(tenant)) AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(Self.limit(limit))
            """, logger: logger).map(AuditRecord.init(row:))
    }

    // MARK: Helpers

    /// Adds to a tenant's usage in the month of `date`, creating the month's row if needed.
    private static func meter(_ connection: PostgresConnection, logger: Logger, tenant: String, at date: Date,
                              succeeded: Int = 0, failed: Int = 0, computeSeconds: Double = 0, bytes: Int = 0,
                              confidential: Bool = false) async throws {
        let fheSeconds = confidential ? computeSeconds : 0
        try await connection.query("""
            INSERT INTO usage (tenant, month, jobs_succeeded, jobs_failed, compute_seconds, bytes_stored, fhe_compute_seconds)
            VALUES (\(tenant), \(Usage.month(of: date)), \(succeeded), \(failed), \(computeSeconds), \(bytes), \(fheSeconds))
            ON CONFLICT (tenant, month) DO UPDATE SET jobs_succeeded = usage.jobs_succeeded + excluded.jobs_succeeded,
                jobs_failed = usage.jobs_failed + excluded.jobs_failed,
                compute_seconds = usage.compute_seconds + excluded.compute_seconds,
                bytes_stored = usage.bytes_stored + excluded.bytes_stored,
                fhe_compute_seconds = usage.fhe_compute_seconds + excluded.fhe_compute_seconds
            """, logger: logger)
    }

    /// A LIMIT as SQLite reads it: a negative limit means none (NULL), where PostgreSQL
    /// would reject it.
    private static func limit(_ limit: Int) -> Int? { limit < 0 ? nil : limit }
}

/// The database did not answer `ping` in time: it is down, unreachable, or refuses the
/// client's connections (credentials, TLS); the client's background logger says which.
public struct PostgresUnreachableError: Error, CustomStringConvertible {
    public var timeout: Duration
    public var description: String { "PostgreSQL did not answer within \(timeout)" }
}
