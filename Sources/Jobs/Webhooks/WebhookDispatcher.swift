import Crypto
import Foundation
import Logging
import Metrics

/// Delivers webhooks: leases due deliveries from the store (so replicas never attempt one
/// delivery at once), POSTs each signed (``WebhookMessages``) through the transport, and
/// records what every attempt came to.
///
/// A delivery is attempted again after no answer, a timeout, 408, 429 or 5xx, with exponential
/// backoff and jitter (or later, if the receiver's `Retry-After` asks for it, up to
/// ``Configuration/maxRetryAfter``), and given up after ``Configuration/maxAttempts`` attempts
/// or ``Configuration/maxAge``. A 2xx delivers it; any other answer (3xx, 4xx) gives it up at
/// once, as does an address the policy refuses. An attempt is counted when it is leased, so a
/// process that dies mid-attempt leaves the delivery to be attempted again once its lease
/// expires, within the same bound.
public final class WebhookDispatcher: Sendable {
    public struct Configuration: Sendable {
        /// Attempts in all, the first included.
        public var maxAttempts = 8
        /// After this long since the transition, a delivery is given up however few attempts it had.
        public var maxAge: TimeInterval = 24 * 3600
        /// The waits between attempts: 10 s, 20 s, 40 s, ... up to an hour, each with jitter.
        public var backoff = RetryPolicy(baseDelay: 10, maxDelay: 3600)
        /// The longest `Retry-After` honoured; a receiver asking for more waits this long.
        public var maxRetryAfter: TimeInterval = 3600
        /// How long a leased delivery is the dispatcher's: more than the transport's timeout.
        public var leaseDuration: TimeInterval = 60
        /// The longest the dispatcher waits between looks at the queue when nothing wakes it.
        public var pollInterval: Duration = .seconds(1)
        /// Deliveries attempted at once by this process.
        public var concurrency = 4
        public init() {}
    }

    private let store: any JobStore
    private let transport: any WebhookTransport
    private let signingKey: Curve25519.Signing.PrivateKey
    private let configuration: Configuration
    private let wakeup: QueueWakeup?
    private let owner: String
    private let logger: Logger

    public init(store: any JobStore, transport: any WebhookTransport, signingKey: Curve25519.Signing.PrivateKey,
                configuration: Configuration = .init(), wakeup: QueueWakeup? = nil, name: String = ProcessInfo.processInfo.hostName,
                logger: Logger = Logger(label: "fhe-jobs.webhooks")) {
        self.store = store; self.transport = transport; self.signingKey = signingKey; self.configuration = configuration
        self.wakeup = wakeup; self.logger = logger
        self.owner = "\(name)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
    }

    /// Runs until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<max(1, configuration.concurrency) {
                group.addTask { await self.loop(owner: "\(self.owner)/\(index)") }
            }
        }
    }

    private func loop(owner: String) async {
        while !Task.isCancelled {
            do {
                if try await deliverNext(owner: owner) { continue }
            } catch is CancellationError {
                break
            } catch {
                logger.error("webhook delivery failed to run", metadata: ["error": "\(error)"])
            }
            if let wakeup { await wakeup.wait(timeout: configuration.pollInterval) } else { try? await Task.sleep(for: configuration.pollInterval) }
        }
    }

    /// Attempts every delivery due now, one after another; returns how many were attempted.
    /// (The loops do the same continuously; tests call this to step the queue.)
    @discardableResult
    public func deliverDue() async throws -> Int {
        var count = 0
        while try await deliverNext(owner: owner) { count += 1 }
        return count
    }

    /// Leases and attempts one due delivery; false when none is due.
    func deliverNext(owner: String) async throws -> Bool {
        guard let delivery = try await store.leaseWebhookDelivery(owner: owner, leaseDuration: configuration.leaseDuration, now: Date()) else {
            return false
        }
        await attempt(delivery, owner: owner)
        return true
    }

    private func attempt(_ delivery: WebhookDelivery, owner: String) async {
        var log = logger
        log[metadataKey: "delivery"] = "\(delivery.deliveryID)"
        log[metadataKey: "attempt"] = "\(delivery.attempts)"
        let started = ContinuousClock.now
        let now = Date()
        let (statusCode, error, next) = await send(delivery, now: now)
        let seconds = (ContinuousClock.now - started).seconds
        let attempt = WebhookAttempt(number: delivery.attempts, at: now, statusCode: statusCode, error: error, durationSeconds: seconds)
        let outcome: String
        switch next {
        case .delivered: outcome = "delivered"
        case .retry: outcome = "retry"
        case .giveUp: outcome = "failed"
        }
        Counter(label: "fhe_jobs_webhook_attempts_total", dimensions: [("outcome", outcome)]).increment()
        Metrics.Timer(label: "fhe_jobs_webhook_attempt_seconds").recordSeconds(seconds)
        do {
            // Recorded outside cancellation: an attempt made while the process stops is kept.
            let recorded = try await Task {
                try await self.store.recordWebhookAttempt(jobID: delivery.jobID, sequence: delivery.sequence, owner: owner,
                                                          attempt: attempt, next: next, now: Date())
            }.value
            guard recorded else {
                log.warning("webhook attempt not recorded: the lease expired and another dispatcher took the delivery")
                return
            }
        } catch {
            // The lease expires and the delivery is attempted again: nothing is lost.
            log.error("recording a webhook attempt failed", metadata: ["error": "\(error)"])
            return
        }
        switch next {
        case .delivered:
            Counter(label: "fhe_jobs_webhook_deliveries_total", dimensions: [("state", "delivered")]).increment()
        case .giveUp:
            Counter(label: "fhe_jobs_webhook_deliveries_total", dimensions: [("state", "failed")]).increment()
            log.warning("webhook given up", metadata: ["reason": "\(error ?? "")"])
        case .retry(let at):
            log.info("webhook attempt failed; will retry", metadata: ["reason": "\(error ?? "")", "at": "\(at)"])
        }
    }

    /// Sends the delivery (unless its budget is spent) and decides what comes next.
    func send(_ delivery: WebhookDelivery, now: Date) async -> (status: Int?, error: String?, next: WebhookNextStep) {
        let age = now.timeIntervalSince(delivery.createdAt)
        if delivery.attempts > configuration.maxAttempts || age > configuration.maxAge {
            return (nil, "given up after \(delivery.attempts - 1) attempts over \(Int(age)) s", .giveUp)
        }
        let job: Job
        do {
            guard let found = try await store.job(id: delivery.jobID), found.callbackURL != nil else {
                return (nil, "the job or its callback URL no longer exists", .giveUp)
            }
            job = found
        } catch {
            return (nil, "the job could not be read: \(error)", retry(delivery, now: now, retryAfter: nil))
        }
        let body = WebhookMessages.body(of: delivery, job: job)
        let timestamp = Int64(now.timeIntervalSince1970)
        let signature: String
        do {
            signature = try WebhookMessages.signature(timestamp: timestamp, body: body, by: signingKey)
        } catch {
            return (nil, "signing failed: \(error)", retry(delivery, now: now, retryAfter: nil))
        }
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("User-Agent", "fhe-jobs-webhook"),
            (WebhookMessages.idHeader, delivery.deliveryID), (WebhookMessages.timestampHeader, "\(timestamp)"),
            (WebhookMessages.signatureHeader, signature),
        ]
        switch await transport.send(job.callbackURL ?? "", body: body, headers: headers) {
        case .answered(let status, _) where (200..<300).contains(status):
            return (status, nil, .delivered)
        case .answered(let status, let retryAfter) where status == 408 || status == 429 || status >= 500:
            return (status, "the receiver answered HTTP \(status)",
                    retry(delivery, now: now, retryAfter: RetryPolicy.retryAfter(retryAfter, now: now)))
        case .answered(let status, _):
            return (status, "the receiver answered HTTP \(status), which is final", .giveUp)
        case .unreachable(let reason):
            return (nil, reason, retry(delivery, now: now, retryAfter: nil))
        case .refused(let reason):
            return (nil, reason, .giveUp)
        }
    }

    /// The next attempt's time, or giving up when the attempts or the age would run out.
    private func retry(_ delivery: WebhookDelivery, now: Date, retryAfter: Duration?) -> WebhookNextStep {
        guard delivery.attempts < configuration.maxAttempts else { return .giveUp }
        let backoff = configuration.backoff.delay(afterAttempt: delivery.attempts)
        let asked = min(retryAfter?.seconds ?? 0, configuration.maxRetryAfter)
        let at = now.addingTimeInterval(max(backoff, asked))
        guard at.timeIntervalSince(delivery.createdAt) <= configuration.maxAge else { return .giveUp }
        return .retry(at: at)
    }
}
