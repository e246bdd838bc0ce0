import Crypto
import Foundation
import Jobs
import JobStorePostgres
import Logging
import PostgresNIO
import Testing

/// One behavioural suite, run on every store (SQLite and PostgreSQL).
@Suite("JobStore behaviour") struct JobStoreSuite {
    @Test(arguments: StoreKind.available)
    func insertReadAndList(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            var jobs: [Job] = []
            for i in 0..<5 {
                let job = makeJob(owner: i % 2 == 0 ? "alice" : "bob", createdAt: t0.addingTimeInterval(Double(i)))
                #expect(try await store.insertJob(job, quota: generousQuota, idempotency: nil) == .inserted)
                jobs.append(job)
            }
            try await store.insertJob(makeJob(tenant: "other", createdAt: t0), quota: generousQuota, idempotency: nil)
            let read = try #require(try await store.job(id: jobs[0].id))
            #expect(read == jobs[0])
            #expect(try await store.job(id: UUID()) == nil)

            // Newest first, keyset pages that neither skip nor repeat.
            let page1 = try await store.listJobs(JobQuery(visibility: .tenant("acme"), limit: 2))
            #expect(page1.map(\.id) == [jobs[4].id, jobs[3].id])
            let page2 = try await store.listJobs(JobQuery(visibility: .tenant("acme"), after: .init(after: page1[1]), limit: 2))
            #expect(page2.map(\.id) == [jobs[2].id, jobs[1].id])
            let own = try await store.listJobs(JobQuery(visibility: .owner(tenant: "acme", subject: "bob"), limit: 10))
            #expect(Set(own.map(\.id)) == [jobs[1].id, jobs[3].id])
            #expect(try await store.listJobs(JobQuery(visibility: .all, limit: 100)).count == 6)
            let window = try await store.listJobs(JobQuery(visibility: .tenant("acme"), createdAfter: t0.addingTimeInterval(0.5),
                                                           createdBefore: t0.addingTimeInterval(3.5), limit: 10))
            #expect(window.map(\.id) == [jobs[3].id, jobs[2].id, jobs[1].id])
            #expect(try await store.listJobs(JobQuery(visibility: .all, status: .running, limit: 10)).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func leasesByPriorityThenAgeAndHonoursRunAfter(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let oldLow = makeJob(priority: .low, createdAt: now.addingTimeInterval(-30))
            let newHigh = makeJob(priority: .high, createdAt: now.addingTimeInterval(-1))
            let oldHigh = makeJob(priority: .high, createdAt: now.addingTimeInterval(-2))
            let normal = makeJob(priority: .normal, createdAt: now.addingTimeInterval(-20))
            for job in [oldLow, newHigh, oldHigh, normal] { try await store.insertJob(job, quota: generousQuota, idempotency: nil) }
            var order: [JobID] = []
            while let job = try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now) {
                #expect(job.status == .running && job.attempts == 1 && job.leaseOwner == "w")
                order.append(job.id)
            }
            #expect(order == [oldHigh.id, newHigh.id, normal.id, oldLow.id])

            // A failed attempt waits for its retry time.
            #expect(try await store.failJob(jobID: oldHigh.id, workerID: "w", failure: .init(code: "X", message: "boom"),
                                            retryAt: now.addingTimeInterval(10), computeSeconds: 1, now: now))
            #expect(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now) == nil)
            let again = try #require(try await store.leaseNextJob(workerID: "w2", leaseDuration: 30, now: now.addingTimeInterval(11)))
            #expect(again.id == oldHigh.id && again.attempts == 2 && again.failure?.code == "X")
        }
    }

    @Test(arguments: StoreKind.available)
    func transitionsAreGuarded(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let job = makeJob()
            try await store.insertJob(job, quota: generousQuota, idempotency: nil)
            _ = try #require(try await store.leaseNextJob(workerID: "w1", leaseDuration: 30, now: now))
            // Another worker cannot finish, fail, release or heartbeat it.
            #expect(try await !store.completeJob(jobID: job.id, workerID: "w2", result: ["x": 1], resultHash: "h", computeSeconds: 1, now: now))
            #expect(try await !store.failJob(jobID: job.id, workerID: "w2", failure: .init(code: "X", message: "m"), retryAt: nil, computeSeconds: 0, now: now))
            #expect(try await !store.heartbeat(jobID: job.id, workerID: "w2", leaseDuration: 30, now: now))
            #expect(try await store.heartbeat(jobID: job.id, workerID: "w1", leaseDuration: 30, now: now))
            #expect(try await store.completeJob(jobID: job.id, workerID: "w1", result: ["x": 1], resultHash: "h", computeSeconds: 1.5, now: now))
            // Twice is refused: one result per job.
            #expect(try await !store.completeJob(jobID: job.id, workerID: "w1", result: ["x": 2], resultHash: "h2", computeSeconds: 1, now: now))
            let done = try #require(try await store.job(id: job.id))
            #expect(done.status == .succeeded && done.result == ["x": 1] && done.resultHash == "h" && done.leaseOwner == nil)
            // A finished job is not cancelled.
            #expect(try await store.cancelJob(id: job.id, now: now)?.status == .succeeded)

            let confirmation = Confirmation(kind: .ledger, reference: "abc", blockNumber: 7, confirmedAt: now)
            #expect(try await store.jobsAwaitingConfirmation(limit: 10).map(\.id) == [job.id])
            #expect(try await store.markConfirmed(jobID: job.id, confirmation: confirmation, now: now))
            #expect(try await !store.markConfirmed(jobID: job.id, confirmation: confirmation, now: now))
            let confirmed = try #require(try await store.job(id: job.id))
            #expect(confirmed.status == .confirmed && confirmed.confirmation?.reference == "abc" && confirmed.confirmation?.blockNumber == 7)
            #expect(try await store.jobsAwaitingConfirmation(limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func cancellationOfQueuedAndRunningJobs(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let queued = makeJob(createdAt: now.addingTimeInterval(-1)), running = makeJob(createdAt: now.addingTimeInterval(-2))
            try await store.insertJob(queued, quota: generousQuota, idempotency: nil)
            try await store.insertJob(running, quota: generousQuota, idempotency: nil)
            #expect(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now)?.id == running.id)
            // Reads and cancellations that name a tenant see only its jobs.
            #expect(try await store.job(id: queued.id, tenant: "globex") == nil)
            #expect(try await store.job(id: queued.id, tenant: "acme")?.id == queued.id)
            #expect(try await store.cancelJob(id: queued.id, tenant: "globex", now: now) == nil)
            #expect(try await store.job(id: queued.id)?.status == .queued)
            let inFlight = try await store.countNonTerminalJobs()
            #expect(inFlight == [.queued: 1, .running: 1, .succeeded: 0])
            #expect(try await store.cancelJob(id: queued.id, now: now)?.status == .cancelled)
            #expect(try await store.cancelJob(id: running.id, now: now)?.status == .cancelled)
            #expect(try await store.cancelJob(id: UUID(), now: now) == nil)
            // The worker learns at its next heartbeat, and its result is refused.
            #expect(try await !store.heartbeat(jobID: running.id, workerID: "w", leaseDuration: 30, now: now))
            #expect(try await !store.completeJob(jobID: running.id, workerID: "w", result: [:], resultHash: "h", computeSeconds: 1, now: now))
            #expect(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now) == nil)
            let after = try await store.countNonTerminalJobs()
            #expect(after == [.queued: 0, .running: 0, .succeeded: 0])
        }
    }

    @Test(arguments: StoreKind.available)
    func expiredLeasesAreRescuedOrFailed(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let retried = makeJob(createdAt: now.addingTimeInterval(-2), maxAttempts: 3)
            let exhausted = makeJob(createdAt: now.addingTimeInterval(-1), maxAttempts: 1)
            try await store.insertJob(retried, quota: generousQuota, idempotency: nil)
            try await store.insertJob(exhausted, quota: generousQuota, idempotency: nil)
            _ = try await store.leaseNextJob(workerID: "dead", leaseDuration: 5, now: now)
            _ = try await store.leaseNextJob(workerID: "dead", leaseDuration: 5, now: now)
            #expect(try await store.rescueExpiredLeases(now: now.addingTimeInterval(4)) == 0)
            #expect(try await store.rescueExpiredLeases(now: now.addingTimeInterval(6)) == 2)
            #expect(try await store.job(id: retried.id)?.status == .queued)
            let failed = try #require(try await store.job(id: exhausted.id))
            #expect(failed.status == .failed && failed.failure == .leaseExpired)
            // The dead worker's late result is refused; a live worker takes the job over.
            #expect(try await !store.completeJob(jobID: retried.id, workerID: "dead", result: [:], resultHash: "h", computeSeconds: 1, now: now))
            let takeover = try #require(try await store.leaseNextJob(workerID: "alive", leaseDuration: 5, now: now.addingTimeInterval(7)))
            #expect(takeover.id == retried.id && takeover.attempts == 2)
            #expect(try await store.usage(tenant: "acme", month: Usage.month(of: now)).jobsFailed == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func releaseReturnsTheJobWithoutCountingTheAttempt(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let job = makeJob()
            try await store.insertJob(job, quota: generousQuota, idempotency: nil)
            _ = try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now)
            #expect(try await store.releaseJob(jobID: job.id, workerID: "w", now: now))
            let back = try #require(try await store.job(id: job.id))
            #expect(back.status == .queued && back.attempts == 0 && back.leaseOwner == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentWorkersNeverShareAJob(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            for i in 0..<40 { try await store.insertJob(makeJob(createdAt: now.addingTimeInterval(Double(-i))), quota: generousQuota, idempotency: nil) }
            let leased = try await withThrowingTaskGroup(of: [JobID].self) { group in
                for w in 0..<8 {
                    group.addTask {
                        var mine: [JobID] = []
                        while let job = try await store.leaseNextJob(workerID: "w\(w)", leaseDuration: 30, now: now) { mine.append(job.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(leased.count == 40 && Set(leased).count == 40)
        }
    }

    @Test(arguments: StoreKind.available)
    func idempotencyKeyLifecycle(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let key = IdempotencyKey(tenant: "acme", key: "k1")
            // Each request comes with a claim of its own.
            func reserve(_ hash: String, at t: Date, _ claim: IdempotencyClaim? = nil) async throws -> IdempotencyReservation {
                try await store.reserveIdempotencyKey(claim ?? IdempotencyClaim(key: key), requestHash: hash, now: t,
                                                      window: 86_400, inFlightTimeout: 60)
            }
            let first = IdempotencyClaim(key: key)
            #expect(try await reserve("h1", at: now, first) == .reserved)
            #expect(try await reserve("h1", at: now) == .inProgress)
            #expect(try await reserve("h2", at: now) == .mismatch)
            // Keys are per tenant.
            #expect(try await store.reserveIdempotencyKey(IdempotencyClaim(key: IdempotencyKey(tenant: "other", key: "k1")), requestHash: "h9",
                                                          now: now, window: 86_400, inFlightTimeout: 60) == .reserved)
            let job = makeJob()
            let response = StoredResponse(statusCode: 202, jobID: job.id, body: Data("{\"stored\":true}".utf8))
            #expect(try await store.insertJob(job, quota: generousQuota, idempotency: (first, response)) == .inserted)
            #expect(try await reserve("h1", at: now.addingTimeInterval(3600)) == .completed(response))
            #expect(try await reserve("h2", at: now.addingTimeInterval(3600)) == .mismatch)
            // After the 24-hour window the key is free again.
            #expect(try await reserve("h2", at: now.addingTimeInterval(86_401)) == .reserved)

            // A released reservation is free at once.
            let released = IdempotencyClaim(key: IdempotencyKey(tenant: "acme", key: "released"))
            #expect(try await store.reserveIdempotencyKey(released, requestHash: "a", now: now, window: 86_400, inFlightTimeout: 60) == .reserved)
            try await store.releaseIdempotencyKey(released)
            #expect(try await store.reserveIdempotencyKey(IdempotencyClaim(key: released.key), requestHash: "b", now: now,
                                                          window: 86_400, inFlightTimeout: 60) == .reserved)
        }
    }

    /// A request that stalls past the in-flight timeout loses its reservation to the request
    /// that takes the key over: its release leaves the new holder's reservation alone, and its
    /// completion inserts nothing, so one key makes one job.
    @Test(arguments: StoreKind.available)
    func aStalledRequestCannotTouchTheReservationThatTookItsKey(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let key = IdempotencyKey(tenant: "acme", key: "stalled")
            func reserve(_ claim: IdempotencyClaim, at seconds: TimeInterval) async throws -> IdempotencyReservation {
                try await store.reserveIdempotencyKey(claim, requestHash: "same", now: now.addingTimeInterval(seconds),
                                                      window: 86_400, inFlightTimeout: 60)
            }
            let stalled = IdempotencyClaim(key: key), takeover = IdempotencyClaim(key: key)
            #expect(try await reserve(stalled, at: 0) == .reserved)
            #expect(try await reserve(takeover, at: 61) == .reserved)
            // The stalled request fails (a quota, say) and releases: the key stays taken.
            try await store.releaseIdempotencyKey(stalled)
            #expect(try await reserve(IdempotencyClaim(key: key), at: 62) == .inProgress)
            // The stalled request completes: nothing is inserted.
            let late = makeJob()
            let lateResponse = StoredResponse(statusCode: 202, jobID: late.id, body: Data("{}".utf8))
            #expect(try await store.insertJob(late, quota: generousQuota, idempotency: (stalled, lateResponse)) == .reservationLost)
            #expect(try await store.job(id: late.id) == nil)
            // The holder completes, and retries are answered with its job.
            let job = makeJob()
            let response = StoredResponse(statusCode: 202, jobID: job.id, body: Data("{\"holder\":true}".utf8))
            #expect(try await store.insertJob(job, quota: generousQuota, idempotency: (takeover, response)) == .inserted)
            #expect(try await reserve(IdempotencyClaim(key: key), at: 63) == .completed(response))
            // A stalled release after completion changes nothing either.
            try await store.releaseIdempotencyKey(stalled)
            #expect(try await reserve(IdempotencyClaim(key: key), at: 64) == .completed(response))
            let usage = try await store.usage(tenant: "acme", month: Usage.month(of: job.createdAt))
            #expect(usage.jobsSubmitted == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func hundredConcurrentReservationsYieldOne(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let key = IdempotencyKey(tenant: "acme", key: "race")
            let outcomes = try await withThrowingTaskGroup(of: IdempotencyReservation.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await store.reserveIdempotencyKey(IdempotencyClaim(key: key), requestHash: "same", now: Date(), window: 86_400, inFlightTimeout: 60) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .reserved }.count == 1)
            #expect(outcomes.filter { $0 == .inProgress }.count == 99)
        }
    }

    @Test(arguments: StoreKind.available)
    func quotasAreEnforcedAtInsert(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let quota = Quota(maxActiveJobs: 2, maxJobsPerMonth: 3)
            #expect(try await store.insertJob(makeJob(), quota: quota, idempotency: nil) == .inserted)
            #expect(try await store.insertJob(makeJob(), quota: quota, idempotency: nil) == .inserted)
            #expect(try await store.insertJob(makeJob(), quota: quota, idempotency: nil) == .activeJobsQuotaExceeded(limit: 2))
            #expect(try await store.insertJob(makeJob(tenant: "other"), quota: quota, idempotency: nil) == .inserted)
            let first = try #require(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: Date()))
            if first.tenant == "acme" {
                _ = try await store.completeJob(jobID: first.id, workerID: "w", result: [:], resultHash: "h", computeSeconds: 0, now: Date())
            } else {
                _ = try await store.cancelJob(id: try await store.listJobs(JobQuery(visibility: .tenant("acme"), limit: 1))[0].id, now: Date())
            }
            #expect(try await store.insertJob(makeJob(), quota: quota, idempotency: nil) == .inserted)
            #expect(try await store.insertJob(makeJob(), quota: Quota(maxActiveJobs: 100, maxJobsPerMonth: 3), idempotency: nil) == .monthlyQuotaExceeded(limit: 3))
        }
    }

    @Test(arguments: StoreKind.available)
    func usageIsMetered(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let a = makeJob(createdAt: now), b = makeJob(createdAt: now.addingTimeInterval(0.001))
            try await store.insertJob(a, quota: generousQuota, idempotency: nil)
            try await store.insertJob(b, quota: generousQuota, idempotency: nil)
            let first = try #require(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now))
            #expect(try await store.completeJob(jobID: first.id, workerID: "w", result: ["ok": true], resultHash: "h", computeSeconds: 2.5, now: now))
            let second = try #require(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now.addingTimeInterval(1)))
            #expect(try await store.failJob(jobID: second.id, workerID: "w", failure: .init(code: "E", message: "m"), retryAt: nil, computeSeconds: 0.5, now: now))
            let usage = try await store.usage(tenant: "acme", month: Usage.month(of: now))
            #expect(usage.jobsSubmitted == 2 && usage.jobsSucceeded == 1 && usage.jobsFailed == 1)
            #expect(abs(usage.computeSeconds - 3.0) < 1e-9)
            #expect(usage.bytesStored > 0)
            #expect(try await store.usage(tenant: "nobody", month: "2020-01") == Usage(tenant: "nobody", month: "2020-01"))
        }
    }

    /// A submission's audit record is written with its job, in the insert's transaction, and
    /// only when the job is inserted: a refusal is audited by the caller, with its outcome.
    @Test(arguments: StoreKind.available)
    func theSubmissionsAuditRecordIsWrittenWithTheJob(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            func record(_ job: Job) -> AuditRecord {
                AuditRecord(at: job.createdAt, tenant: job.tenant, actor: job.owner, action: "job.submit",
                            target: job.id.uuidString.lowercased(), outcome: "202", requestID: "req-\(job.id)")
            }
            // Whole seconds, so the time read back is the time written.
            let t = Date(timeIntervalSince1970: 1_800_000_000)
            var job = makeJob(createdAt: t)
            job.callbackURL = "https://hooks.example/done"
            #expect(try await store.insertJob(job, quota: generousQuota, idempotency: nil, audit: record(job)) == .inserted)
            let audited = try await store.listAudit(tenant: "acme", before: nil, limit: 10)
            #expect(audited.count == 1)
            var stored = try #require(audited.first)
            #expect(stored.id != nil)
            stored.id = nil
            #expect(stored == record(job))
            // The callback URL goes in with the job as before.
            #expect(try await store.job(id: job.id)?.callbackURL == "https://hooks.example/done")

            // Refused by a quota, or by a lost reservation: neither the job nor its record.
            let refused = makeJob(createdAt: t)
            #expect(try await store.insertJob(refused, quota: Quota(maxActiveJobs: 1, maxJobsPerMonth: 100), idempotency: nil,
                                              audit: record(refused)) == .activeJobsQuotaExceeded(limit: 1))
            let overMonth = makeJob(createdAt: t)
            #expect(try await store.insertJob(overMonth, quota: Quota(maxActiveJobs: 100, maxJobsPerMonth: 1), idempotency: nil,
                                              audit: record(overMonth)) == .monthlyQuotaExceeded(limit: 1))
            let key = IdempotencyKey(tenant: "acme", key: "lost")
            let stalled = IdempotencyClaim(key: key), takeover = IdempotencyClaim(key: key)
            let now = Date()
            #expect(try await store.reserveIdempotencyKey(stalled, requestHash: "h", now: now, window: 86_400, inFlightTimeout: 60) == .reserved)
            #expect(try await store.reserveIdempotencyKey(takeover, requestHash: "h", now: now.addingTimeInterval(61), window: 86_400,
                                                          inFlightTimeout: 60) == .reserved)
            let late = makeJob(createdAt: t)
            let response = StoredResponse(statusCode: 202, jobID: late.id, body: Data("{}".utf8))
            #expect(try await store.insertJob(late, quota: generousQuota, idempotency: (stalled, response), audit: record(late)) == .reservationLost)
            #expect(try await store.listAudit(tenant: "acme", before: nil, limit: 10).count == 1)
            for id in [refused.id, overMonth.id, late.id] { #expect(try await store.job(id: id) == nil) }
            // Without a record (the service's own inserts), none is written.
            #expect(try await store.insertJob(makeJob(tenant: "other"), quota: generousQuota, idempotency: nil) == .inserted)
            #expect(try await store.listAudit(tenant: "other", before: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func auditIsAppendOnlyAndPaged(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            for i in 0..<5 {
                try await store.appendAudit(AuditRecord(at: Date(), tenant: i < 3 ? "acme" : "other", actor: "u\(i)", action: "job.submit",
                                                        target: nil, outcome: "202", requestID: "r\(i)"))
            }
            let all = try await store.listAudit(tenant: nil, before: nil, limit: 10)
            #expect(all.map(\.actor) == ["u4", "u3", "u2", "u1", "u0"])
            let acme = try await store.listAudit(tenant: "acme", before: nil, limit: 2)
            #expect(acme.map(\.actor) == ["u2", "u1"])
            let rest = try await store.listAudit(tenant: "acme", before: acme.last?.id, limit: 2)
            #expect(rest.map(\.actor) == ["u0"])
        }
    }

    @Test(arguments: StoreKind.available)
    func chainTransactionLogKeepsOneRecordPerNonce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let log = try #require(store as? any ChainTransactionLog)
            func record(_ nonce: Int64, hashes: [String], account: String = "0xA") -> ChainTransactionRecord {
                ChainTransactionRecord(account: account, nonce: nonce, jobIDs: [UUID(), UUID()], transactionHashes: hashes,
                                       rawTransaction: Data([2, UInt8(nonce)]), maxFeePerGas: 30_000_000_000,
                                       maxPriorityFeePerGas: 1_000_000_000, sentAt: Date(microsecondsSince1970: 1_000_000))
            }
            let second = record(2, hashes: ["0x02"]), first = record(1, hashes: ["0x01"])
            try await log.saveChainTransaction(second)
            try await log.saveChainTransaction(first)
            try await log.saveChainTransaction(record(1, hashes: ["0x09"], account: "0xB"))
            #expect(try await log.chainTransactions(account: "0xA") == [first, second]) // by nonce, one account
            // A replacement updates the nonce's record.
            var replaced = first
            replaced.transactionHashes.append("0x11")
            replaced.maxFeePerGas = UInt64.max // fees are unsigned 64-bit and survive the store
            try await log.saveChainTransaction(replaced)
            #expect(try await log.chainTransactions(account: "0xA") == [replaced, second])
            try await log.deleteChainTransaction(account: "0xA", nonce: 1)
            #expect(try await log.chainTransactions(account: "0xA") == [second])
            #expect(try await log.chainTransactions(account: "0xB").count == 1)
        }
    }

    /// Chain confirmers in several processes take turns per account (PostgreSQL's session
    /// advisory lock); two stores on one database stand for two processes.
    @Test(arguments: StoreKind.available.filter { $0 == .postgres })
    func chainConfirmerRoundsExcludeEachOtherAcrossProcesses(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let url = try #require(context.postgresURL)
            let client = PostgresClient(configuration: try PostgresJobStore.configuration(url: url))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                let other = PostgresJobStore(client: client, logger: Logger(label: "other"))
                actor Overlap { var inside = 0, most = 0
                    func enter() { inside += 1; most = max(most, inside) }
                    func leave() { inside -= 1 } }
                let overlap = Overlap()
                try await withThrowingTaskGroup(of: Void.self) { rounds in
                    for log in [store as! any ChainTransactionLog, other, store as! any ChainTransactionLog, other] {
                        rounds.addTask {
                            try await log.withExclusiveAccess(account: "0xA") {
                                await overlap.enter()
                                try await Task.sleep(for: .milliseconds(100))
                                await overlap.leave()
                            }
                        }
                    }
                    try await rounds.waitForAll()
                }
                #expect(await overlap.most == 1)
                group.cancelAll()
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func ledgerIsAHashChainSignedByTheService(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let key = Curve25519.Signing.PrivateKey()
            let ledger = LocalLedger(store: store, signingKey: key)
            var jobs: [Job] = []
            for i in 0..<3 {
                var job = makeJob()
                job.status = .succeeded
                job.resultHash = String(repeating: "\(i)", count: 64)
                jobs.append(job)
                let confirmation = try await ledger.confirm(job)
                #expect(confirmation.kind == .ledger && confirmation.blockNumber == Int64(i + 1))
            }
            // A job is committed once: confirming it again returns the same entry.
            let again = try await ledger.confirm(jobs[1])
            #expect(again.blockNumber == 2)
            let entries = try await store.ledgerEntries(fromSequence: 1, limit: 10)
            #expect(entries.count == 3)
            let head = try await ledger.head()
            #expect(head.size == 3 && head.headHash == entries[2].entryHash && head.isSigned(by: key.publicKey))
            func verify(_ run: [LedgerEntry], head: LedgerHead, seen: LedgerHead? = nil,
                        key: Curve25519.Signing.PublicKey = key.publicKey) throws(LedgerVerificationError) {
                var check = try LedgerChainCheck(publicKey: key, head: head, seen: seen)
                for entry in run { try check.append(entry) }
                try check.finish()
            }
            try verify(entries, head: head)
            // A run from any entry up to the head proves that entry is in the ledger.
            try verify(Array(entries[1...]), head: head)
            var tampered = entries
            tampered[1].resultHash = String(repeating: "f", count: 64)
            #expect(throws: LedgerVerificationError.badHash(sequence: 2)) { try verify(tampered, head: head) }
            #expect(throws: LedgerVerificationError.badHeadSignature) {
                try verify(entries, head: head, key: Curve25519.Signing.PrivateKey().publicKey)
            }
            let stranger = Curve25519.Signing.PrivateKey()
            let strangersHead = try LedgerHead.signed(size: 3, headHash: entries[2].entryHash, by: stranger)
            #expect(throws: LedgerVerificationError.badSignature(sequence: 1)) { try verify(entries, head: strangersHead, key: stranger.publicKey) }
            // Cut back: the newest entry removed and a head signed for what is left. Alone it
            // verifies; against the head seen before, it is caught.
            let cutHead = try LedgerHead.signed(size: 2, headHash: entries[1].entryHash, by: key)
            try verify(Array(entries[..<2]), head: cutHead)
            #expect(throws: LedgerVerificationError.truncated(size: 2, seenSize: 3)) { try verify(Array(entries[..<2]), head: cutHead, seen: head) }
            // Rewritten below a seen head: entry 3 replaced by another job's, re-signed.
            let forged = try LocalLedger.signedEntry(sequence: 3, jobID: JobID(), resultHash: entries[2].resultHash, status: .succeeded,
                                                     previousHash: entries[1].entryHash, by: key)
            let forgedHead = try LedgerHead.signed(size: 3, headHash: forged.entryHash, by: key)
            try verify([entries[0], entries[1], forged], head: forgedHead)
            #expect(throws: LedgerVerificationError.rewritten(sequence: 3)) {
                try verify([entries[0], entries[1], forged], head: forgedHead, seen: head)
            }
            // Grown past a seen head: the run from the seen head's entry on passes.
            var fourth = makeJob()
            fourth.status = .succeeded
            fourth.resultHash = String(repeating: "9", count: 64)
            _ = try await ledger.confirm(fourth)
            let grown = try await ledger.head()
            let all = try await store.ledgerEntries(fromSequence: 1, limit: 10)
            let check = try LedgerChainCheck(publicKey: key.publicKey, head: grown, seen: head)
            #expect(check.firstNeeded(toInclude: 4) == 4 && check.firstNeeded(toInclude: 2) == 2)
            try verify(Array(all[2...]), head: grown, seen: head)
            try verify([all[3]], head: grown, seen: head)
            // A run that starts past the seen head's successor cannot show the seen head.
            #expect(throws: LedgerVerificationError.brokenChain(sequence: 4)) { try verify([all[3]], head: grown, seen: cutHead) }
            #expect(throws: LedgerVerificationError.headMismatch(size: 4)) { try verify(Array(all[..<3]), head: grown) }
        }
    }

    /// Entries written before context lines (the hash of the older text, the signature over
    /// the hash's hex) still verify, so no ledger already kept is lost.
    @Test func legacyEntriesStillVerify() throws {
        let key = Curve25519.Signing.PrivateKey()
        let job = JobID(), result = String(repeating: "a", count: 64)
        let hash = LedgerMessages.legacyEntryHash(sequence: 1, jobID: job, resultHash: result, status: .succeeded, previousHash: nil)
        let legacy = LedgerEntry(sequence: 1, jobID: job, resultHash: result, status: .succeeded, previousHash: nil, entryHash: hash,
                                 signature: try key.signature(for: Data(hash.utf8)).base64EncodedString(), recordedAt: Date())
        try LedgerChainCheck.checkSigned(legacy, by: key.publicKey)
        var changed = legacy
        changed.status = .failed
        #expect(throws: LedgerVerificationError.badHash(sequence: 1)) { try LedgerChainCheck.checkSigned(changed, by: key.publicKey) }
    }

    @Test(arguments: StoreKind.available)
    func oneSigningIdentityPerService(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let first = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            let second = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            let recorded = try await store.registerSigningKey(first, now: Date())
            let again = try await store.registerSigningKey(second, now: Date())
            let mine = try await store.registerSigningKey(first, now: Date())
            #expect(recorded == first && again == first && mine == first)
        }
    }
}
