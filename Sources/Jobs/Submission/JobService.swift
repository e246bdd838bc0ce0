import Crypto
import Foundation
import Logging

/// The rules of submitting, reading and cancelling jobs; the HTTP layer only translates.
public final class JobService: Sendable {
    public struct Configuration: Sendable {
        /// How long a completed idempotent request is replayed (the seed's 24 hours).
        public var idempotencyWindow: TimeInterval = 24 * 3600
        /// After this, a reservation left by a crashed request lapses.
        public var idempotencyInFlightTimeout: TimeInterval = 60
        public var maxAttempts = 3
        public var defaultTimeoutSeconds = 300
        public var maxTimeoutSeconds = 3600
        public var plans = TenantPlans()
        public init() {}
    }

    public let store: any JobStore
    public let executors: ExecutorRegistry
    public let configuration: Configuration
    private let wakeup: QueueWakeup?
    private let logger: Logger

    public init(store: any JobStore, executors: ExecutorRegistry, configuration: Configuration = .init(),
                wakeup: QueueWakeup? = nil, logger: Logger = Logger(label: "fhe-jobs.service")) {
        self.store = store; self.executors = executors; self.configuration = configuration
        self.wakeup = wakeup; self.logger = logger
    }

    public struct Submitted: Sendable, Equatable {
        public var job: Job
        /// True when this is the stored answer to an earlier request with the same key.
        public var replayed: Bool
    }

    // MARK: Submit

    public func submit(_ submission: JobSubmission, by principal: Principal, idempotencyKey: String?,
                       now: Date = Date()) async throws -> Submitted {
        let timeout = try validate(submission)
        let key = try idempotencyKey.map { raw -> IdempotencyKey in
            guard !raw.isEmpty, raw.utf8.count <= 255 else {
                throw JobServiceError.invalidRequest("Idempotency-Key must be 1 to 255 characters")
            }
            return IdempotencyKey(tenant: principal.tenant, key: raw)
        }
        if let key {
            switch try await store.reserveIdempotencyKey(
                key, requestHash: submission.fingerprint, now: now,
                window: configuration.idempotencyWindow, inFlightTimeout: configuration.idempotencyInFlightTimeout) {
            case .reserved: break
            case .inProgress: throw JobServiceError.idempotencyInProgress
            case .mismatch: throw JobServiceError.idempotencyKeyReused
            case .completed(let stored):
                let job = try JSONDecoder().decode(Job.self, from: stored.body)
                return Submitted(job: job, replayed: true)
            }
        }
        let job = Job(tenant: principal.tenant, owner: principal.subject, type: submission.type,
                      priority: submission.priority, useFHE: submission.useFHE, payload: submission.payload,
                      createdAt: now, maxAttempts: configuration.maxAttempts, timeoutSeconds: timeout)
        let outcome: InsertOutcome
        do {
            let response = try key.map { ($0, StoredResponse(statusCode: 202, jobID: job.id, body: try JSONEncoder().encode(job))) }
            outcome = try await store.insertJob(job, quota: configuration.plans.plan(for: principal.tenant).quota, idempotency: response)
        } catch {
            if let key { try? await store.releaseIdempotencyKey(key) }
            throw error
        }
        switch outcome {
        case .inserted:
            wakeup?.signal()
            return Submitted(job: job, replayed: false)
        case .activeJobsQuotaExceeded(let limit):
            if let key { try await store.releaseIdempotencyKey(key) }
            throw JobServiceError.quotaExceeded("the tenant has \(limit) jobs queued or running, its plan's limit")
        case .monthlyQuotaExceeded(let limit):
            if let key { try await store.releaseIdempotencyKey(key) }
            throw JobServiceError.quotaExceeded("the tenant submitted \(limit) jobs this month, its plan's limit")
        }
    }

    /// Checks a submission before anything is stored; returns the job's timeout in seconds.
    func validate(_ submission: JobSubmission) throws(JobServiceError) -> Int {
        if submission.useFHE || submission.type == .fheCompute {
            throw .unsupportedJobType("confidential (useFHE) jobs are not enabled on this server")
        }
        let payload: InputFields
        var parameters: InputFields?
        do {
            payload = try InputFields(submission.payload, path: "payload", kind: "a compute payload", known: ["algorithm", "input", "parameters"])
            if let value = payload["parameters"] {
                parameters = try InputFields(value, path: "payload.parameters", kind: "the job parameters", known: ["timeout"])
            }
        } catch { throw .invalidRequest(error.message) }
        guard let algorithm = payload["algorithm"]?.stringValue else {
            throw .invalidRequest("payload.algorithm must be a string naming the algorithm")
        }
        guard let executor = executors.executor(for: algorithm) else {
            throw .unsupportedJobType("no compute algorithm \"\(algorithm.prefix(64))\"; known: \(executors.algorithms.joined(separator: ", "))")
        }
        guard let input = payload["input"] else { throw .invalidRequest("payload.input is required") }
        do { try executor.validate(input: input) } catch { throw .invalidRequest(error.message) }

        var timeout = configuration.defaultTimeoutSeconds
        if let value = parameters?["timeout"] {
            guard let seconds = value.integerValue, (1...configuration.maxTimeoutSeconds).contains(seconds) else {
                throw .invalidRequest("payload.parameters.timeout must be a whole number of seconds from 1 to \(configuration.maxTimeoutSeconds)")
            }
            timeout = seconds
        }
        return timeout
    }

    // MARK: Read and cancel

    /// The job, if the principal may see it; another tenant's job is "not found".
    public func job(id: JobID, for principal: Principal) async throws -> Job {
        guard let job = try await store.job(id: id), principal.canSee(job) else { throw JobServiceError.notFound }
        return job
    }

    public func list(_ query: JobQuery, for principal: Principal) async throws -> (jobs: [Job], next: JobQuery.Cursor?) {
        var q = query
        q.visibility = principal.visibility
        q.limit = min(max(1, query.limit), 100)
        // One more than asked says whether another page follows.
        var jobs = try await store.listJobs(JobQuery(visibility: q.visibility, status: q.status, type: q.type,
                                                     createdAfter: q.createdAfter, createdBefore: q.createdBefore,
                                                     after: q.after, limit: q.limit + 1))
        var next: JobQuery.Cursor?
        if jobs.count > q.limit {
            jobs.removeLast(jobs.count - q.limit)
            next = jobs.last.map(JobQuery.Cursor.init(after:))
        }
        return (jobs, next)
    }

    public func cancel(id: JobID, by principal: Principal, now: Date = Date()) async throws -> Job {
        let current = try await job(id: id, for: principal)
        guard current.status == .queued || current.status == .running || current.status == .cancelled else {
            throw JobServiceError.notCancellable(current.status)
        }
        guard let job = try await store.cancelJob(id: id, now: now) else { throw JobServiceError.notFound }
        guard job.status == .cancelled else { throw JobServiceError.notCancellable(job.status) }
        return job
    }

    // MARK: Usage and audit

    public func usage(tenant requested: String?, month: String?, for principal: Principal, now: Date = Date()) async throws -> Usage {
        let tenant = requested ?? principal.tenant
        guard tenant == principal.tenant || principal.role == .admin else {
            throw JobServiceError.forbidden("only admins may read another tenant's usage")
        }
        return try await store.usage(tenant: tenant, month: month ?? Usage.month(of: now))
    }

    public func audit(tenant: String?, before: Int64?, limit: Int, for principal: Principal) async throws -> [AuditRecord] {
        guard principal.role == .admin else { throw JobServiceError.forbidden("the audit trail is for admins") }
        return try await store.listAudit(tenant: tenant, before: before, limit: min(max(1, limit), 500))
    }

    public func record(_ record: AuditRecord) async {
        do { try await store.appendAudit(record) } catch {
            // An audit write that fails must be seen: log it loudly (the request itself is done).
            logger.error("audit record not stored", metadata: ["action": "\(record.action)", "error": "\(error)"])
        }
    }
}
