import Foundation
import Jobs
import PostgresNIO

/// One submission as the batch statement takes it: `insertJob`'s arguments, with the job's
/// payload and confidential record already encoded (an encoding failure is its caller's alone).
struct PostgresSubmission: Sendable {
    var job: Job
    var quota: Quota
    var idempotency: (claim: IdempotencyClaim, response: StoredResponse)?
    var audit: AuditRecord?
    var payload: String
    var fhe: String?
    /// The INT columns, checked to fit here: a value out of range fails its own submission,
    /// not the statement of the batch it would have joined.
    var priority: Int32, maxAttempts: Int32, timeoutSeconds: Int32, statusCode: Int32?

    init(job: Job, quota: Quota, idempotency: (claim: IdempotencyClaim, response: StoredResponse)?, audit: AuditRecord?) throws {
        self.job = job; self.quota = quota; self.idempotency = idempotency; self.audit = audit
        payload = String(decoding: job.payload.canonicalData(), as: UTF8.self)
        fhe = try job.fhe.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        func int32(_ value: Int, _ column: String) throws -> Int32 {
            guard let narrow = Int32(exactly: value) else {
                throw PostgresColumnRangeError(column: column, value: value)
            }
            return narrow
        }
        priority = try int32(job.priority.rank, "priority")
        maxAttempts = try int32(job.maxAttempts, "max_attempts")
        timeoutSeconds = try int32(job.timeoutSeconds, "timeout_seconds")
        statusCode = try idempotency.map { try int32($0.response.statusCode, "status_code") }
    }

    /// What the job stores: its payload and, for a confidential job, its input blob (metered).
    var storedBytes: Int { payload.utf8.count + (job.fhe?.inputBytes ?? 0) }

    /// Roughly what the row adds to the statement, for the batch's byte cap.
    var statementBytes: Int {
        payload.utf8.count + (fhe?.utf8.count ?? 0) + (idempotency?.response.body.count ?? 0) + (job.callbackURL?.utf8.count ?? 0) + 512
    }
}

/// Submissions written together by one statement, `fhe_submit_jobs` (migration 14): one round
/// trip and one commit for the batch, each row with its own outcome, as `fhe_submit_job` gives
/// it for one (inserted, a quota refusal, a lost reservation). The statement is atomic: if it
/// fails, no row of it was written. When the database failed, every row gets the error; when
/// it refused the statement for what a row holds, each row is written again on its own, so
/// that only the row it refuses fails.
enum PostgresSubmissionBatch {
    /// The most rows one statement writes.
    static let maxRows = 64
    /// The most bytes of payloads, confidential records and stored responses one statement carries.
    static let maxBytes = 1 << 20

    static func write(_ rows: [PostgresSubmission], pool: PostgresPool, channel: String,
                      logger: Logger) async throws -> [Result<InsertOutcome, any Error>] {
        let query = statement(rows, channel: channel)
        let outcomes: [String]
        do {
            outcomes = try await run(query, pool: pool, logger: logger)
        } catch let error where isDeadlock(error) {
            // Batches take their tenants' locks in one order, but a lease rescue moves several
            // tenants' jobs in no order, and the database broke the cycle by failing this
            // statement, which wrote nothing: once more.
            outcomes = try await run(query, pool: pool, logger: logger)
        } catch let error where rows.count > 1 && isRefusal(error) {
            // One submission the database cannot take (a value it refuses) must not fail the
            // others written with it: each alone, one statement each, in the same order.
            logger.warning("a batch of submissions was refused; writing its rows one by one",
                           metadata: ["rows": "\(rows.count)", "error": "\(String(reflecting: error))"])
            var results: [Result<InsertOutcome, any Error>] = []
            for row in rows {
                do { results += try await write([row], pool: pool, channel: channel, logger: logger) } catch { results.append(.failure(error)) }
            }
            return results
        }
        guard outcomes.count == rows.count else {
            throw CorruptRowError(table: "jobs", key: "batch of \(rows.count)", reason: "fhe_submit_jobs answered \(outcomes.count) outcomes")
        }
        return zip(rows, outcomes).map { row, outcome in
            switch outcome {
            case "inserted": .success(.inserted)
            case "active_quota": .success(.activeJobsQuotaExceeded(limit: row.quota.maxActiveJobs))
            case "monthly_quota": .success(.monthlyQuotaExceeded(limit: row.quota.maxJobsPerMonth))
            case "reservation_lost": .success(.reservationLost)
            default: .failure(CorruptRowError(table: "jobs", key: row.job.id.uuidString, reason: "fhe_submit_jobs answered \(outcome)"))
            }
        }
    }

    private static func run(_ query: PostgresQuery, pool: PostgresPool, logger: Logger) async throws -> [String] {
        guard let row = try await pool.rows(query, logger: logger).first else { return [] }
        return try row.decode([String].self)
    }

    /// The database answered the statement with an error of its own (a constraint, a value it
    /// cannot store, a trigger's exception), as opposed to failing or being unreachable.
    private static func isRefusal(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return !PostgresPool.isDatabaseFailure(error) && !isDeadlock(error)
    }

    /// SQLSTATE 40P01, deadlock_detected.
    private static func isDeadlock(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "40P01"
    }

    /// The statement, its rows as one array per column (row i is element i of each).
    static func statement(_ rows: [PostgresSubmission], channel: String) -> PostgresQuery {
        let jobs = rows.map(\.job)
        let claims = rows.map { $0.idempotency?.claim }, responses = rows.map { $0.idempotency?.response }
        let audits = rows.map(\.audit)
        let holder = PostgresOptionalArray(claims.map { $0?.holder })
        let key = PostgresOptionalArray(claims.map { $0?.key.key })
        let statusCode = PostgresOptionalArray(rows.map(\.statusCode))
        let response = PostgresOptionalArray(responses.map { $0.map { ByteBuffer(bytes: $0.body) } })
        let fhe = PostgresOptionalArray(rows.map(\.fhe))
        let callback = PostgresOptionalArray(jobs.map(\.callbackURL))
        let auditAt = PostgresOptionalArray(audits.map { $0?.at.microsecondsSince1970 })
        let auditTenant = PostgresOptionalArray(audits.map { $0?.tenant })
        let auditActor = PostgresOptionalArray(audits.map { $0?.actor })
        let auditAction = PostgresOptionalArray(audits.map { $0?.action })
        let auditTarget = PostgresOptionalArray(audits.map { $0?.target })
        let auditOutcome = PostgresOptionalArray(audits.map { $0?.outcome })
        let auditRequestID = PostgresOptionalArray(audits.map { $0?.requestID })
        return """
            SELECT fhe_submit_jobs(\(PostgresAdvisoryLocks.tenantInserts), \(channel),
                                   \(holder), \(jobs.map(\.id)), \(jobs.map(\.tenant)), \(jobs.map(\.owner)), \(jobs.map(\.type.rawValue)),
                                   \(rows.map(\.priority)), \(jobs.map(\.useFHE)), \(rows.map(\.payload)),
                                   \(jobs.map(\.createdAt.microsecondsSince1970)), \(rows.map(\.maxAttempts)),
                                   \(rows.map(\.timeoutSeconds)), \(jobs.map { Usage.month(of: $0.createdAt) }),
                                   \(rows.map { Int64($0.quota.maxActiveJobs) }), \(rows.map { Int64($0.quota.maxJobsPerMonth) }),
                                   \(key), \(statusCode), \(response), \(fhe), \(rows.map { Int64($0.storedBytes) }),
                                   \(rows.map { Int64($0.job.fhe?.quote.bootstraps ?? 0) }), \(callback),
                                   \(auditAt), \(auditTenant), \(auditActor), \(auditAction), \(auditTarget), \(auditOutcome), \(auditRequestID))
            """
    }
}

/// A value too large for its INT column: the submission carrying it fails alone.
struct PostgresColumnRangeError: Error, CustomStringConvertible {
    var column: String
    var value: Int
    var description: String { "\(column) \(value) does not fit PostgreSQL's INT column" }
}
