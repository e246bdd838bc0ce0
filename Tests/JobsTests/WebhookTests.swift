import Crypto
import FHEJobs
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import SafeFetch
import Synchronization
import Testing

/// Job-completion webhooks: deliveries made by the stores' triggers, leased in order, attempted
/// through SafeFetch against a real loopback receiver, signed with the service's key.
@Suite("Webhooks") struct WebhookTests {
    /// A job with a callback URL, inserted and leased by worker "w".
    private func runningJob(_ store: any JobStore, callback: String = "https://hooks.example/h", now: Date) async throws -> Job {
        var job = makeJob(createdAt: now.addingTimeInterval(-1))
        job.callbackURL = callback
        #expect(try await store.insertJob(job, quota: generousQuota, idempotency: nil) == .inserted)
        let leased = try #require(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now))
        #expect(leased.id == job.id && leased.callbackURL == callback)
        return leased
    }

    @Test(arguments: StoreKind.available)
    func transitionsMakeDeliveriesLeasedInOrder(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            // A job without a callback URL announces nothing.
            let quiet = makeJob(createdAt: now.addingTimeInterval(-2))
            try await store.insertJob(quiet, quota: generousQuota, idempotency: nil)
            _ = try await store.cancelJob(id: quiet.id, now: now)
            #expect(try await store.webhookDeliveries(jobID: quiet.id).isEmpty)

            let job = try await runningJob(store, now: now)
            #expect(try await store.webhookDeliveries(jobID: job.id).isEmpty)
            #expect(try await store.completeJob(jobID: job.id, workerID: "w", result: ["ok": true], resultHash: "ab",
                                                computeSeconds: 1, now: now))
            let confirmation = Confirmation(kind: .ledger, reference: "r", blockNumber: 1, confirmedAt: now)
            #expect(try await store.markConfirmed(jobID: job.id, confirmation: confirmation, now: now))
            let made = try await store.webhookDeliveries(jobID: job.id)
            #expect(made.map(\.event) == ["job.succeeded", "job.confirmed"])
            #expect(made.map(\.sequence) == [1, 2] && made.allSatisfy { $0.state == .pending && $0.attempts == 0 })
            #expect(try await store.countPendingWebhookDeliveries() == 2)

            // The first is leased; the second waits for it, and nobody else gets the first.
            let first = try #require(try await store.leaseWebhookDelivery(owner: "a", leaseDuration: 60, now: now))
            #expect(first.sequence == 1 && first.attempts == 1 && first.leaseOwner == "a")
            #expect(try await store.leaseWebhookDelivery(owner: "b", leaseDuration: 60, now: now) == nil)

            // A retry waits for its time, then counts a second attempt.
            let later = now.addingTimeInterval(30)
            #expect(try await store.recordWebhookAttempt(
                jobID: job.id, sequence: 1, owner: "a", attempt: WebhookAttempt(number: 1, at: now, statusCode: 500, error: "HTTP 500", durationSeconds: 0.1),
                next: .retry(at: later), now: now))
            #expect(try await store.leaseWebhookDelivery(owner: "b", leaseDuration: 60, now: now) == nil)
            let again = try #require(try await store.leaseWebhookDelivery(owner: "b", leaseDuration: 60, now: later))
            #expect(again.sequence == 1 && again.attempts == 2)
            // The first owner's lease is gone: what it records now is refused.
            #expect(try await !store.recordWebhookAttempt(
                jobID: job.id, sequence: 1, owner: "a", attempt: WebhookAttempt(number: 1, at: now, statusCode: 200, error: nil, durationSeconds: 0),
                next: .delivered, now: later))
            #expect(try await store.recordWebhookAttempt(
                jobID: job.id, sequence: 1, owner: "b", attempt: WebhookAttempt(number: 2, at: later, statusCode: 204, error: nil, durationSeconds: 0.2),
                next: .delivered, now: later))

            // Now the second; a lease that expires (its dispatcher died) goes to another, counted.
            let second = try #require(try await store.leaseWebhookDelivery(owner: "c", leaseDuration: 60, now: later))
            #expect(second.sequence == 2 && second.event == "job.confirmed")
            #expect(try await store.leaseWebhookDelivery(owner: "d", leaseDuration: 60, now: later.addingTimeInterval(59)) == nil)
            let rescued = try #require(try await store.leaseWebhookDelivery(owner: "d", leaseDuration: 60, now: later.addingTimeInterval(61)))
            #expect(rescued.sequence == 2 && rescued.attempts == 2 && rescued.leaseOwner == "d")
            #expect(try await store.recordWebhookAttempt(
                jobID: job.id, sequence: 2, owner: "d", attempt: WebhookAttempt(number: 2, at: later, statusCode: 410, error: "final", durationSeconds: 0),
                next: .giveUp, now: later))

            let final = try await store.webhookDeliveries(jobID: job.id)
            #expect(final.map(\.state) == [.delivered, .failed])
            #expect(final[0].history.map(\.statusCode) == [500, 204] && final[0].history.map(\.number) == [1, 2])
            #expect(final[0].finishedAt != nil && final[1].history.map(\.error) == ["final"])
            #expect(try await store.countPendingWebhookDeliveries() == 0)
            #expect(try await store.leaseWebhookDelivery(owner: "e", leaseDuration: 60, now: later.addingTimeInterval(3600)) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func failedAndCancelledJobsAreAnnounced(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let now = Date()
            let failing = try await runningJob(store, now: now)
            // A failed attempt that will be retried is no transition to announce.
            #expect(try await store.failJob(jobID: failing.id, workerID: "w", failure: .init(code: "X", message: "boom"),
                                            retryAt: now, computeSeconds: 1, now: now))
            #expect(try await store.webhookDeliveries(jobID: failing.id).isEmpty)
            _ = try #require(try await store.leaseNextJob(workerID: "w", leaseDuration: 30, now: now))
            #expect(try await store.failJob(jobID: failing.id, workerID: "w", failure: .init(code: "X", message: "boom"),
                                            retryAt: nil, computeSeconds: 1, now: now))
            #expect(try await store.webhookDeliveries(jobID: failing.id).map(\.event) == ["job.failed"])

            var queued = makeJob(createdAt: now)
            queued.callbackURL = "https://hooks.example/q"
            try await store.insertJob(queued, quota: generousQuota, idempotency: nil)
            _ = try await store.cancelJob(id: queued.id, now: now)
            _ = try await store.cancelJob(id: queued.id, now: now)
            #expect(try await store.webhookDeliveries(jobID: queued.id).map(\.event) == ["job.cancelled"])
        }
    }

    /// 500, then a timeout, then 200: three attempts with backoff, each signed over the context
    /// line, the timestamp and the body, verifiable with the service's public key.
    @Test(arguments: StoreKind.available)
    func retriesAfterServerErrorsAndTimeoutsThenDelivers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let receiver = ScriptedServer([
                ScriptedServer.Answer(status: .internalServerError),
                ScriptedServer.Answer(status: .ok, delay: .seconds(6)),
                ScriptedServer.Answer(status: .noContent),
            ])
            try await receiver.run { port in
                let key = Curve25519.Signing.PrivateKey()
                // A timeout well above a loaded machine's answer times (the whole suite at once
                // on 2 cores once took a 204 past 1 s), and the slow answer well above it.
                let dispatcher = WebhookDispatcher(store: store, transport: loopbackTransport(port: port, timeout: .seconds(3)),
                                                   signingKey: key, configuration: quickRetries(maxAttempts: 5))
                let job = try await runningJob(store, callback: "http://127.0.0.1:\(port)/hooks/fhe", now: Date())
                #expect(try await store.completeJob(jobID: job.id, workerID: "w", result: ["secret": "value"], resultHash: "cd",
                                                    computeSeconds: 1, now: Date()))
                let deliveries = try await drive(dispatcher, store: store, job: job.id) { $0.first?.state != .pending }
                let delivery = try #require(deliveries.first)
                #expect(delivery.state == .delivered && delivery.attempts == 3)
                #expect(delivery.history.map(\.statusCode) == [500, nil, 204])
                #expect(delivery.history[1].error?.contains("FETCH_TIMEOUT") == true)

                let requests = receiver.requests
                #expect(requests.count == 3)
                for request in requests {
                    #expect(request.method == .post && request.path == "/hooks/fhe")
                    #expect(request.headers[HTTPField.Name("Webhook-Id")!] == "\(job.id.uuidString.lowercased()).1")
                    let timestamp = try #require(request.headers[HTTPField.Name("Webhook-Timestamp")!].flatMap { Int64($0) })
                    let signature = try #require(request.headers[HTTPField.Name("Webhook-Signature")!])
                    #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
                    #expect(WebhookMessages.isValid(signatureHeader: signature, timestamp: timestamp, body: request.body, key: key.publicKey))
                    // The signature is over the context line and the timestamp: neither another
                    // timestamp nor the bare body verifies, nor another key.
                    #expect(!WebhookMessages.isValid(signatureHeader: signature, timestamp: timestamp + 1, body: request.body, key: key.publicKey))
                    #expect(!key.publicKey.isValidSignature(Data(base64Encoded: String(signature.dropFirst(8)))!, for: request.body))
                    #expect(!WebhookMessages.isValid(signatureHeader: signature, timestamp: timestamp, body: request.body,
                                                     key: Curve25519.Signing.PrivateKey().publicKey))
                    let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
                    #expect(body["event"] as? String == "job.succeeded")
                    let summary = try #require(body["job"] as? [String: Any])
                    #expect(summary["id"] as? String == job.id.uuidString.lowercased() && summary["status"] as? String == "succeeded")
                    #expect(summary["resultHash"] as? String == "cd")
                    // Nothing of the input or the result.
                    #expect(summary["result"] == nil && summary["payload"] == nil)
                    #expect(!String(decoding: request.body, as: UTF8.self).contains("value"))
                }
                // Backoff: the attempts are spread out (at least half the 50 ms base delay, the
                // jitter's floor), not sent back to back.
                #expect(requests[1].at - requests[0].at >= .milliseconds(25))
            }
        }
    }

    /// A receiver that always fails is attempted exactly `maxAttempts` times, then given up;
    /// a final answer (404) is given up at once.
    @Test(arguments: StoreKind.available)
    func attemptsAreBoundedAndFinalAnswersAreNotRetried(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let receiver = ScriptedServer([ScriptedServer.Answer(status: .serviceUnavailable, headers: [.retryAfter: "0"])])
            try await receiver.run { port in
                let dispatcher = WebhookDispatcher(store: store, transport: loopbackTransport(port: port),
                                                   signingKey: Curve25519.Signing.PrivateKey(), configuration: quickRetries(maxAttempts: 3))
                let job = try await runningJob(store, callback: "http://127.0.0.1:\(port)/always-503", now: Date())
                _ = try await store.completeJob(jobID: job.id, workerID: "w", result: [:], resultHash: "ef", computeSeconds: 0, now: Date())
                let deliveries = try await drive(dispatcher, store: store, job: job.id) { $0.first?.state != .pending }
                #expect(deliveries.first?.state == .failed && deliveries.first?.attempts == 3)
                #expect(deliveries.first?.history.map(\.statusCode) == [503, 503, 503])
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await dispatcher.deliverDue() == 0)
                #expect(receiver.requests.count == 3)

                receiver.script([ScriptedServer.Answer(status: .notFound)])
                let gone = try await runningJob(store, callback: "http://127.0.0.1:\(port)/gone", now: Date())
                _ = try await store.completeJob(jobID: gone.id, workerID: "w", result: [:], resultHash: "ef", computeSeconds: 0, now: Date())
                let final = try await drive(dispatcher, store: store, job: gone.id) { $0.first?.state != .pending }
                #expect(final.first?.state == .failed && final.first?.attempts == 1 && final.first?.history.first?.statusCode == 404)
            }
        }
    }

    /// A receiver's Retry-After is honoured when it asks for more than the backoff, up to the
    /// configured bound: 120 s asked is 120 s under a bound of 1 h, and 30 s under a bound of 30 s.
    @Test func retryAfterIsHonouredWithinItsBound() async throws {
        try await withStore(.sqlite) { store, _ in
            for (bound, expected) in [(3600.0, 120.0), (30, 30)] {
                let receiver = ScriptedServer([ScriptedServer.Answer(status: .tooManyRequests, headers: [.retryAfter: "120"])])
                try await receiver.run { port in
                    var configuration = quickRetries(maxAttempts: 5)
                    configuration.maxRetryAfter = bound
                    let dispatcher = WebhookDispatcher(store: store, transport: loopbackTransport(port: port),
                                                       signingKey: Curve25519.Signing.PrivateKey(), configuration: configuration)
                    let job = try await runningJob(store, callback: "http://127.0.0.1:\(port)/busy", now: Date())
                    _ = try await store.completeJob(jobID: job.id, workerID: "w", result: [:], resultHash: "ab", computeSeconds: 0, now: Date())
                    let before = Date()
                    #expect(try await dispatcher.deliverDue() == 1)
                    let delivery = try #require(try await store.webhookDeliveries(jobID: job.id).first)
                    #expect(delivery.state == .pending && delivery.history.first?.statusCode == 429)
                    let wait = delivery.nextAttemptAt.timeIntervalSince(before)
                    #expect(wait >= expected - 1 && wait < expected + 10, "bound \(bound): waits \(wait) s")
                }
            }
        }
    }

    /// A dispatcher that died mid-attempt leaves its lease to expire; the delivery is then
    /// attempted again, never lost. Two dispatchers at once never send one delivery twice.
    @Test(arguments: StoreKind.available)
    func crashedAttemptsAreRetriedAndReplicasDoNotDoubleDeliver(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let receiver = ScriptedServer([ScriptedServer.Answer(status: .ok, delay: .milliseconds(50))])
            try await receiver.run { port in
                let transport = loopbackTransport(port: port)
                let configuration = quickRetries(maxAttempts: 3)
                var jobs: [JobID] = []
                for _ in 0..<6 {
                    let job = try await runningJob(store, callback: "http://127.0.0.1:\(port)/replicas", now: Date())
                    _ = try await store.completeJob(jobID: job.id, workerID: "w", result: [:], resultHash: "aa", computeSeconds: 0, now: Date())
                    jobs.append(job.id)
                }
                // "Crashed": leased long ago by a process that never recorded anything.
                let crashed = try #require(try await store.leaseWebhookDelivery(owner: "dead", leaseDuration: 0, now: Date()))
                try await Task.sleep(for: .milliseconds(5))
                let replicas = (0..<2).map { index in
                    WebhookDispatcher(store: store, transport: transport, signingKey: FHETestService.serviceKey,
                                      configuration: configuration, name: "replica\(index)")
                }
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for replica in replicas { group.addTask { try await replica.deliverDue() } }
                    var attempted = 0
                    for try await count in group { attempted += count }
                    #expect(attempted == 6)
                }
                let ids = receiver.requests.compactMap { $0.headers[HTTPField.Name("Webhook-Id")!] }
                #expect(ids.count == 6 && Set(ids).count == 6)
                for id in jobs {
                    let delivery = try #require(try await store.webhookDeliveries(jobID: id).first)
                    #expect(delivery.state == .delivered)
                    #expect(delivery.attempts == (id == crashed.jobID ? 2 : 1))
                    #expect(delivery.history.map(\.number) == [delivery.attempts])
                }
            }
        }
    }

    /// Refused at submission: a host not allowed, a loopback address under a policy without
    /// private addresses, a server without webhooks. Refused at delivery: a name that resolved
    /// to a public address at submission and resolves to the metadata address now.
    @Test func disallowedAddressesAreRefusedAtSubmissionAndAtDelivery() async throws {
        try await withStore(.sqlite) { store, context in
            let resolver = SwitchingResolver(["hooks.example": [.v4(0x5DB8_D822)]])   // 93.184.216.34
            let policy = FetchPolicy(allowedHosts: ["hooks.example", "127.0.0.1:9"], allowsHTTP: true, maxBytes: 1024, timeout: .seconds(2))
            let transport = SafeWebhookTransport(policy: policy, fetcher: SafeFetcher(resolver: resolver))
            let h = try await ServiceHarness(store: store, context: context, webhooks: transport)
            let bare = try await ServiceHarness(store: store, context: context)
            let alice = try await h.token()
            let submission: @Sendable (String) -> ByteBuffer = { url in
                var body = sha256Submission
                body["callbackUrl"] = url
                return jsonBuffer(body)
            }
            let accepted = try await h.test { client -> String? in
                let otherHost = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: submission("https://elsewhere.example/h"))
                #expect(otherHost.status == .badRequest && otherHost.problemCode == "URL_NOT_ALLOWED")
                let loopback = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: submission("http://127.0.0.1:9/h"))
                #expect(loopback.status == .badRequest && loopback.problemCode == "ADDRESS_NOT_ALLOWED")
                let scheme = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: submission("ftp://hooks.example/h"))
                #expect(scheme.status == .badRequest && scheme.problemCode == "URL_NOT_ALLOWED")
                let ok = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: submission("https://hooks.example/h"))
                #expect(ok.status == .accepted && ok.json["callbackUrl"] as? String == "https://hooks.example/h")
                return ok.json["id"] as? String
            }
            let bareToken = try await bare.token()   // each harness signs with its own dev key
            try await bare.test { client in
                let off = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(bareToken), body: submission("https://hooks.example/h"))
                #expect(off.status == .badRequest && off.problemCode == "URL_NOT_ALLOWED")
            }
            let id = try #require(accepted.flatMap(UUID.init(uuidString:)))
            _ = try await store.cancelJob(id: id, now: Date())

            // The name now answers the cloud metadata address: refused, final, nothing sent.
            resolver.set("hooks.example", [.v4(0xA9FE_A9FE)])   // 169.254.169.254
            let dispatcher = WebhookDispatcher(store: store, transport: transport, signingKey: FHETestService.serviceKey,
                                               configuration: quickRetries(maxAttempts: 5))
            #expect(try await dispatcher.deliverDue() == 1)
            let delivery = try #require(try await store.webhookDeliveries(jobID: id).first)
            #expect(delivery.event == "job.cancelled" && delivery.state == .failed && delivery.attempts == 1)
            #expect(delivery.history.first?.error?.contains("ADDRESS_NOT_ALLOWED") == true)

            // The deliveries are visible to the job's owner over the API.
            try await h.test { client in
                let listed = try await client.execute(uri: "/v1/jobs/\(id.uuidString)/webhooks", method: .get, headers: .bearer(alice))
                #expect(listed.status == .ok)
                let items = try #require(listed.json["items"] as? [[String: Any]])
                #expect(items.count == 1 && items[0]["state"] as? String == "failed" && items[0]["event"] as? String == "job.cancelled")
                #expect((items[0]["history"] as? [[String: Any]])?.first?["error"] != nil)
                let bob = try await h.token(subject: "bob")
                let hidden = try await client.execute(uri: "/v1/jobs/\(id.uuidString)/webhooks", method: .get, headers: .bearer(bob))
                #expect(hidden.status == .notFound)
            }
        }
    }
}

/// Retries after a few milliseconds, so a test sees several attempts quickly.
private func quickRetries(maxAttempts: Int) -> WebhookDispatcher.Configuration {
    var configuration = WebhookDispatcher.Configuration()
    configuration.maxAttempts = maxAttempts
    configuration.backoff = RetryPolicy(baseDelay: 0.05, maxDelay: 0.2)
    configuration.maxRetryAfter = 0.2
    configuration.leaseDuration = 30
    return configuration
}

/// Delivery to the loopback receiver: its port allowed, http and loopback admitted (tests only).
private func loopbackTransport(port: Int, timeout: Duration = .seconds(5)) -> SafeWebhookTransport {
    SafeWebhookTransport(policy: FetchPolicy(allowedHosts: [AllowedHost(host: "127.0.0.1", port: port)], allowsHTTP: true,
                                             allowPrivateAddresses: true, maxBytes: 1024, timeout: timeout))
}

/// Steps the dispatcher until `done` holds for the job's deliveries (or 20 s pass).
private func drive(_ dispatcher: WebhookDispatcher, store: any JobStore, job: JobID,
                   until done: ([WebhookDelivery]) -> Bool) async throws -> [WebhookDelivery] {
    let deadline = ContinuousClock.now + .seconds(20)
    while true {
        try await dispatcher.deliverDue()
        let deliveries = try await store.webhookDeliveries(jobID: job)
        if done(deliveries) || ContinuousClock.now > deadline { return deliveries }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A resolver whose answers a test changes (a name moved to another address).
private final class SwitchingResolver: HostResolver {
    private let answers: Mutex<[String: [IPAddress]]>
    init(_ answers: [String: [IPAddress]]) { self.answers = Mutex(answers) }
    func set(_ host: String, _ addresses: [IPAddress]) { answers.withLock { $0[host] = addresses } }
    func resolve(host: String, port: Int) async throws -> [IPAddress] {
        guard let found = answers.withLock({ $0[host] }) else { throw UnknownHost() }
        return found
    }
    struct UnknownHost: Error {}
}
