import ComputeJobs
import Crypto
import FHEJobs
import FHEPrograms
import Foundation
import JobStoreSQLite
import Jobs
import Synchronization
import TFHE

/// The service of `fhe-jobs fhe bench`, every role in one process, and what it measures.
struct ConfidentialBench {
    let store: SQLiteJobStore
    let api: ConfidentialJobsService
    let worker: ConfidentialJobsService
    let service: JobService
    let pool: WorkerPool
    let confirmer: ConfirmationService
    let parameters: ParameterSet
    let principal = Principal(subject: "bench-owner", tenant: "bench", role: .developer)
    /// The jobs' owner: its public key is each job's `client_public_key`, and it signs retrievals.
    let owner = P256.Signing.PrivateKey()
    var clientKey: String { owner.publicKey.pemRepresentation }

    init(fhe: FHEOptions, folder: URL) async throws {
        store = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path)
        try await store.migrate()
        let kek = try KeyEncryptionKey(base64: KeyEncryptionKey.generateBase64())
        // One signing identity signs the ledger's entries and the retrieval answers, as in `serve`.
        let signingKey = Curve25519.Signing.PrivateKey()
        api = try fhe.confidentialJobs(store: store, dataDirectory: folder, kek: kek, signingKey: signingKey, logger: .init(label: "bench.api"))
        // The worker side has no key-encryption key and a key cache of its own, as a worker process.
        worker = try fhe.confidentialJobs(store: store, dataDirectory: folder, kek: nil, logger: .init(label: "bench.worker"))
        parameters = api.keys.parameters
        let wakeup = QueueWakeup(), confirmations = QueueWakeup()
        var plans = TenantPlans()
        plans.default.maxBootstrapsPerJob = nil
        var configuration = JobService.Configuration()
        configuration.plans = plans
        service = JobService(store: store, executors: ExecutorRegistry(ComputeAlgorithms.all()), confidential: api,
                             configuration: configuration, wakeup: wakeup)
        var workers = WorkerPool.Configuration()
        workers.concurrency = 1
        pool = WorkerPool(store: store, executors: service.executors, confidential: worker, configuration: workers,
                          wakeup: wakeup, confirmationWakeup: confirmations)
        confirmer = ConfirmationService(store: store, confirmer: LocalLedger(store: store, signingKey: signingKey), wakeup: confirmations)
    }

    func run(_ cases: [BenchCase], repeats: Int, retrievals: Int) async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("# fhe-jobs fhe bench: \(BenchMachine.describe()), \(cores) cores; parameters \(parameters.name)")
        let engine = try EngineFigures.measure(parameters)
        print(String(format: "engine: one bootstrap alone %.2f ms; batched, per bootstrap on one core %.2f ms; on all %d cores %.2f ms per bootstrap",
                     engine.latency * 1e3, engine.batchedPerCore * 1e3, cores, engine.allCores * 1e3))
        // As `serve` does when it starts: the quotes' per-bootstrap time, measured once.
        var started = ContinuousClock.now
        await api.calibrate()
        print(String(format: "quote calibration at start-up: %.2f s", (ContinuousClock.now - started).seconds))
        started = ContinuousClock.now
        let keySet = try await api.keys.ownerKeySet(tenant: principal.tenant, owner: principal.subject)
        print(String(format: "owner's key set made on first use: %.2f s (compressed public key %.1f kB, compressed server key %.1f MB)",
                     (ContinuousClock.now - started).seconds, Double(keySet.publicKeyBytes) / 1e3, Double(keySet.serverKeyBytes) / 1e6))
        started = ContinuousClock.now
        // As a client downloads it.
        guard let file = try await api.keyFile(keySetID: keySet.id, part: .publicKey, for: principal) else {
            throw StartupError("the owner's public key is missing")
        }
        var download = Data()
        for try await chunk in try await file.read(nil) { download.append(chunk) }
        let publicKey = try CompressedPublicKey<UInt64>(serialized: download, parameters: parameters).decompress()
        print(String(format: "client: public key downloaded and expanded in %.3f s", (ContinuousClock.now - started).seconds))
        let keySetID = KeySetID(hex: keySet.id)!
        print("")
        print("| job | bootstraps | depth | encrypt (client) | input | submission | queue wait | compute | of it: FHE, server key | confirmation | quoted | target | FHE / target | layer bound | FHE / layer bound | service share | RSS |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            group.addTask { await confirmer.run() }
            defer { group.cancelAll() }
            var random = SystemRandomNumberGenerator()
            var finished: [(label: String, job: Job)] = []
            for benchCase in cases {
                for repeat_ in 0..<repeats {
                    let (row, job) = try await runOne(benchCase, keySetID: keySetID, publicKey: publicKey, engine: engine, random: &random)
                    print(row)
                    if repeat_ == 0 { finished.append((benchCase.label, job)) }
                }
            }
            try await self.retrievals(of: finished, count: retrievals)
        }
    }

    private func runOne(_ benchCase: BenchCase, keySetID: KeySetID, publicKey: PublicKey<UInt64>, engine: EngineFigures,
                        random: inout some RandomNumberGenerator) async throws -> (row: String, job: Job) {
        let values = benchCase.inputs(&random)
        var clock = ContinuousClock.now
        let file = try EncryptedValues.encrypt(values, keySetID: keySetID, publicKey: publicKey)
        let encryptSeconds = (ContinuousClock.now - clock).seconds
        let payload: JSONValue = .object([
            "algorithm": .string(benchCase.algorithm), "encrypted_data": .string(file.base64EncodedString()),
            "client_public_key": .string(clientKey), "parameters": benchCase.parameters])
        clock = ContinuousClock.now
        let job = try await service.submit(JobSubmission(type: .fheCompute, payload: payload, useFHE: true), by: principal,
                                           idempotencyKey: nil).job
        let submissionSeconds = (ContinuousClock.now - clock).seconds
        let queued = Date()
        let quote = job.fhe!.quote
        let layers = try Self.layers(file, benchCase, parameters: parameters)
        let depth = layers.count

        var done = job
        while done.status != .confirmed {
            if done.status == .failed || done.status == .cancelled {
                throw StartupError("the benchmark job failed: \(done.failure.map { "\($0.code): \($0.message)" } ?? "\(done.status)")")
            }
            try await Task.sleep(for: .milliseconds(10))
            done = try await store.job(id: job.id) ?? done
        }
        // From the moment the submission returned (the job's createdAt is when it began).
        let queueWait = max(0, done.startedAt!.timeIntervalSince(queued))
        let compute = done.finishedAt!.timeIntervalSince(done.startedAt!)
        let confirmation = done.confirmation!.confirmedAt.timeIntervalSince(done.finishedAt!)
        let fheSeconds = done.result?["fhe_seconds"]?.doubleValue ?? 0
        let keySeconds = done.result?["server_key_seconds"]?.doubleValue ?? 0
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let target = max(Double(depth) * engine.latency, Double(quote.bootstraps) * engine.batchedPerCore / cores)
        // Finer: each layer takes at least one bootstrap's latency, and its bootstraps shared
        // out over the cores (a layer of 3 on 2 cores takes two rounds).
        let layerBound = layers.reduce(0.0) { total, size in
            let rounds = (Double(size) / cores).rounded(.up)
            return total + max(engine.latency, rounds * engine.batchedPerCore)
        }
        // Everything that is not the engine's: submission, queueing, blob I/O and bookkeeping
        // around the evaluation, confirmation.
        let serviceShare = submissionSeconds + queueWait + max(0, compute - fheSeconds - keySeconds) + confirmation
        let performed = done.result?["bootstraps"]?.integerValue ?? -1
        let bootstraps = performed == quote.bootstraps ? "\(performed)" : "\(performed) (quoted \(quote.bootstraps))"
        return (String(format: "| %@ | %@ | %d | %.3f s | %.1f kB | %.3f s | %.3f s | %.2f s | %.2f s, %.2f s | %.3f s | %.1f s | %.1f s | %.2f | %.1f s | %.2f | %.3f s | %.0f MB |",
                      benchCase.label, bootstraps, depth, encryptSeconds, Double(file.count) / 1e3, submissionSeconds, queueWait, compute,
                      fheSeconds, keySeconds, confirmation, quote.predictedSeconds, target, fheSeconds / target, layerBound,
                      fheSeconds / layerBound, serviceShare, Double(BenchMachine.residentBytes()) / 1e6), done)
    }

    /// The sizes of the bootstrap layers (one layer's bootstraps can all run at once; their
    /// number is the depth): the program run over the inputs' metadata, with an observer.
    static func layers(_ file: Data, _ benchCase: BenchCase, parameters: ParameterSet) throws -> [Int] {
        let values = try EncryptedValues(serialized: file, parameters: parameters)
        guard let program = ProgramRegistry.standard.program(named: benchCase.algorithm) else { return [] }
        let prepared = try program.prepare(parameters: benchCase.parameters.canonicalData(), inputs: values.shapes)
        let layers = Mutex<[Int]>([])
        let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: parameters).observing { size in layers.withLock { $0.append(size) } }
        _ = try prepared.run(values, key: key)
        return layers.withLock { $0 }
    }
}

/// The engine's bootstrap on this machine, with a throwaway key of the set.
struct EngineFigures {
    /// One bootstrap (key switch and PBS) alone on one core.
    var latency: Double
    /// Per bootstrap, in batches on one core, of the size integer operations use
    /// (`ServerKey.preferredBatchSize`).
    var batchedPerCore: Double
    /// Per bootstrap, in batches spread over every core.
    var allCores: Double

    static func measure(_ parameters: ParameterSet) throws -> EngineFigures {
        let client = try ClientKey<UInt64>(parameters: parameters, seed: .random())
        let serverKey = ServerKey(clientKey: client, seed: .random())
        let single = BootstrapPool(serverKey: serverKey, workerCount: 1, batchSize: 1)
        let table = single.serverKey.lookupTable { $0 }
        func perBootstrap(_ pool: BootstrapPool<UInt64>, count: Int, rounds: Int) throws -> Double {
            let inputs = try (0..<count).map { _ in try client.encrypt(1) }
            let tables = Array(repeating: table, count: count)
            _ = try pool.bootstrap(inputs, tables: tables)   // warm caches and scratch
            var best = Double.infinity
            for _ in 0..<rounds {
                let start = ContinuousClock.now
                _ = try pool.bootstrap(inputs, tables: tables)
                best = min(best, (ContinuousClock.now - start).seconds / Double(count))
            }
            return best
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return EngineFigures(
            latency: try perBootstrap(single, count: 1, rounds: 10),
            batchedPerCore: try perBootstrap(BootstrapPool(serverKey: serverKey, workerCount: 1), count: 16, rounds: 3),
            allCores: try perBootstrap(BootstrapPool(serverKey: serverKey, workerCount: cores), count: 16 * cores, rounds: 3))
    }
}

enum BenchMachine {
    /// The CPU model and its vector extensions, from /proc/cpuinfo.
    static func describe() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        let lines = info.split(separator: "\n")
        let model = lines.first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let flags = Set(lines.first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let vector = ["avx2", "fma", "avx512f", "avx512dq", "avx512ifma"].filter(flags.contains)
        return "\(model) (\(vector.isEmpty ? "no AVX2" : vector.joined(separator: ", ")))"
    }

    /// This process's resident set, from /proc/self/status.
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kB = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kB * 1024
    }
}
