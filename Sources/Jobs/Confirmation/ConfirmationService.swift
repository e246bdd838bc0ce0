import Foundation
import Logging
import Metrics
import Tracing

/// Moves succeeded jobs to `confirmed` through the configured `ResultConfirmer`.
public final class ConfirmationService: Sendable {
    private let store: any JobStore
    private let confirmer: any ResultConfirmer
    private let wakeup: QueueWakeup
    private let pollInterval: Duration
    private let logger: Logger

    public init(store: any JobStore, confirmer: any ResultConfirmer, wakeup: QueueWakeup,
                pollInterval: Duration = .seconds(1), logger: Logger = Logger(label: "fhe-jobs.confirmer")) {
        self.store = store; self.confirmer = confirmer; self.wakeup = wakeup
        self.pollInterval = pollInterval; self.logger = logger
    }

    public func run() async {
        let backoff = RetryPolicy(baseDelay: 1, maxDelay: 60)
        var failures = 0
        while !Task.isCancelled {
            do {
                let confirmed = try await confirmPending()
                failures = 0
                if confirmed == 0 { await wakeup.wait(timeout: pollInterval) }
            } catch is CancellationError {
                break   // shutting down: not a failure
            } catch {
                failures += 1
                // An open breaker (the chain node is down) says when it will let a probe through:
                // asking sooner would only be refused again.
                let delay = max(backoff.delay(afterAttempt: failures), (error as? CircuitOpenError)?.retryAfter.seconds ?? 0)
                logger.error("confirmation failed; retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                try? await Task.sleep(for: .seconds(delay))
            }
        }
    }

    /// Confirms what is waiting now; returns how many jobs became confirmed.
    @discardableResult
    public func confirmPending(limit: Int = 100) async throws -> Int {
        let jobs = try await store.jobsAwaitingConfirmation(limit: limit)
        guard !jobs.isEmpty else { return 0 }
        return try await withSpan(JobSpans.confirm) { span in
            span.attributes[JobSpans.jobIDs] = jobs.map { $0.id.uuidString.lowercased() }
            let confirmations = try await confirmer.confirm(jobs)
            var count = 0
            for job in jobs {
                guard let confirmation = confirmations[job.id] else { continue }
                if try await store.markConfirmed(jobID: job.id, confirmation: confirmation, now: Date()) {
                    count += 1
                    Counter(label: "fhe_jobs_confirmations_total", dimensions: [("kind", confirmation.kind.rawValue)]).increment()
                }
            }
            return count
        }
    }
}
