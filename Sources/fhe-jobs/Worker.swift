import ArgumentParser
import ComputeJobs
import FHEJobs
import Foundation
import Jobs
import Logging
import Metrics
import ServiceLifecycle

/// `fhe-jobs worker`: workers and the confirmer without the API, for scaling them apart.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run queue workers (no API) until SIGINT/SIGTERM; running jobs are released to the queue.")

    @OptionGroup var storage: StorageOptions
    @OptionGroup var chain: ChainOptions
    @OptionGroup var fhe: FHEOptions
    @OptionGroup var breakers: BreakerOptions
    @OptionGroup var tracing: TracingOptions

    @Option(help: "Jobs run at once (env FHE_JOBS_WORKERS).")
    var workers: Int = ProcessInfo.processInfo.environment["FHE_JOBS_WORKERS"].flatMap(Int.init)
        ?? ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seconds a job's lease lasts without a heartbeat before another worker takes it over.")
    var leaseSeconds: Double = 30

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1") }
    }

    func run() async throws {
        TracingOptions.bootstrapLogging()
        let logger = Logger(label: "fhe-jobs.worker")
        let traceExporter = try tracing.bootstrap(serviceName: "fhe-jobs-worker", logger: logger)
        let graph = try await ServiceGraph.open(storage, breakers: breakers, logger: logger)
        let executors = ExecutorRegistry(ComputeAlgorithms.all())
        var configuration = WorkerPool.Configuration()
        configuration.concurrency = workers
        configuration.leaseDuration = leaseSeconds
        configuration.fheConcurrency = fhe.fheConcurrency
        // A worker never holds the key-encryption key: it computes under server keys only.
        let confidential = try fhe.confidentialJobs(store: graph.store, dataDirectory: storage.dataDirectory, kek: nil,
                                                    breakers: breakers.configuration, logger: logger)
        let pool = WorkerPool(store: graph.store, executors: executors, confidential: confidential, configuration: configuration,
                              wakeup: graph.wakeup, confirmationWakeup: graph.confirmationWakeup, logger: logger)
        // The ledger's signer, when results are confirmed on the local ledger.
        let signingKey = chain.chainRPCURL == nil ? try ServiceGraph.signingKey(storage) : nil
        let confirmer = ConfirmationService(
            store: graph.store, confirmer: try await chain.confirmer(store: graph.store, signingKey: signingKey, breaker: breakers.configuration, logger: logger),
            wakeup: graph.confirmationWakeup, logger: logger)
        var runner = Runner(graph: graph, logger: logger) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await cancelWhenGracefulShutdown { await pool.run() } }
                group.addTask { await cancelWhenGracefulShutdown { await confirmer.run() } }
                group.addTask { await cancelWhenGracefulShutdown { await confidential.sweepBlobs() } }
            }
        }
        if let signingKey { runner.before = { try await graph.registerSigningKey(signingKey.publicKey) } }
        // Services stop in reverse order: the exporter last, so the final spans are sent.
        try await ServiceGroup(configuration: .init(services: traceExporter + graph.backgroundServices + [runner],
                                                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
