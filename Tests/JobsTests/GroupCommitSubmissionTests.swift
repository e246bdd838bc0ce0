import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import JobStorePostgres
import Jobs
import Logging
import PostgresNIO
import Synchronization
import Testing

/// Submissions written together (group commit, `PostgresSubmissionBatch`): concurrent callers
/// each get their own answer, as if each had been written alone, and a batch that fails
/// writes nothing. Where a batch must be known to form, the test holds a tenant's insert lock
/// from another session: the statement in flight waits for it, and what arrives meanwhile
/// gathers behind it.
@Suite("Group commit of submissions") struct GroupCommitSubmissionTests {
    /// Many submissions at once over HTTP: plain ones of four tenants, a tenant over its
    /// active-jobs quota, and idempotency keys each sent three times with one body and once
    /// with another. Every answer is the one the request would get alone; each accepted job
    /// is stored once, metered once and audited once (its record written with it).
    @Test(arguments: StoreKind.available)
    func concurrentSubmissionsEachGetTheirOwnAnswer(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let open = Plan(name: "open", ratePerSecond: 1_000_000, burst: 1_000_000, maxActiveJobs: 1_000_000, maxJobsPerMonth: 1_000_000)
            var capped = open
            capped.name = "capped"
            capped.maxActiveJobs = 5
            let h = try await ServiceHarness(store: store, context: context, plans: TenantPlans(default: open, tenants: ["capped": capped]))
            struct Request: Sendable {
                var tenant: String
                var key: String?
                var body: String
                var requestID: String
            }
            var requests: [Request] = []
            for tenant in ["t0", "t1", "t2", "t3"] {
                for i in 0..<15 { requests.append(Request(tenant: tenant, body: "\(tenant)-\(i)", requestID: "req-\(tenant)-\(i)")) }
            }
            for i in 0..<20 { requests.append(Request(tenant: "capped", body: "capped-\(i)", requestID: "req-capped-\(i)")) }
            for k in 0..<8 {
                for copy in 0..<3 { requests.append(Request(tenant: "keyed", key: "key-\(k)", body: "same-\(k)", requestID: "req-key-\(k)-\(copy)")) }
                requests.append(Request(tenant: "keyed", key: "key-\(k)", body: "other-\(k)", requestID: "req-key-\(k)-other"))
            }
            requests.shuffle()
            let sent = requests
            var tokens: [String: String] = [:]
            for tenant in Set(requests.map(\.tenant)) { tokens[tenant] = try await h.token(tenant: tenant) }
            let keyHeader = HTTPField.Name("Idempotency-Key")!, requestIDHeader = HTTPField.Name("X-Request-ID")!
            let replayedHeader = HTTPField.Name("Idempotent-Replayed")!
            struct Answer: Sendable {
                var request: Request
                var status: Int
                var code: String?
                var jobID: String?
                var replayed: Bool
            }
            let tokensByTenant = tokens
            let answers = try await h.test { client in
                try await withThrowingTaskGroup(of: Answer.self) { group in
                    for request in sent {
                        group.addTask {
                            var extra = [(requestIDHeader, request.requestID)]
                            if let key = request.key { extra.append((keyHeader, key)) }
                            let body: [String: Any] = ["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": request.body]]]
                            let answer = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(tokensByTenant[request.tenant]!, extra),
                                                                  body: jsonBuffer(body))
                            return Answer(request: request, status: Int(answer.status.code), code: answer.problemCode,
                                          jobID: answer.json["id"] as? String, replayed: answer.headers[replayedHeader] == "true")
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }

            // Plain tenants: every one accepted. The capped tenant: exactly its quota.
            for tenant in ["t0", "t1", "t2", "t3"] {
                #expect(answers.filter { $0.request.tenant == tenant }.map(\.status) == Array(repeating: 202, count: 15))
            }
            let cappedAnswers = answers.filter { $0.request.tenant == "capped" }
            #expect(cappedAnswers.filter { $0.status == 202 }.count == 5)
            #expect(cappedAnswers.filter { $0.status == 429 && $0.code == "QUOTA_EXCEEDED" }.count == 15)
            // Each key: one job, which every accepted answer for the key names; the rest are the
            // key in use (409) or reused with another body (422).
            for k in 0..<8 {
                let forKey = answers.filter { $0.request.key == "key-\(k)" }
                let accepted = forKey.filter { $0.status == 202 }
                #expect(Set(accepted.compactMap(\.jobID)).count == 1, "key-\(k): \(forKey.map { ($0.status, $0.jobID ?? "") })")
                #expect(accepted.filter { !$0.replayed }.count == 1, "key-\(k): one request created the job")
                #expect(Set(accepted.map(\.request.body)).count == 1, "key-\(k): replays carry the creator's body")
                #expect(forKey.allSatisfy { [202, 409, 422].contains($0.status) }, "key-\(k): \(forKey.map(\.status))")
                #expect(forKey.filter { $0.status == 422 }.allSatisfy { $0.code == "IDEMPOTENCY_KEY_REUSED" })
            }

            // Stored: exactly the created jobs, once each, each with its audit record and metered.
            let created = answers.filter { $0.status == 202 && !$0.replayed }
            #expect(created.count == 60 + 5 + 8)
            let stored = try await store.listJobs(JobQuery(visibility: .all, limit: 1_000))
            #expect(stored.count == created.count)
            #expect(Set(stored.map { $0.id.uuidString.lowercased() }) == Set(created.compactMap(\.jobID)))
            var audited: [AuditRecord] = []
            var before: Int64?
            while true {
                let page = try await store.listAudit(tenant: nil, before: before, limit: 500)
                audited += page
                guard let last = page.last?.id, page.count == 500 else { break }
                before = last
            }
            for answer in created {
                let records = audited.filter { $0.requestID == answer.request.requestID }
                #expect(records.count == 1 && records.first?.target == answer.jobID && records.first?.outcome == "202",
                        "\(answer.request.requestID): \(records)")
            }
            let month = Usage.month(of: Date())
            for (tenant, count) in [("t0", 15), ("capped", 5), ("keyed", 8)] {
                #expect(try await store.usage(tenant: tenant, month: month).jobsSubmitted == count, "\(tenant)")
            }
            if let postgres = store as? PostgresJobStore {
                let batches = postgres.submissionBatches
                #expect(batches.items == requests.count - answers.filter { $0.status == 422 || $0.status == 409 || $0.replayed }.count,
                        "every insert went through the queue: \(batches)")
                #expect(batches.largestBatch > 1, "concurrent submissions were written together: \(batches)")
                print("group commit, \(requests.count) concurrent requests: \(batches)")
            }
        }
    }

    /// A statement the database refuses for one row of its batch (here a trigger refuses one
    /// payload) writes nothing of it; the rows are then written one by one, so only the caller
    /// of the refused row gets the error, and the batch before it is written as usual.
    @Test func aRefusedRowFailsAloneNotItsWholeBatch() async throws {
        try await withStore(.postgres) { store, context in
            let store = try #require(store as? PostgresJobStore)
            let client = try #require(context.postgresClient)
            let logger = Logger(label: "test.group-commit")
            try await client.query("""
                CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.payload LIKE '%poison%' THEN RAISE EXCEPTION 'a poisoned row'; END IF;
                    RETURN NEW;
                END
                $$
                """, logger: logger)
            try await client.query("CREATE TRIGGER jobs_reject_poison BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION reject_poison()",
                                   logger: logger)
            let audit: @Sendable (Job) -> AuditRecord = { job in
                AuditRecord(at: job.createdAt, tenant: job.tenant, actor: job.owner, action: "job.submit",
                            target: job.id.uuidString.lowercased(), outcome: "202", requestID: "req-\(job.id)")
            }
            let first = makeJob()
            var batch = (0..<9).map { _ in makeJob() }
            batch.insert(makeJob(payload: ["algorithm": "sha256", "input": ["data": "poison"]]), at: 4)
            let (head, rest) = try await gathered(store: store, client: client, tenant: "acme", first: first, then: batch) { job in
                try await store.insertJob(job, quota: generousQuota, idempotency: nil, audit: audit(job))
            }
            #expect(try head.get() == .inserted)
            for (index, outcome) in rest.enumerated() {
                if index == 4 {
                    #expect(throws: PSQLError.self) { try outcome.get() }
                } else {
                    #expect(try outcome.get() == .inserted)
                }
            }
            #expect(store.submissionBatches.largestBatch == 10)
            let poisoned = batch[4].id
            #expect(try await store.job(id: poisoned) == nil)
            let stored = Set(try await store.listJobs(JobQuery(visibility: .all, limit: 100)).map(\.id))
            #expect(stored == Set([first.id] + batch.map(\.id).filter { $0 != poisoned }))
            // The first job went in without a record (`gathered`); each of the nine others with
            // its own, once, and the refused one with none.
            let records = try await store.listAudit(tenant: "acme", before: nil, limit: 100)
            #expect(records.count == 9 && !records.contains { $0.target == poisoned.uuidString.lowercased() })
            #expect(try await store.usage(tenant: "acme", month: Usage.month(of: first.createdAt)).jobsSubmitted == 10)
        }
    }

    /// A batch's rows share one statement but not one fate: quotas, lost reservations and
    /// tenants are each row's own, counted in order within the batch.
    @Test func eachRowOfABatchGetsItsOwnOutcome() async throws {
        try await withStore(.postgres) { store, context in
            let store = try #require(store as? PostgresJobStore)
            let client = try #require(context.postgresClient)
            let now = Date()
            let key = IdempotencyKey(tenant: "acme", key: "taken-over")
            let stalled = IdempotencyClaim(key: key), holder = IdempotencyClaim(key: key)
            #expect(try await store.reserveIdempotencyKey(stalled, requestHash: "h", now: now, window: 86_400, inFlightTimeout: 60) == .reserved)
            #expect(try await store.reserveIdempotencyKey(holder, requestHash: "h", now: now.addingTimeInterval(61), window: 86_400,
                                                          inFlightTimeout: 60) == .reserved)
            let lost = makeJob(), held = makeJob()
            let quota = Quota(maxActiveJobs: 4, maxJobsPerMonth: 100)
            let acme = (0..<4).map { _ in makeJob() }, other = makeJob(tenant: "other")
            struct Row: Sendable { var job: Job; var quota: Quota; var claim: IdempotencyClaim? }
            let rows = [Row(job: acme[0], quota: quota), Row(job: lost, quota: quota, claim: stalled), Row(job: acme[1], quota: quota),
                        Row(job: other, quota: Quota(maxActiveJobs: 1, maxJobsPerMonth: 1)), Row(job: held, quota: quota, claim: holder),
                        Row(job: acme[2], quota: quota), Row(job: acme[3], quota: Quota(maxActiveJobs: 100, maxJobsPerMonth: 4))]
            // acme's first job, in flight while the others gather: the batch counts it too.
            let first = makeJob()
            let (head, rest) = try await gathered(store: store, client: client, tenant: "acme", first: first, then: rows) { row in
                try await store.insertJob(row.job, quota: row.quota, idempotency: row.claim.map {
                    ($0, StoredResponse(statusCode: 202, jobID: row.job.id, body: Data("{\"job\":\"\(row.job.id)\"}".utf8)))
                })
            }
            #expect(try head.get() == .inserted)
            // acme (one job before): 0 and 1 in, the lost claim out, the held claim in (the
            // fourth active job), then 2 over the active quota, and 3 (a larger active quota)
            // over the monthly one; the other tenant's own quota lets its one job in.
            #expect(try rest.map { try $0.get() } == [.inserted, .reservationLost, .inserted, .inserted, .inserted,
                                                      .activeJobsQuotaExceeded(limit: 4), .monthlyQuotaExceeded(limit: 4)])
            #expect(store.submissionBatches.largestBatch == rows.count)
            #expect(try await store.reserveIdempotencyKey(IdempotencyClaim(key: key), requestHash: "h", now: now.addingTimeInterval(62),
                                                          window: 86_400, inFlightTimeout: 60)
                    == .completed(StoredResponse(statusCode: 202, jobID: held.id, body: Data("{\"job\":\"\(held.id)\"}".utf8))))
            let stored = Set(try await store.listJobs(JobQuery(visibility: .all, limit: 100)).map(\.id))
            #expect(stored == [first.id, acme[0].id, acme[1].id, other.id, held.id])
            #expect(try await store.usage(tenant: "acme", month: Usage.month(of: now)).jobsSubmitted == 4)
        }
    }

    /// A caller cancelled while its submission waits for the next batch: its job is never
    /// written, and the others' are written once each. The caller in flight gets its answer.
    @Test func aCancelledWaiterLosesNoOtherJob() async throws {
        try await withStore(.postgres) { store, context in
            let store = try #require(store as? PostgresJobStore)
            let client = try #require(context.postgresClient)
            let logger = Logger(label: "test.group-commit")
            let first = makeJob(), waiting = (0..<5).map { _ in makeJob() }
            try await holdingTenantLock(client: client, tenant: "acme", logger: logger) {
                let head = Task { try await store.insertJob(first, quota: generousQuota, idempotency: nil) }
                try await waitUntil { store.submissionBatches.flushes == 1 }
                var tasks: [Task<InsertOutcome, any Error>] = []
                for job in waiting {
                    tasks.append(Task { try await store.insertJob(job, quota: generousQuota, idempotency: nil) })
                    let count = tasks.count
                    try await waitUntil { store.submissionBatches.waiting == count }
                }
                tasks[1].cancel()
                tasks[3].cancel()
                head.cancel()
                try await waitUntil { store.submissionBatches.waiting == 3 }
                return (head, tasks)
            } after: { (started: (Task<InsertOutcome, any Error>, [Task<InsertOutcome, any Error>])) async throws in
                let (head, tasks) = started
                #expect(try await head.value == .inserted)
                for (index, task) in tasks.enumerated() {
                    if index == 1 || index == 3 {
                        await #expect(throws: CancellationError.self) { try await task.value }
                    } else {
                        #expect(try await task.value == .inserted)
                    }
                }
            }
            let stored = try await store.listJobs(JobQuery(visibility: .all, limit: 100)).map(\.id)
            #expect(stored.count == 4)
            #expect(Set(stored) == [first.id, waiting[0].id, waiting[2].id, waiting[4].id])
            #expect(try await store.usage(tenant: "acme", month: Usage.month(of: first.createdAt)).jobsSubmitted == 4)
        }
    }

    /// The statement deadline (`--database-query-seconds`) bounds a batch as it bounds one
    /// statement: callers whose batch waits past it are answered with a database failure
    /// (503 over the API), not left waiting.
    @Test func theStatementDeadlineBoundsABatch() async throws {
        try await withStore(.postgres) { _, context in
            let client = try #require(context.postgresClient)
            let logger = Logger(label: "test.group-commit")
            let deadline = Duration.seconds(1)
            let store = PostgresJobStore(client: client, logger: logger, breaker: CircuitBreaker(name: "database"), leaseTimeout: .seconds(10),
                                         queryTimeout: deadline)
            try await holdingTenantLock(client: client, tenant: "acme", logger: logger) {
                let started = ContinuousClock.now
                let outcomes = await withTaskGroup(of: Result<InsertOutcome, any Error>.self) { group in
                    for _ in 0..<6 {
                        group.addTask { await Result { try await store.insertJob(makeJob(), quota: generousQuota, idempotency: nil) } }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let took = ContinuousClock.now - started
                for outcome in outcomes {
                    #expect(throws: (any Error).self) { try outcome.get() }
                    if case .failure(let error) = outcome {
                        #expect(error is DependencyUnavailable || error is CircuitOpenError, "\(String(reflecting: error))")
                    }
                }
                #expect(took < .seconds(8), "answered after \(took)")
                return ()
            } after: { (_: Void) async throws in }
        }
    }
}

/// Holds `tenant`'s insert lock from a session of its own while `body` runs (the store's
/// statements for the tenant wait for it), releases it, then runs `after` with what `body` gave.
func holdingTenantLock<R: Sendable>(client: PostgresClient, tenant: String, logger: Logger,
                                    _ body: () async throws -> R, after: (R) async throws -> Void) async throws {
    let locked = TestGate(), release = TestGate()
    let holder = Task {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(PostgresAdvisoryLocks.tenantInserts), hashtext(\(tenant)))",
                                           logger: logger).collect()
            locked.open()
            await release.wait()
            _ = try await connection.query("SELECT pg_advisory_unlock(\(PostgresAdvisoryLocks.tenantInserts), hashtext(\(tenant)))",
                                           logger: logger).collect()
        }
    }
    await locked.wait()
    let result: R
    do {
        result = try await body()
    } catch {
        release.open()
        try? await holder.value
        throw error
    }
    release.open()
    try await holder.value
    try await after(result)
}

/// Submits `first` while `tenant`'s insert lock is held elsewhere (its statement waits for
/// the lock), then each of `then` (which wait for that statement and gather into the next
/// batch, in order), then lets the lock go; answers each one's outcome.
func gathered<Row: Sendable>(store: PostgresJobStore, client: PostgresClient, tenant: String, first: Job, then rows: [Row],
                             insert: @escaping @Sendable (Row) async throws -> InsertOutcome)
    async throws -> (Result<InsertOutcome, any Error>, [Result<InsertOutcome, any Error>]) {
    let logger = Logger(label: "test.group-commit")
    let outcomes = Mutex<(Result<InsertOutcome, any Error>?, [Result<InsertOutcome, any Error>])>((nil, []))
    try await holdingTenantLock(client: client, tenant: tenant, logger: logger) {
        let head = Task { await Result { try await store.insertJob(first, quota: generousQuota, idempotency: nil) } }
        try await waitUntil { store.submissionBatches.flushes == 1 }
        var tasks: [Task<Result<InsertOutcome, any Error>, Never>] = []
        for row in rows {
            tasks.append(Task { await Result { try await insert(row) } })
            let count = tasks.count
            try await waitUntil { store.submissionBatches.waiting == count }
        }
        return (head, tasks)
    } after: { (started: (Task<Result<InsertOutcome, any Error>, Never>, [Task<Result<InsertOutcome, any Error>, Never>])) async throws in
        let (head, tasks) = started
        let headOutcome = await head.value
        var rest: [Result<InsertOutcome, any Error>] = []
        for task in tasks { rest.append(await task.value) }
        outcomes.withLock { $0 = (headOutcome, rest) }
    }
    let (head, rest) = outcomes.withLock { $0 }
    return (try #require(head), rest)
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
