import Dispatch
import Jobs

/// Where FHE work runs: threads of its own, never the cooperative pool's.
///
/// The engine spreads each bootstrap layer over every core, and a job runs for minutes. On
/// the cooperative pool (one thread per core) it would leave HTTP, heartbeats and timers
/// waiting; on a dedicated thread (`DedicatedThreadExecutor`) the kernel shares the cores
/// and those tasks keep running. The work still runs inside its task, so `Task.isCancelled`
/// is seen between bootstrap layers.
enum FHEThreads {
    static func run<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withTaskExecutorPreference(DedicatedThreadExecutor(label: "fhe-jobs.fhe")) {
            try body()
        }
    }
}
