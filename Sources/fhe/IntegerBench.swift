import Foundation
import Synchronization
import TFHE

/// `fhe bench --operations add,mul,eq,gt,div --width 8,16`: latency and bootstrap count of
/// radix integer operations on all cores, beside the single-thread KS+PBS time of the same
/// run, from which the parallel efficiency follows:
/// efficiency = bootstraps × (single-thread KS+PBS) / (workers × latency).
/// With `--count-only`, the bootstraps and the depth (layers of bootstraps that depend on the
/// one before) of each operation, from a metadata-only key: no cryptography, in seconds.
struct IntegerBenchRunner {
    static let operations = IntegerOperation.allCases.map(\.rawValue)

    struct Result: Codable {
        let operation: String
        let width: Int
        let milliseconds: Double
        let bootstraps: Int
        /// bootstraps × single-thread KS+PBS / workers, the latency of perfect parallelism.
        let idealMilliseconds: Double
        let efficiency: Double
        let iterations: Int
    }

    struct Report: Codable {
        let parameters: String
        let workers: Int
        let batchSize: Int
        let singleThreadKSPBSMilliseconds: Double
        let results: [Result]
    }

    struct Count: Codable {
        let operation: String
        let width: Int
        let bootstraps: Int
        /// Layers of bootstraps, each depending on the one before: the latency in bootstraps
        /// with enough cores.
        let depth: Int
    }

    struct CountReport: Codable {
        let parameters: String
        let counts: [Count]
    }

    /// Bootstraps and depth of each operation at each width, without cryptography (the inputs
    /// are real encryptions, the key counts). The clear constants come from a fixed seed, so
    /// the figures are the same on every run and whatever widths are asked for.
    static func count(_ operations: [String], widths: [Int], parameters: ParameterSet,
                      carryPropagation: CarryPropagation = .ripple) throws -> CountReport {
        let client = try ClientKey<UInt64>(parameters: parameters)
        let layers = Mutex<Int>(0)
        let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: parameters, carryPropagation: carryPropagation)
            .observing { _ in layers.withLock { $0 += 1 } }
        var counts: [Count] = []
        for width in widths {
            // A seed per width: a width's constants do not depend on the other widths asked for.
            var rng = AESCTRGenerator(seed: Seed(high: 0xb007, low: UInt64(width)))
            let operands = try IntegerOperation.Operands(client: client, width: width, using: &rng)
            for op in operations {
                guard let operation = IntegerOperation(rawValue: op) else { continue }
                let before = key.bootstrapCount
                layers.withLock { $0 = 0 }
                try operation.run(key, operands)
                counts.append(Count(operation: op, width: width, bootstraps: key.bootstrapCount - before,
                                    depth: layers.withLock { $0 }))
            }
        }
        return CountReport(parameters: parameters.name, counts: counts)
    }

    let parameters: ParameterSet
    let iterations: Int
    let workers: Int?
    /// nil: the size that fits the core's cache (`ServerKey.preferredBatchSize`).
    let batchSize: Int?
    /// Carries (`CarryPlanOption`; fastest with this machine's workers and its measured cost
    /// of a bootstrap alone against one in a batch).
    let carryPropagation: CarryPlanOption

    func run(_ operations: [String], widths: [Int], log: (String) -> Void) throws -> Report {
        let client = try ClientKey<UInt64>(parameters: parameters)
        let server = ServerKey(clientKey: client)
        let batchSize = self.batchSize ?? server.preferredBatchSize()
        // Single-thread KS+PBS, alone and per bootstrap of a batch, medians of 20.
        let scratch = server.makeScratch()
        let input = try client.encrypt(1)
        let table = server.lookupTable { $0 }
        var output = LWECiphertext<UInt64>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        let timer = BenchRunner<UInt64>(parameters: parameters, iterations: 20, batch: nil)
        let pbs = try timer.median { try server.programmableBootstrap(input, table: table, scratch: scratch, into: &output) }
        let batchInputs = [LWECiphertext<UInt64>](repeating: input, count: max(2, batchSize))
        var batchOutputs = [LWECiphertext<UInt64>](repeating: output, count: batchInputs.count)
        let batchScratch = server.makeBatchScratch(capacity: batchInputs.count)
        let batched = try timer.median {
            try server.programmableBootstrap(batch: batchInputs, tables: [table], scratches: batchScratch, into: &batchOutputs)
        } / Double(batchInputs.count)
        let workerCount = workers ?? ProcessInfo.processInfo.activeProcessorCount
        let plan = carryPropagation.plan(workers: workerCount, singleToBatchedCost: pbs / batched)
        let key = try IntegerServerKey(serverKey: server, workerCount: workerCount, batchSize: batchSize, carryPropagation: plan)
        log(String(format: "single-thread KS+PBS: %.3f ms alone, %.3f ms in a batch of %d; %d workers; carries: %@",
                   pbs, batched, batchInputs.count, key.shortint.workerCount, "\(plan)"))
        var results: [Result] = []
        var rng = SystemRandomNumberGenerator()
        for width in widths {
            let operands = try IntegerOperation.Operands(client: client, width: width, using: &rng)
            for op in operations {
                guard let operation = IntegerOperation(rawValue: op) else { continue }
                let body = { try operation.run(key, operands) }
                var latencies: [Double] = []
                var count = 0
                for _ in 0..<iterations {
                    let before = key.bootstrapCount
                    let start = DispatchTime.now().uptimeNanoseconds
                    try body()
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    count = key.bootstrapCount - before
                }
                latencies.sort()
                let ms = latencies[latencies.count / 2]
                let ideal = Double(count) * pbs / Double(key.shortint.workerCount)
                let result = Result(operation: op, width: width, milliseconds: ms, bootstraps: count,
                                    idealMilliseconds: ideal, efficiency: ms > 0 ? ideal / ms : 0, iterations: iterations)
                log("  FheUint\(width)".padding(toLength: 12, withPad: " ", startingAt: 0)
                    + op.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(format: "%10.1f ms  %6d PBS  ideal %9.1f ms  efficiency %5.1f%%", ms, count, ideal, 100 * result.efficiency))
                results.append(result)
            }
        }
        return Report(parameters: parameters.name, workers: key.shortint.workerCount, batchSize: batchSize,
                      singleThreadKSPBSMilliseconds: pbs, results: results)
    }
}

