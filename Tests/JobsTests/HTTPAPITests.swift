import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import JobsServer
import Testing

@Suite("HTTP API") struct HTTPAPITests {
    @Test(arguments: StoreKind.available)
    func submitGetListCancel(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let alice = try await h.token()
            try await h.test { client in
                let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(sha256Submission))
                #expect(submitted.status == .accepted)
                let id = try #require(submitted.json["id"] as? String)
                #expect(submitted.json["status"] as? String == "queued")
                #expect(submitted.headers[HTTPField.Name("X-Request-ID")!] != nil)
                #expect(submitted.headers[HTTPField.Name("RateLimit-Policy")!]?.hasPrefix("\"standard\";q=40;w=") == true)

                let got = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: .bearer(alice))
                #expect(got.status == .ok && got.json["id"] as? String == id && got.json["owner"] as? String == "alice")

                let list = try await client.execute(uri: "/v1/jobs?status=queued&limit=10", method: .get, headers: .bearer(alice))
                #expect(list.status == .ok && (list.json["items"] as? [Any])?.count == 1)

                let cancelled = try await client.execute(uri: "/v1/jobs/\(id)/cancel", method: .post, headers: .bearer(alice))
                #expect(cancelled.status == .ok && cancelled.json["status"] as? String == "cancelled")
                let fhe = try await client.execute(uri: "/v1/jobs/\(id)/fhe-result", method: .post, headers: .bearer(alice),
                                                   body: jsonBuffer(["clientSignature": "00", "retrievalNonce": "n"]))
                #expect(fhe.status == .conflict && fhe.problemCode == "NOT_CONFIDENTIAL_JOB")
            }
            // Every state-changing request is audited.
            let audit = try await store.listAudit(tenant: "acme", before: nil, limit: 10)
            #expect(audit.map(\.action) == ["job.fhe_result", "job.cancel", "job.submit"])
            #expect(audit.map(\.outcome) == ["409", "200", "202"])
        }
    }

    /// A submission's audit record is written by the store with the job (one commit): the same
    /// record as every other state-changing request's, once per request, replays and
    /// refusals included.
    @Test(arguments: StoreKind.available)
    func eachSubmissionIsAuditedOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let alice = try await h.token(subject: "alice")
            let key = HTTPField.Name("Idempotency-Key")!, requestID = HTTPField.Name("X-Request-ID")!
            try await h.test { client in
                let first = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "k"), (requestID, "req-1")]),
                                                     body: jsonBuffer(sha256Submission))
                #expect(first.status == .accepted)
                let replay = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "k"), (requestID, "req-2")]),
                                                      body: jsonBuffer(sha256Submission))
                #expect(replay.status == .accepted && replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                var other = sha256Submission
                other["priority"] = "high"
                let reused = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "k"), (requestID, "req-3")]),
                                                      body: jsonBuffer(other))
                #expect(reused.status == .unprocessableContent)
                let plain = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(requestID, "req-4")]),
                                                     body: jsonBuffer(sha256Submission))
                #expect(plain.status == .accepted)
            }
            let audit = try await store.listAudit(tenant: "acme", before: nil, limit: 10).reversed()
            #expect(audit.map(\.requestID) == ["req-1", "req-2", "req-3", "req-4"])
            #expect(audit.allSatisfy { $0.action == "job.submit" && $0.actor == "alice" && $0.tenant == "acme" })
            #expect(audit.map(\.outcome) == ["202", "202", "422", "202"])
            // Newest first: the plain submission's job, then the keyed one's (which its replay names too).
            let jobs = try await store.listJobs(JobQuery(visibility: .all, limit: 10)).map { $0.id.uuidString.lowercased() }
            #expect(jobs.count == 2)
            #expect(audit.map(\.target) == [jobs.last, jobs.last, nil, jobs.first])
        }
    }

    @Test func listingPagesWithAnOpaqueCursor() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let alice = try await h.token()
            try await h.test { client in
                for _ in 0..<5 { _ = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(sha256Submission)) }
                var seen: [String] = []
                var uri = "/v1/jobs?limit=2"
                while true {
                    let page = try await client.execute(uri: uri, method: .get, headers: .bearer(alice))
                    #expect(page.status == .ok)
                    seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                    guard let next = page.json["next_cursor"] as? String else { break }
                    uri = "/v1/jobs?limit=2&cursor=\(next)"
                }
                #expect(seen.count == 5 && Set(seen).count == 5)
                let bad = try await client.execute(uri: "/v1/jobs?cursor=garbage", method: .get, headers: .bearer(alice))
                #expect(bad.status == .badRequest && bad.problemCode == "INVALID_REQUEST")
            }
        }
    }

    @Test func tenantsAndRolesSeeOnlyWhatTheyMay() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let alice = try await h.token(subject: "alice"), bob = try await h.token(subject: "bob")
            let lead = try await h.token(role: "team_lead", subject: "carol")
            let stranger = try await h.token(tenant: "globex", role: "team_lead", subject: "eve")
            let admin = try await h.token(role: "admin", subject: "root")
            let otherAdmin = try await h.token(tenant: "globex", role: "admin", subject: "boss")
            let operatorToken = try await h.token(tenant: "ops", role: "operator", subject: "sre", issuer: ServiceHarness.operatorIssuer)
            // The operator role from the tenants' issuer, and another role from the operators' issuer.
            let selfPromoted = try await h.token(role: "operator", subject: "mallory")
            let wrongIssuer = try await h.token(role: "admin", subject: "mallory", issuer: ServiceHarness.operatorIssuer)
            try await h.test { client in
                let id = try #require(try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice),
                                                               body: jsonBuffer(sha256Submission)).json["id"] as? String)
                // An admin is its tenant's: another tenant's admin sees nothing of acme's.
                for (token, expected) in [(alice, HTTPResponse.Status.ok), (bob, .notFound), (lead, .ok), (stranger, .notFound), (admin, .ok),
                                          (otherAdmin, .notFound), (operatorToken, .ok)] {
                    let r = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: .bearer(token))
                    #expect(r.status == expected)
                    if r.status == .notFound { #expect(r.problemCode == "NOT_FOUND" && r.json["tenant"] == nil) }
                }
                let strangerCancel = try await client.execute(uri: "/v1/jobs/\(id)/cancel", method: .post, headers: .bearer(stranger))
                #expect(strangerCancel.status == .notFound)
                let strangerList = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(stranger))
                #expect((strangerList.json["items"] as? [Any])?.isEmpty == true)

                #expect(try await client.execute(uri: "/v1/audit", method: .get, headers: .bearer(lead)).status == .forbidden)
                let audit = try await client.execute(uri: "/v1/audit", method: .get, headers: .bearer(admin))
                #expect(audit.status == .ok && (audit.json["items"] as? [Any])?.isEmpty == false)
                #expect(try await client.execute(uri: "/v1/usage?tenant=globex", method: .get, headers: .bearer(alice)).status == .forbidden)
                let usage = try await client.execute(uri: "/v1/usage", method: .get, headers: .bearer(alice))
                #expect(usage.status == .ok && usage.json["jobsSubmitted"] as? Int == 1)
                let adminUsage = try await client.execute(uri: "/v1/usage?tenant=acme", method: .get, headers: .bearer(admin))
                #expect(adminUsage.json["jobsSubmitted"] as? Int == 1)
                // Across tenants: only an operator.
                #expect(try await client.execute(uri: "/v1/usage?tenant=acme", method: .get, headers: .bearer(otherAdmin)).status == .forbidden)
                #expect(try await client.execute(uri: "/v1/audit?tenant=acme", method: .get, headers: .bearer(otherAdmin)).status == .forbidden)
                let globexAudit = try await client.execute(uri: "/v1/audit", method: .get, headers: .bearer(otherAdmin))
                #expect(globexAudit.status == .ok && (globexAudit.json["items"] as? [[String: Any]])?.allSatisfy { $0["tenant"] as? String == "globex" } == true)
                let operatorUsage = try await client.execute(uri: "/v1/usage?tenant=acme", method: .get, headers: .bearer(operatorToken))
                #expect(operatorUsage.status == .ok && operatorUsage.json["jobsSubmitted"] as? Int == 1)
                let promoted = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: .bearer(selfPromoted))
                #expect(promoted.status == .forbidden && promoted.problemCode == "FORBIDDEN", "\(promoted.json)")
                #expect(try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: .bearer(wrongIssuer)).status == .unauthorized)
                let everyTenant = try await client.execute(uri: "/v1/audit", method: .get, headers: .bearer(operatorToken))
                #expect(Set(((everyTenant.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["tenant"] as? String }).count >= 1)
            }
        }
    }

    @Test func tokensAreVerified() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let other = try await ServiceHarness(store: store, context: context)
            let expired = try await h.token(lifetime: 60, now: Date().addingTimeInterval(-3600))
            let wrongAudience = try await h.token(audience: "someone-else")
            let wrongIssuer = try await h.token(issuer: "evil")
            let foreignKey = try await other.token()
            let badRole = try await h.token(role: "superuser")
            // alg "none" with the claims of a valid token (RFC 8725 section 2.1).
            let valid = try await h.token()
            let parts = valid.split(separator: ".")
            let noneHeader = Data("{\"alg\":\"none\",\"typ\":\"JWT\"}".utf8).base64URLEncodedString
            let algNone = "\(noneHeader).\(parts[1])."
            try await h.test { client in
                for (headers, code) in [
                    (HTTPFields(), "UNAUTHENTICATED"),
                    ([.authorization: "Basic abc"], "UNAUTHENTICATED"),
                    (.bearer("not-a-jwt"), "UNAUTHENTICATED"),
                    (.bearer(expired), "UNAUTHENTICATED"),
                    (.bearer(wrongAudience), "UNAUTHENTICATED"),
                    (.bearer(wrongIssuer), "UNAUTHENTICATED"),
                    (.bearer(foreignKey), "UNAUTHENTICATED"),
                    (.bearer(algNone), "UNAUTHENTICATED"),
                    (.bearer(badRole), "FORBIDDEN"),
                ] as [(HTTPFields, String)] {
                    let r = try await client.execute(uri: "/v1/jobs", method: .get, headers: headers)
                    #expect(r.problemCode == code)
                    #expect(r.headers[.contentType] == "application/problem+json")
                }
                #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(valid)).status == .ok)
            }
        }
    }

    @Test func badInputIsAClientErrorAndStoresNothing() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context, maxBodyBytes: 64 * 1024)
            let alice = try await h.token()
            try await h.test { client in
                let cases: [(ByteBuffer, HTTPResponse.Status, String)] = [
                    (ByteBuffer(string: "{not json"), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute"]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": 7, "payload": [:]]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "teleport", "payload": [:]]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "x"]], "color": "red"]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "x"]], "priority": "urgent"]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "bitcoin_mining", "input": [:]]]), .unprocessableContent, "UNSUPPORTED_JOB_TYPE"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "x"]], "useFHE": true]), .badRequest, "FHE_TYPE_MISMATCH"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256"]]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sort", "input": ["values": "nope"]]]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "x"], "parameters": ["timeout": -1]]]), .badRequest, "INVALID_REQUEST"),
                    (jsonBuffer(["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": String(repeating: "a", count: 70_000)]]]), .contentTooLarge, "PAYLOAD_TOO_LARGE"),
                ]
                for (body, status, code) in cases {
                    let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: body)
                    #expect(r.status == status, "\(String(buffer: body).prefix(120))")
                    #expect(r.problemCode == code, "\(String(buffer: body).prefix(120)): \(r.json)")
                    #expect(r.json["detail"] is String)
                    #expect(r.json["retryable"] as? Bool == false && r.headers[.retryAfter] == nil, "the same body fails the same way")
                }
                let notJSON = try await client.execute(uri: "/v1/jobs", method: .post,
                                                       headers: [.authorization: "Bearer \(alice)", .contentType: "text/plain"],
                                                       body: ByteBuffer(string: "hello"))
                #expect(notJSON.status.code / 100 == 4)
                let badID = try await client.execute(uri: "/v1/jobs/not-a-uuid", method: .get, headers: .bearer(alice))
                #expect(badID.status == .badRequest && badID.problemCode == "INVALID_REQUEST")
                let unknownRoute = try await client.execute(uri: "/v1/nothing", method: .get, headers: .bearer(alice))
                #expect(unknownRoute.status == .notFound && unknownRoute.problemCode == "NOT_FOUND")
                // A served path with a method it is not served with: 405 and the methods it is.
                let wrongMethod = try await client.execute(uri: "/v1/jobs", method: .delete, headers: .bearer(alice))
                #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.problemCode == "METHOD_NOT_ALLOWED")
                #expect(wrongMethod.headers[.allow] == "GET, POST")
                let wrongOnJob = try await client.execute(uri: "/v1/jobs/\(UUID().uuidString)", method: .put, headers: .bearer(alice))
                #expect(wrongOnJob.status == .methodNotAllowed && wrongOnJob.headers[.allow] == "GET")
            }
            #expect(try await store.listJobs(JobQuery(visibility: .all, limit: 100)).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func idempotencyKeys(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let h = try await ServiceHarness(store: store, context: context,
                                             plans: TenantPlans(default: Plan(name: "big", ratePerSecond: 1000, burst: 1000, maxActiveJobs: 1000, maxJobsPerMonth: 10_000)))
            let alice = try await h.token()
            let key = HTTPField.Name("Idempotency-Key")!
            try await h.test { client in
                let first = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "order-1")]), body: jsonBuffer(sha256Submission))
                let retry = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "order-1")]), body: jsonBuffer(sha256Submission))
                #expect(first.status == .accepted && retry.status == .accepted)
                #expect(first.json["id"] as? String == retry.json["id"] as? String)
                #expect(first.json["createdAt"] as? String == retry.json["createdAt"] as? String)
                #expect(first.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
                #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                var other = sha256Submission
                other["priority"] = "high"
                let reused = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "order-1")]), body: jsonBuffer(other))
                #expect(reused.status == .unprocessableContent && reused.problemCode == "IDEMPOTENCY_KEY_REUSED")
                let long = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, String(repeating: "k", count: 256))]),
                                                    body: jsonBuffer(sha256Submission))
                #expect(long.status == .badRequest)

                // 100 concurrent POSTs with one key create exactly one job.
                let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for _ in 0..<100 {
                        group.addTask {
                            let r = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice, [(key, "race")]),
                                                             body: jsonBuffer(sha256Submission))
                            // A 409 IDEMPOTENCY_IN_PROGRESS says to retry in a second.
                            #expect(r.status != .conflict || (r.json["retryable"] as? Bool == true && r.headers[.retryAfter] == "1"))
                            return (r.status.code, r.json["id"] as? String)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0.0 == 202 || $0.0 == 409 })
                #expect(Set(statuses.compactMap(\.1)).count == 1)
            }
            #expect(try await store.listJobs(JobQuery(visibility: .all, limit: 100)).count == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func rateLimitsAndQuotas(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let plan = Plan(name: "tiny", ratePerSecond: 0.5, burst: 3, maxActiveJobs: 2, maxJobsPerMonth: 100)
            // The buckets see one instant: on a loaded machine the four requests can take longer
            // than the two seconds a token needs to come back, which is not what is tested here.
            var context = context
            context.rateLimiter = FrozenClockRateLimiter(inner: context.rateLimiter, now: Date())
            let h = try await ServiceHarness(store: store, context: context, plans: TenantPlans(default: plan))
            let alice = try await h.token()
            try await h.test { client in
                var answers: [TestResponse] = []
                for _ in 0..<4 { answers.append(try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(sha256Submission))) }
                #expect(answers.map(\.status.code) == [202, 202, 429, 429])
                #expect(answers[2].problemCode == "QUOTA_EXCEEDED")
                // Active jobs free up when they finish, at no time the server knows.
                #expect(answers[2].json["retryable"] as? Bool == true && answers[2].headers[.retryAfter] == nil)
                #expect(answers[3].problemCode == "RATE_LIMITED")
                #expect(answers[3].json["retryable"] as? Bool == true)
                // The bucket is empty and refills at 0.5 tokens a second: a token in 2 s.
                #expect(answers[3].headers[.retryAfter] == "2")
                #expect(answers[3].headers[HTTPField.Name("X-RateLimit-Remaining")!] == "0")
                #expect(answers[0].headers[HTTPField.Name("RateLimit")!] == "\"tiny\";r=2;t=2")
                // Another tenant has its own bucket.
                let globex = try await h.token(tenant: "globex")
                #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(globex)).status == .ok)
            }
        }
    }

    /// The monthly quota has room again on the first of the next month (UTC): its 429 says so.
    @Test func aMonthlyQuotaSaysWhenItHasRoomAgain() async throws {
        try await withStore(.sqlite) { store, context in
            let plan = Plan(name: "monthly", ratePerSecond: 100, burst: 100, maxActiveJobs: 100, maxJobsPerMonth: 1)
            let h = try await ServiceHarness(store: store, context: context, plans: TenantPlans(default: plan))
            let alice = try await h.token()
            try await h.test { client in
                #expect(try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(sha256Submission)).status == .accepted)
                let refused = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(sha256Submission))
                #expect(refused.status == .tooManyRequests && refused.problemCode == "QUOTA_EXCEEDED")
                #expect(refused.json["retryable"] as? Bool == true)
                let expected = Usage.nextMonth(after: Date()).timeIntervalSinceNow
                let header = try #require(refused.headers[.retryAfter].flatMap(Double.init))
                #expect(abs(header - expected) < 60, "Retry-After \(header) s, next month in \(expected) s")
            }
        }
    }

    /// The operator's listener: the Prometheus text with the jobs in flight, without a token.
    @Test func metricsOnTheOperatorsListener() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let token = try await h.token()
            try await h.test { client in
                for _ in 0..<2 {
                    _ = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(token, [(.contentType, "application/json")]),
                                                 body: ByteBuffer(string: #"{"type":"compute","payload":{"algorithm":"sha256","input":{"data":"x"}}}"#))
                }
            }
            let app = Application(router: h.server.metrics.router())
            try await app.test(.router) { client in
                let metrics = try await client.execute(uri: "/metrics", method: .get)
                let text = String(buffer: metrics.body)
                #expect(metrics.status == .ok && text.contains("fhe_jobs_jobs{status=\"queued\"} 2") && text.contains("fhe_jobs_jobs{status=\"running\"} 0"), "\(text)")
                #expect(!text.contains("status=\"cancelled\""), "terminal states are not counted at scrape time")
            }
        }
    }

    @Test func healthMetricsAndRequestIDs() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            try await h.test { client in
                let health = try await client.execute(uri: "/v1/health", method: .get)
                #expect(health.status == .ok && (health.json["checks"] as? [String: String])?["database"] == "ok")
                #expect(try await client.execute(uri: "/v1/health?probe=live", method: .get).status == .ok)
                // /metrics is not part of the public API: it is served on the operator's listener.
                #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
                let echoed = try await client.execute(uri: "/v1/health", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "abc-123"])
                #expect(echoed.headers[HTTPField.Name("X-Request-ID")!] == "abc-123")
                let problem = try await client.execute(uri: "/v1/jobs", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "req-9"])
                #expect(problem.json["requestId"] as? String == "req-9")
            }
        }
    }
}

@Suite("HTTP API limits") struct HTTPAPILimitTests {
    @Test func queryParametersOutsideTheSpecAreRefused() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let admin = try await h.token(role: "admin")
            try await h.test { client in
                for uri in ["/v1/jobs?limit=0", "/v1/jobs?limit=101", "/v1/jobs?status=done", "/v1/jobs?created_after=yesterday",
                            "/v1/usage?month=2026-13", "/v1/usage?tenant=a%20b", "/v1/usage?tenant=", "/v1/audit?limit=501", "/v1/audit?cursor=x",
                            "/v1/audit?tenant=", "/v1/audit?tenant=a%20b"] {
                    let r = try await client.execute(uri: uri, method: .get, headers: .bearer(admin))
                    #expect(r.status == .badRequest && r.problemCode == "INVALID_REQUEST", "\(uri): \(r.status) \(r.json)")
                }
                // A cursor the schema allows is a position, even above every id (schemathesis found
                // 9925299072765148463 refused): the newest page, as without a cursor.
                let beyond = try await client.execute(uri: "/v1/audit?cursor=9925299072765148463", method: .get, headers: .bearer(admin))
                let first = try await client.execute(uri: "/v1/audit", method: .get, headers: .bearer(admin))
                #expect(beyond.status == .ok, "\(beyond.status) \(beyond.json)")
                #expect(beyond.json["items"] as? [[String: Any]] != nil)
                #expect((beyond.json["items"] as? [[String: Any]])?.count == (first.json["items"] as? [[String: Any]])?.count)
            }
        }
    }
}

/// A rate limiter whose buckets see a fixed instant, for tests that count tokens, not time.
struct FrozenClockRateLimiter: RateLimiter {
    let inner: any RateLimiter
    let now: Date
    func consume(bucket: String, policy: RateLimitPolicy, now _: Date) async throws -> RateLimitDecision {
        try await inner.consume(bucket: bucket, policy: policy, now: now)
    }
}
