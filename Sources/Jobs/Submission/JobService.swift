import Crypto
import Foundation
import Logging
import Metrics
import Tracing

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
        /// Submissions are refused (503 QUEUE_FULL) while the queue holds this many jobs
        /// (`QueueAdmission`): a bound on the work accepted and not yet started.
        public var maxQueuedJobs = 100_000
        /// How often the queue is counted for that bound.
        public var queueRecountInterval: Duration = .seconds(1)
        public init() {}
    }

    public let store: any JobStore
    public let executors: ExecutorRegistry
    /// The confidential half (`fhe_compute` jobs); nil where it is not enabled.
    public let confidential: (any ConfidentialJobs)?
    /// Checks callback URLs at submission; nil where no webhook is delivered.
    public let webhooks: (any WebhookTransport)?
    public let configuration: Configuration
    private let wakeup: QueueWakeup?
    private let admission: QueueAdmission
    private let logger: Logger

    public init(store: any JobStore, executors: ExecutorRegistry, confidential: (any ConfidentialJobs)? = nil,
                webhooks: (any WebhookTransport)? = nil, configuration: Configuration = .init(),
                wakeup: QueueWakeup? = nil, logger: Logger = Logger(label: "fhe-jobs.service")) {
        self.store = store; self.executors = executors; self.confidential = confidential; self.webhooks = webhooks
        self.configuration = configuration
        self.wakeup = wakeup; self.logger = logger
        admission = QueueAdmission(maxQueued: configuration.maxQueuedJobs, recountInterval: configuration.queueRecountInterval) {
            try await store.countNonTerminalJobs()[.queued] ?? 0
        }
    }

    public struct Submitted: Sendable, Equatable {
        public var job: Job
        /// True when this is the stored answer to an earlier request with the same key.
        public var replayed: Bool
    }

    /// The status of an accepted submission: what its stored replay answers and what its
    /// audit record says.
    public static let acceptedStatus = 202

    /// What the audit record of a submission needs beside the principal and the job: the
    /// record is written with the job, in its transaction (one commit, not two), and only
    /// when the job is inserted.
    public struct SubmissionAudit: Sendable {
        public var action: String
        public var requestID: String
        public init(action: String, requestID: String) { self.action = action; self.requestID = requestID }
    }

    // MARK: Submit

    /// With `audit`, a job inserted is audited in the insert's transaction, as accepted; the
    /// caller audits every other answer (a replay, a refusal) itself.
    public func submit(_ submission: JobSubmission, by principal: Principal, idempotencyKey: String?,
                       audit: SubmissionAudit? = nil, now: Date = Date()) async throws -> Submitted {
        try await withSpan(JobSpans.submit) { span in
            let submitted = try await accept(submission, by: principal, idempotencyKey: idempotencyKey, audit: audit, now: now)
            JobSpans.describe(submitted.job, on: span)
            span.attributes[JobSpans.replayed] = submitted.replayed
            return submitted
        }
    }

    private func accept(_ submission: JobSubmission, by principal: Principal, idempotencyKey: String?,
                        audit: SubmissionAudit?, now: Date) async throws -> Submitted {
        let timeout = try validate(submission)
        if let callback = submission.callbackURL { try await checkCallback(callback) }
        // This request's claim on the key: only it can complete or release the reservation.
        let key = try idempotencyKey.map { raw -> IdempotencyClaim in
            guard !raw.isEmpty, raw.utf8.count <= 255 else {
                throw JobServiceError.invalidRequest("Idempotency-Key must be 1 to 255 characters")
            }
            return IdempotencyClaim(key: IdempotencyKey(tenant: principal.tenant, key: raw))
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
        // A replay gets its stored answer above whatever the queue holds; a new job waits for
        // room. Without a key the refusal costs a lock, not a write.
        do {
            try await admission.admit()
        } catch {
            if let key { try? await store.releaseIdempotencyKey(key) }
            Counter(label: "fhe_jobs_submissions_shed_total").increment()
            throw JobServiceError.queueFull(error)
        }
        var job = Job(tenant: principal.tenant, owner: principal.subject, type: submission.type,
                      priority: submission.priority, useFHE: submission.useFHE, payload: submission.payload,
                      createdAt: now, maxAttempts: configuration.maxAttempts, timeoutSeconds: timeout)
        job.callbackURL = submission.callbackURL
        var prepared: PreparedConfidentialJob?
        if submission.type == .fheCompute, let confidential {
            do {
                let p = try await confidential.prepare(payload: submission.payload, jobID: job.id, principal: principal, now: now)
                prepared = p
                try checkCost(p.record.quote, tenant: principal.tenant)
                if submission.payload["parameters"]?["timeout"] == nil {
                    job.timeoutSeconds = Self.confidentialTimeout(p.record.quote, default: timeout)
                }
                job.payload = p.payload
                job.fhe = p.record
            } catch {
                if let prepared { await confidential.discard(prepared, jobID: job.id, tenant: job.tenant) }
                if let key { try? await store.releaseIdempotencyKey(key) }
                throw error
            }
        }
        let outcome: InsertOutcome
        do {
            let response = try key.map { ($0, StoredResponse(statusCode: Self.acceptedStatus, jobID: job.id, body: try JSONEncoder().encode(job))) }
            let record = audit.map {
                AuditRecord(at: now, tenant: principal.tenant, actor: principal.subject, action: $0.action,
                            target: job.id.uuidString.lowercased(), outcome: "\(Self.acceptedStatus)", requestID: $0.requestID)
            }
            outcome = try await store.insertJob(job, quota: configuration.plans.plan(for: principal.tenant).quota, idempotency: response,
                                                audit: record)
        } catch {
            if let key { try? await store.releaseIdempotencyKey(key) }
            if let prepared { await confidential?.discard(prepared, jobID: job.id, tenant: job.tenant) }
            throw error
        }
        if outcome != .inserted, let prepared { await confidential?.discard(prepared, jobID: job.id, tenant: job.tenant) }
        switch outcome {
        case .inserted:
            wakeup?.signal()
            return Submitted(job: job, replayed: false)
        case .activeJobsQuotaExceeded(let limit):
            if let key { try await store.releaseIdempotencyKey(key) }
            throw JobServiceError.quotaExceeded("the tenant has \(limit) jobs queued or running, its plan's limit", retryAfter: nil)
        case .monthlyQuotaExceeded(let limit):
            if let key { try await store.releaseIdempotencyKey(key) }
            throw JobServiceError.quotaExceeded("the tenant submitted \(limit) jobs this month, its plan's limit",
                                               retryAfter: .seconds(max(1, Usage.nextMonth(after: now).timeIntervalSince(now))))
        case .reservationLost:
            // This request stalled past the in-flight timeout and another took the key over:
            // that one makes the job, and a retry of this one gets its answer.
            throw JobServiceError.idempotencyInProgress
        }
    }

    /// The longest callback URL accepted (the common practical limit of URLs).
    public static let maxCallbackURLLength = 2048

    /// A callback URL is checked as an encrypted-data URL is (scheme, allowed host, every
    /// address it resolves to now), against the webhook policy; the address is checked again
    /// at every delivery.
    func checkCallback(_ url: String) async throws {
        guard url.utf8.count <= Self.maxCallbackURLLength else {
            throw JobServiceError.invalidRequest("callbackUrl is longer than \(Self.maxCallbackURLLength) bytes")
        }
        guard let webhooks else {
            throw JobServiceError.refused(Refusal("URL_NOT_ALLOWED", status: 400,
                                                  "callbackUrl is not allowed: this server delivers no webhooks (no --webhook-allow-host)"))
        }
        try await webhooks.checkCallback(url)
    }

    /// A quote over the tenant's plan is refused with the quote, so the client sees why.
    func checkCost(_ quote: FHEQuote, tenant: String) throws(JobServiceError) {
        if let limit = configuration.plans.plan(for: tenant).maxBootstrapsPerJob, quote.bootstraps > limit {
            throw .refused(Refusal("JOB_TOO_EXPENSIVE", status: 422,
                                   "the job needs \(quote.bootstraps) bootstraps; the plan allows \(limit) per job", quote: quote))
        }
    }

    /// The quote of a confidential submission, without queuing anything (`POST /v1/fhe/quote`).
    public func quote(_ submission: JobSubmission, by principal: Principal, now: Date = Date()) async throws -> FHEQuote {
        _ = try validate(submission)
        guard submission.type == .fheCompute, let confidential else {
            throw JobServiceError.invalidRequest("only fhe_compute submissions (with useFHE: true) have a quote")
        }
        let jobID = UUID()
        let prepared = try await confidential.prepare(payload: submission.payload, jobID: jobID, principal: principal, now: now)
        await confidential.discard(prepared, jobID: jobID, tenant: principal.tenant)
        return prepared.record.quote
    }

    /// Checks a submission before anything is stored; returns the job's timeout in seconds.
    /// A confidential payload's own fields are checked by `ConfidentialJobs.prepare`.
    func validate(_ submission: JobSubmission) throws(JobServiceError) -> Int {
        if submission.useFHE != (submission.type == .fheCompute) {
            throw .refused(Refusal("FHE_TYPE_MISMATCH", status: 400, submission.useFHE
                ? "useFHE: true goes with type fhe_compute"
                : "type fhe_compute goes with useFHE: true"))
        }
        let payload: InputFields
        var parameters: InputFields?
        let isConfidential = submission.type == .fheCompute
        do throws(JobInputError) {
            payload = try InputFields(submission.payload, path: "payload", kind: isConfidential ? "an fhe_compute payload" : "a compute payload",
                                      known: isConfidential ? Self.confidentialPayloadFields : ["algorithm", "input", "parameters"])
            if let value = payload["parameters"] {
                if isConfidential {
                    guard value.objectValue != nil else { throw JobInputError("payload.parameters must be an object") }
                } else {
                    parameters = try InputFields(value, path: "payload.parameters", kind: "the job parameters", known: ["timeout"])
                }
            }
        } catch { throw .invalidRequest(error.message) }
        guard let algorithm = payload["algorithm"]?.stringValue else {
            throw .invalidRequest("payload.algorithm must be a string naming the algorithm")
        }
        if isConfidential {
            guard let confidential else {
                throw .unsupportedJobType("confidential (useFHE) jobs are not enabled on this server")
            }
            guard confidential.algorithms.contains(algorithm) else {
                throw .unsupportedJobType("no fhe_compute algorithm \"\(algorithm.prefix(64))\"; known: \(confidential.algorithms.joined(separator: ", "))")
            }
            return try timeout(payload["parameters"]?["timeout"])
        }
        guard let executor = executors.executor(for: algorithm) else {
            throw .unsupportedJobType("no compute algorithm \"\(algorithm.prefix(64))\"; known: \(executors.algorithms.joined(separator: ", "))")
        }
        guard let input = payload["input"] else { throw .invalidRequest("payload.input is required") }
        do { try executor.validate(input: input) } catch { throw .invalidRequest(error.message) }

        return try timeout(parameters?["timeout"])
    }

    /// The fields of an `fhe_compute` payload (the seed's, plus the two other ways of giving
    /// the encrypted data and client-key mode's server key).
    public static let confidentialPayloadFields = [
        "algorithm", "parameters", "client_public_key", "encrypted_data", "encrypted_data_id",
        "encrypted_data_url", "encrypted_data_sha256", "server_key_id",
    ]

    /// A confidential job without a `timeout` of its own gets three times its predicted
    /// seconds and a minute, at least the default and at most a day: the quote knows how long
    /// it will run, and the default of a plain job would stop a long one for no fault.
    static func confidentialTimeout(_ quote: FHEQuote, default seconds: Int) -> Int {
        let predicted = quote.predictedSeconds.isFinite ? quote.predictedSeconds : 0
        return min(24 * 3600, max(seconds, Int((3 * min(predicted, 1e6)).rounded(.up)) + 60))
    }

    private func timeout(_ value: JSONValue?) throws(JobServiceError) -> Int {
        guard let value else { return configuration.defaultTimeoutSeconds }
        guard let seconds = value.integerValue, (1...configuration.maxTimeoutSeconds).contains(seconds) else {
            throw .invalidRequest("payload.parameters.timeout must be a whole number of seconds from 1 to \(configuration.maxTimeoutSeconds)")
        }
        return seconds
    }

    // MARK: Read and cancel

    /// The job, if the principal may see it; another tenant's job is "not found".
    /// `POST /v1/jobs/{jobId}/fhe-result`, checked in the documented order: the job is the
    /// caller's (404), confidential (409 NOT_CONFIDENTIAL_JOB), the body well formed (400,
    /// `request` reads it), the job succeeded, confirmed or not (409 JOB_NOT_FINISHED); then
    /// the key service checks the signature and the nonce and answers.
    public func retrieveResult(id: JobID, request: () throws(JobServiceError) -> ResultRetrievalRequest,
                               by principal: Principal, now: Date = Date()) async throws -> ResultRetrievalAnswer {
        let job = try await job(id: id, for: principal)
        guard job.useFHE, let confidential else { throw JobServiceError.notConfidential }
        let request = try request()
        guard job.status == .succeeded || job.status == .confirmed else { throw JobServiceError.jobNotFinished(job.status) }
        return try await confidential.retrieve(job, request: request, now: now)
    }

    public func job(id: JobID, for principal: Principal) async throws -> Job {
        guard let job = try await store.job(id: id, tenant: principal.storeTenant), principal.canSee(job) else { throw JobServiceError.notFound }
        return job
    }

    /// The webhook deliveries of a job the principal may see, in order, with their attempts.
    public func webhookDeliveries(id: JobID, for principal: Principal) async throws -> [WebhookDelivery] {
        let job = try await job(id: id, for: principal)
        return try await store.webhookDeliveries(jobID: job.id)
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
        guard let job = try await store.cancelJob(id: id, tenant: principal.storeTenant, now: now) else { throw JobServiceError.notFound }
        guard job.status == .cancelled else { throw JobServiceError.notCancellable(job.status) }
        return job
    }

    // MARK: Usage and audit

    public func usage(tenant requested: String?, month: String?, for principal: Principal, now: Date = Date()) async throws -> Usage {
        let tenant = requested ?? principal.tenant
        guard tenant == principal.tenant || principal.canOverseeTenant(tenant) else {
            throw JobServiceError.forbidden("only operators may read another tenant's usage")
        }
        return try await store.usage(tenant: tenant, month: month ?? Usage.month(of: now))
    }

    public func audit(tenant: String?, before: Int64?, limit: Int, for principal: Principal) async throws -> [AuditRecord] {
        guard principal.role == .admin || principal.role == .serviceOperator else {
            throw JobServiceError.forbidden("the audit trail is for admins (their tenant's) and operators")
        }
        if let tenant, !principal.canOverseeTenant(tenant) {
            throw JobServiceError.forbidden("only operators may read another tenant's audit trail")
        }
        // An admin's trail is its tenant's; an operator's is the tenant it names, or all.
        let scope = principal.role == .serviceOperator ? tenant : principal.tenant
        return try await store.listAudit(tenant: scope, before: before, limit: min(max(1, limit), 500))
    }

    public func record(_ record: AuditRecord) async {
        do { try await store.appendAudit(record) } catch {
            // An audit write that fails must be seen: log it loudly (the request itself is done).
            logger.error("audit record not stored", metadata: ["action": "\(record.action)", "error": "\(error)"])
        }
    }
}
