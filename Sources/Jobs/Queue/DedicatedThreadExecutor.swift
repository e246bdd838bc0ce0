import Dispatch

/// A task executor with a thread of its own, for long synchronous computations.
///
/// Swift's global executor has one thread per core. A factorization that spent minutes in
/// GMP-ECM on one of them would leave the worker pool's timers and heartbeats (the tasks that
/// time out and cancel jobs) waiting for a thread on a 2-core machine running two jobs. Run
/// under `withTaskExecutorPreference(DedicatedThreadExecutor())`, the computation still runs
/// inside its task, so `Task.isCancelled` works as usual, but on a thread of a private serial
/// queue: Dispatch gives such queues a thread of their own rather than one of the global
/// executor's (serial queues target an overcommitting root queue).
public final class DedicatedThreadExecutor: TaskExecutor {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
