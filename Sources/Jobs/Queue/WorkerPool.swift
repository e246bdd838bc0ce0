import Crypto
import Foundation
import Logging
import Metrics
import Tracing
import Synchronization

/// Workers that lease jobs from the store and run them with their executor.
///
/// A running job holds a lease that its worker renews by heartbeats; if the worker dies, the
/// lease expires and `rescueExpiredLeases` (run by every pool) queues the job again. A job is
/// stopped when it is cancelled (the heartbeat finds it no longer running), when it exceeds its
/// timeout, or when the pool shuts down (the job is released to the queue, not failed).
public final class WorkerPool: Sendable {
    public struct Configuration: Sendable {
        public var concurrency = max(1, ProcessInfo.processInfo.activeProcessorCount)
        /// Confidential jobs run at once in this process, besides `concurrency` regular ones:
        /// one by default, since the engine spreads each bootstrap layer over every core.
        public var fheConcurrency = 1
        /// The longest a running confidential job's progress goes unwritten.
        public var progressInterval: Duration = .seconds(1)
        public var leaseDuration: TimeInterval = 30
        /// The longest a worker waits between looks at the queue when nothing wakes it.
        public var pollInterval: Duration = .milliseconds(500)
        public var rescueInterval: TimeInterval = 5
        public var retry = RetryPolicy()
        public init() {}
    }

    private let store: any JobStore
    private let executors: ExecutorRegistry
    private let confidential: (any ConfidentialJobs)?
    private let configuration: Configuration
    private let wakeup: QueueWakeup
    private let confirmationWakeup: QueueWakeup?
    private let workerPrefix: String
    private let logger: Logger
    /// When a worker loop or a heartbeat last ran (microseconds since 1970), for readiness.
    private let lastActivity = Atomic<Int64>(Date().microsecondsSince1970)
    /// Running attempts' timeouts and heartbeat times: each fires at most 250 ms late.
    private let deadlines = Deadlines(resolution: .milliseconds(250))

    public init(store: any JobStore, executors: ExecutorRegistry, confidential: (any ConfidentialJobs)? = nil,
                configuration: Configuration = .init(),
                wakeup: QueueWakeup, confirmationWakeup: QueueWakeup? = nil, name: String = ProcessInfo.processInfo.hostName,
                logger: Logger = Logger(label: "fhe-jobs.worker")) {
        self.store = store; self.executors = executors; self.confidential = confidential; self.configuration = configuration
        self.wakeup = wakeup; self.confirmationWakeup = confirmationWakeup
        self.workerPrefix = "\(name)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
        self.logger = logger
    }

    /// Runs until the task is cancelled; running jobs are then released to the queue.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.rescueLoop() }
            for index in 0..<configuration.concurrency {
                group.addTask { await self.workerLoop(workerID: "\(self.workerPrefix)/\(index)", type: .compute) }
            }
            // A worker without the confidential half leaves FHE jobs to the workers that have it.
            if confidential != nil {
                for index in 0..<configuration.fheConcurrency {
                    group.addTask { await self.workerLoop(workerID: "\(self.workerPrefix)/fhe\(index)", type: .fheCompute) }
                }
            }
        }
    }

    /// Whether the workers are alive: some loop or heartbeat ran recently.
    public var isHealthy: Bool {
        let idle = Date().microsecondsSince1970 - lastActivity.load(ordering: .relaxed)
        let allowance = max(configuration.leaseDuration, 4 * Double(configuration.pollInterval.components.seconds) + 2)
        return Double(idle) < allowance * 1_000_000
    }

    private func touch() { lastActivity.store(Date().microsecondsSince1970, ordering: .relaxed) }

    private func rescueLoop() async {
        while !Task.isCancelled {
            do {
                let rescued = try await store.rescueExpiredLeases(now: Date())
                if rescued > 0 {
                    logger.warning("rescued jobs whose worker stopped answering", metadata: ["count": "\(rescued)"])
                    Counter(label: "fhe_jobs_lease_rescues_total").increment(by: rescued)
                    wakeup.signal()
                }
            } catch {
                logger.error("lease rescue failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(configuration.rescueInterval))
        }
    }

    private func workerLoop(workerID: String, type: JobType) async {
        while !Task.isCancelled {
            touch()
            let job: Job?
            do {
                job = try await store.leaseNextJob(workerID: workerID, leaseDuration: configuration.leaseDuration, now: Date(),
                                                   type: type)
            } catch is CancellationError {
                break   // shutting down: not a failure
            } catch {
                logger.error("leasing a job failed", metadata: ["error": "\(error)"])
                // An open breaker (the database is down) says when asking again makes sense.
                try? await Task.sleep(for: max(configuration.pollInterval, (error as? CircuitOpenError)?.retryAfter ?? .zero))
                continue
            }
            guard let job else {
                await wakeup.wait(timeout: configuration.pollInterval)
                continue
            }
            await runLeased(job, workerID: workerID)
        }
    }

    /// A result and the hash its confirmation commits to (nil: the SHA-256 of its canonical JSON).
    private struct Output: Sendable {
        var result: JSONValue
        var hash: String? = nil
        /// Confidential jobs: the bootstraps performed, written as their final progress.
        var bootstraps: Int? = nil
    }

    private enum Ending: Sendable {
        case finished(Result<Output, any Error>)
        case timedOut
        case leaseLost
        case shutdown

        /// How the attempt ended, as its `job.execute` span says.
        var name: String {
            switch self {
            case .finished(.success): "succeeded"
            case .finished(.failure): "failed"
            case .timedOut: "timed_out"
            case .leaseLost: "lease_lost"
            case .shutdown: "shutdown"
            }
        }
    }

    /// Runs one leased job to an outcome and records it.
    func runLeased(_ job: Job, workerID: String) async {
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        log[metadataKey: "attempt"] = "\(job.attempts)"
        let started = ContinuousClock.now
        let wait = Date().timeIntervalSince(job.createdAt)
        Metrics.Timer(label: "fhe_jobs_pickup_latency_seconds").recordSeconds(max(0, wait))

        let attemptLog = log
        // This attempt's trace: from the moment the job could run (its submission, or the
        // retry time after a failed attempt) through its wait in the queue and its execution.
        let queued = WallClockInstant(max(job.createdAt, job.runAfter))
        await withSpan(JobSpans.job, at: queued, ofKind: .consumer) { span in
            JobSpans.describe(job, on: span)
            startSpan(JobSpans.queueWait, at: queued).end()
            let ending = await withSpan(JobSpans.execute) { span in
                let ending = await execute(job, workerID: workerID)
                span.attributes[JobSpans.outcome] = ending.name
                if case .finished(.failure(let error)) = ending { span.recordError(error); span.setStatus(SpanStatus(code: .error)) }
                return ending
            }
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed.seconds
            // Recording runs outside this task's cancellation, so a job that ends while the pool
            // shuts down is still recorded (or released) rather than left to its lease expiring.
            await Task { await self.record(ending, of: job, workerID: workerID, seconds: seconds, log: attemptLog) }.value
        }
    }

    private func record(_ ending: Ending, of job: Job, workerID: String, seconds: Double, log: Logger) async {
        let now = Date()
        do {
            switch ending {
            case .finished(.success(let output)):
                let result = output.result
                let hash = output.hash ?? SHA256.hash(data: result.canonicalData()).hexString
                if let done = output.bootstraps, let total = job.fhe?.quote.bootstraps {
                    _ = try await store.recordProgress(jobID: job.id, workerID: workerID,
                                                       progress: FHEProgress(bootstrapsDone: done, bootstrapsTotal: total, updatedAt: now))
                }
                if try await store.completeJob(jobID: job.id, workerID: workerID, result: result, resultHash: hash,
                                               computeSeconds: seconds, now: now) {
                    confirmationWakeup?.signal()
                    count(outcome: "succeeded", seconds: seconds)
                } else {
                    log.info("result discarded: the job was cancelled or taken over while it ran")
                }
            case .finished(.failure(let error as JobInputError)):
                // The input cannot be computed on (found only while running, e.g. an overflow):
                // running it again gives the same answer, so it fails at once.
                let failure = JobFailure(code: "INVALID_INPUT", message: error.message)
                try await fail(job, workerID: workerID, failure: failure, retry: false, seconds: seconds, now: now, log: log)
            case .finished(.failure(let error)):
                let failure = JobFailure(code: "EXECUTION_FAILED", message: "\(error)")
                try await fail(job, workerID: workerID, failure: failure, seconds: seconds, now: now, log: log)
            case .timedOut:
                try await fail(job, workerID: workerID, failure: .timedOut(after: job.timeoutSeconds), seconds: seconds, now: now, log: log)
            case .leaseLost:
                log.info("job stopped: cancelled, or its lease was lost")
                count(outcome: "cancelled", seconds: seconds)
            case .shutdown:
                _ = try await store.releaseJob(jobID: job.id, workerID: workerID, now: now)
                log.info("job released to the queue at shutdown")
            }
        } catch {
            // The lease expires and the rescue loop re-queues the job: nothing is lost.
            log.error("recording the job's outcome failed", metadata: ["error": "\(error)"])
        }
    }

    private func fail(_ job: Job, workerID: String, failure: JobFailure, retry: Bool = true, seconds: Double, now: Date, log: Logger) async throws {
        let retryAt = retry && job.attempts < job.maxAttempts
            ? now.addingTimeInterval(configuration.retry.delay(afterAttempt: job.attempts)) : nil
        if try await store.failJob(jobID: job.id, workerID: workerID, failure: failure, retryAt: retryAt,
                                   computeSeconds: seconds, now: now) {
            if retryAt != nil { Counter(label: "fhe_jobs_retries_total").increment() }
            log.warning(retryAt == nil ? "job failed" : "attempt failed; will retry",
                        metadata: ["code": "\(failure.code)", "reason": "\(failure.message)"])
            count(outcome: retryAt == nil ? "failed" : "retried", seconds: seconds)
        }
    }

    private func count(outcome: String, seconds: Double) {
        Metrics.Timer(label: "fhe_jobs_job_duration_seconds", dimensions: [("outcome", outcome)]).recordSeconds(seconds)
    }

    /// Races the executor against the job's timeout, its heartbeats and shutdown.
    private func execute(_ job: Job, workerID: String) async -> Ending {
        let executor = job.payload["algorithm"]?.stringValue.flatMap(executors.executor(for:))
        let input = job.payload["input"] ?? .null
        let confidential = self.confidential
        let bootstrapsDone = ProgressCounter()
        return await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                do {
                    if job.type == .fheCompute {
                        guard let confidential else {
                            return .finished(.failure(JobInputError("this worker does not run confidential jobs")))
                        }
                        let outcome = try await confidential.run(job) { done in bootstrapsDone.value.store(done, ordering: .relaxed) }
                        return .finished(.success(Output(result: outcome.summary, hash: outcome.resultHash,
                                                         bootstraps: outcome.bootstrapsPerformed)))
                    }
                    guard let executor else {
                        return .finished(.failure(JobInputError("no executor for this job on this worker")))
                    }
                    return .finished(.success(Output(result: try await executor.run(input: input))))
                }
                catch { return Task.isCancelled ? nil : .finished(.failure(error)) }
            }
            if let total = job.fhe?.quote.bootstraps {
                // Progress is written at most once an interval, and only when it moved.
                group.addTask {
                    var written = -1
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.configuration.progressInterval)
                        if Task.isCancelled { return nil }
                        let done = bootstrapsDone.value.load(ordering: .relaxed)
                        guard done != written else { continue }
                        let progress = FHEProgress(bootstrapsDone: done, bootstrapsTotal: total, updatedAt: Date())
                        if (try? await self.store.recordProgress(jobID: job.id, workerID: workerID, progress: progress)) == true {
                            written = done
                        }
                    }
                    return nil
                }
            }
            // The timeout and the heartbeats wait on `deadlines`, not on Task.sleep (see
            // Deadlines: a cancelled sleep holds memory until its deadline).
            group.addTask {
                let expired = await self.deadlines.sleep(until: .now + .seconds(job.timeoutSeconds))
                return expired && !Task.isCancelled ? .timedOut : nil
            }
            group.addTask {
                let interval = Duration.seconds(self.configuration.leaseDuration / 3)
                while !Task.isCancelled {
                    guard await self.deadlines.sleep(until: .now + interval), !Task.isCancelled else { return nil }
                    self.touch()
                    do {
                        if try await !self.store.heartbeat(jobID: job.id, workerID: workerID,
                                                            leaseDuration: self.configuration.leaseDuration, now: Date()) {
                            return .leaseLost
                        }
                    } catch {
                        if !Task.isCancelled {
                            self.logger.warning("heartbeat failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                        }
                    }
                }
                return nil
            }
            // The first child to end decides; the others are cancelled. When the pool itself is
            // cancelled, every child ends with nil and the job is released.
            var ending: Ending = .shutdown
            for await result in group {
                if let result { ending = result; break }
                if Task.isCancelled { break }
            }
            group.cancelAll()
            return Task.isCancelled ? .shutdown : ending
        }
    }
}

/// The bootstraps a running confidential job has done, shared between its computation and
/// the task that writes its progress.
private final class ProgressCounter: Sendable {
    let value = Atomic<Int>(0)
}
