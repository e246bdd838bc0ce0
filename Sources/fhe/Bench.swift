import ArgumentParser
import Foundation
import TFHE

/// `--carry-propagation`: how integer additions resolve their carries (`CarryPropagation`).
enum CarryPlanOption: String, ExpressibleByArgument, CaseIterable {
    case ripple, prefix, fastest

    /// What `fastest` assumes when nothing is timed (`--count-only`, the report's counts).
    static let assumedSingleToBatchedCost = 1.1

    /// `fastest` weighs the workers and how much dearer one bootstrap alone is than one in a batch.
    func plan(workers: Int, singleToBatchedCost: Double) -> CarryPropagation {
        switch self {
        case .ripple: .ripple
        case .prefix: .parallelPrefix
        case .fastest: .fastest(workers: workers, singleToBatchedCost: singleToBatchedCost)
        }
    }
}

/// `fhe bench`: milliseconds per operation of the engine, single-threaded, on any parameter set.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the engine's operations (single thread) on a parameter set.")

    @Option(help: "A parameter file or the name of one in the parameter folder.")
    var params: String = ParameterLocation.defaultName

    @Option(help: "Timed repetitions of each operation (the median is reported).")
    var iterations: Int = 20

    @Option(help: "Comma-separated operations: fft, external-product, external-product-hot (one GGSW, in cache), blind-rotation, key-switch, ks+pbs (each also as NAME-cold: caches evicted before each run, keys from memory), ks+pbs-batch, gate, gate-batch, keygen; or integer operations (add, sub, neg, mul, scalar-add, scalar-mul, eq, ne, gt, lt, ge, scalar-gt, min, max, select, and, or, xor, not, shl, shl-clear, rotl, div, rem, scalar-div, overflowing-add, cast-up), timed on all cores at each --width.")
    var operations: String = "fft,external-product,blind-rotation,key-switch,ks+pbs,ks+pbs-batch,gate,gate-batch,keygen"

    @Option(help: "Bit widths of the integer operations (8, 16, 32, 64).")
    var width: String = "8,16"

    @Option(help: "Timed repetitions of each integer operation (the median is reported).")
    var integerIterations: Int = 3

    @Option(help: "Workers of the integer operations (default: all cores).")
    var workers: Int?

    @Option(help: "Bootstraps per pass over the key within a worker, for integer operations (1: one at a time; default: as many as fit the core's cache, ServerKey.preferredBatchSize).")
    var integerBatch: Int?

    @Option(help: "Carries of integer additions: ripple (one many-LUT bootstrap per block, the default), prefix (grouped carry lookahead, logarithmic depth), or fastest (the cost model's choice for the workers and the measured cost of a bootstrap alone against one in a batch; with --count-only, a bootstrap alone counted as 1.1 batched ones).")
    var carryPropagation: CarryPlanOption = .ripple

    @Option(help: "Batch size for the 'ks+pbs batch' and 'gate batch' figures (bootstraps sharing one pass over the key; default: as many as fit the core's cache, ServerKey.preferredBatchSize).")
    var batch: Int?

    @Option(help: "Write a report into this folder: report.md with SVG charts and report.json, the engine against the peers (--peers-script) over --runs runs and the integer operations of --params at each --width (the integer ones in --operations timed; default add,mul,eq,gt,shl), with the machine, the commit and the command.")
    var report: String?

    @Option(help: "Runs of the report's engine and peer figures (median and spread).")
    var runs: Int = 3

    @Option(help: "The report's peers script, printing one JSON object per peer (default ../shared/bench/peers.sh beside the repository; 'none' to skip the peers).")
    var peersScript: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "For the integer operations: count each one's bootstraps and depth with a metadata-only key (no cryptography, no timing).")
    var countOnly = false

    struct Result: Codable {
        let operation: String
        let milliseconds: Double
        let iterations: Int
    }

    struct Report: Codable {
        let parameters: String
        let bootstrappingKeyBytes: Int
        let keySwitchingKeyBytes: Int
        /// The engine's vector kernels (`EngineKernels.description`).
        let kernels: String
        /// The caches the batch size was chosen from (`CacheSizes.current`).
        let caches: String
        /// The batch of the batched figures.
        let batch: Int
        let results: [Result]
    }

    func validate() throws {
        guard (1...100_000).contains(iterations) else { throw ValidationError("--iterations must be in 1...100000") }
        if let batch, !(1...1024).contains(batch) { throw ValidationError("--batch must be in 1...1024") }
        let known = Set(BenchRunner<UInt64>.allOperations + IntegerBenchRunner.operations)
        for op in operations.split(separator: ",") where !known.contains(String(op)) {
            throw ValidationError("unknown operation '\(op)' (known: \((BenchRunner<UInt64>.allOperations + IntegerBenchRunner.operations).joined(separator: ", ")))")
        }
        for w in width.split(separator: ",") where !["8", "16", "32", "64"].contains(String(w)) {
            throw ValidationError("--width takes 8, 16, 32 or 64, not '\(w)'")
        }
        if countOnly && !operations.split(separator: ",").allSatisfy({ IntegerBenchRunner.operations.contains(String($0)) }) {
            throw ValidationError("--count-only counts integer operations only (\(IntegerBenchRunner.operations.joined(separator: ", ")))")
        }
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be in 1...20") }
        guard (1...1000).contains(integerIterations) else { throw ValidationError("--integer-iterations must be in 1...1000") }
        if let workers, !(1...1024).contains(workers) { throw ValidationError("--workers must be in 1...1024") }
        if let integerBatch, !(1...64).contains(integerBatch) { throw ValidationError("--integer-batch must be in 1...64") }
    }

    func run() throws {
        // Benchmarks of the algorithm may use the insecure test sets.
        let set = try loadParameters(params, allowInsecure: true)
        let allOps = operations.split(separator: ",").map(String.init)
        let integerOps = allOps.filter { IntegerBenchRunner.operations.contains($0) }
        let ops = allOps.filter { !IntegerBenchRunner.operations.contains($0) }
        if let report {
            guard set.torusBits == 64, set.messageBits == 2, set.carryBits >= 2 else {
                throw CLIError("--report times integer operations on --params, which must be a 64-bit message_2_carry_2 set; \(set.name) is not one")
            }
            let script = peersScript ?? "../shared/bench/peers.sh"
            let runner = BenchReportRunner(
                directory: URL(fileURLWithPath: report), runs: runs, iterations: iterations,
                peersScript: script == "none" ? nil : script, integerParameters: set,
                integerWidths: width.split(separator: ",").compactMap { Int($0) },
                timedIntegerOperations: integerOps.isEmpty ? ["add", "mul", "eq", "gt", "shl"] : integerOps,
                carryPropagation: carryPropagation, command: (["fhe"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
            try runner.run(log: { print($0) })
            return
        }
        if !integerOps.isEmpty {
            guard set.torusBits == 64, set.messageBits == 2, set.carryBits >= 2 else {
                throw CLIError("integer operations need a 64-bit message_2_carry_2 parameter set; \(set.name) is not one")
            }
            if countOnly {
                let plan = carryPropagation.plan(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
                                                 singleToBatchedCost: CarryPlanOption.assumedSingleToBatchedCost)
                let report = try IntegerBenchRunner.count(integerOps, widths: width.split(separator: ",").compactMap { Int($0) },
                                                          parameters: set, carryPropagation: plan)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(report), as: UTF8.self))
                } else {
                    print("\(set.name): bootstraps and depth, counted without cryptography")
                    for c in report.counts {
                        print("  FheUint\(c.width)".padding(toLength: 12, withPad: " ", startingAt: 0)
                              + c.operation.padding(toLength: 16, withPad: " ", startingAt: 0)
                              + String(format: "%6d PBS  depth %4d", c.bootstraps, c.depth))
                    }
                }
                return
            }
            if !json { print(set.name) }
            let runner = IntegerBenchRunner(parameters: set, iterations: integerIterations, workers: workers, batchSize: integerBatch,
                                            carryPropagation: carryPropagation)
            let report = try runner.run(integerOps, widths: width.split(separator: ",").compactMap { Int($0) },
                                        log: { if !json { print($0) } })
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            }
            if ops.isEmpty { return }
        }
        let report: Report
        if set.torusBits == 32 {
            report = try BenchRunner<UInt32>(parameters: set, iterations: iterations, batch: batch).run(ops)
        } else {
            report = try BenchRunner<UInt64>(parameters: set, iterations: iterations, batch: batch).run(ops)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("\(report.parameters)  (bootstrapping key \(report.bootstrappingKeyBytes / 1_000_000) MB, key-switching key \(report.keySwitchingKeyBytes / 1_000_000) MB)")
            print("  kernels: \(report.kernels)")
            print("  caches: \(report.caches); batch of \(report.batch)")
            let column = max(18, report.results.map(\.operation.count).max() ?? 0)
            for r in report.results {
                // Below 0.1 ms (the transforms), in µs with three decimals.
                let figure = r.milliseconds < 0.1 ? String(format: "%10.3f µs", r.milliseconds * 1000) : String(format: "%10.4f ms", r.milliseconds)
                print("  \(r.operation.padding(toLength: column, withPad: " ", startingAt: 0)) \(figure)   (median of \(r.iterations))")
            }
        }
    }
}

struct BenchRunner<T: TorusScalar> {
    static var allOperations: [String] {
        ["fft", "external-product", "external-product-hot", "blind-rotation", "blind-rotation-cold", "key-switch", "key-switch-cold", "ks+pbs", "ks+pbs-cold", "ks+pbs-batch", "gate", "gate-batch", "keygen"]
    }
    let parameters: ParameterSet
    let iterations: Int
    /// nil: the size that fits the core's cache (`ServerKey.preferredBatchSize`).
    let batch: Int?

    func median(evictingCaches: Bool = false, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm-up
        var times: [Double] = []
        for _ in 0..<iterations {
            if evictingCaches { CacheEvictor.shared.evict() }
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// The key switch a bootstrap runs: to 32-bit words on a KS32 set (not the lifted copy
    /// that `ServerKey.keySwitch` returns there).
    private func keySwitchAlone(_ server: ServerKey<T>, _ big: LWECiphertext<T>) throws {
        if parameters.usesKeySwitch32 { _ = try server.keySwitch32(big) } else { _ = try server.keySwitch(big) }
    }

    func run(_ operations: [String]) throws -> Bench.Report {
        let client = try ClientKey<T>(parameters: parameters)
        let keygenStart = DispatchTime.now().uptimeNanoseconds
        let server = ServerKey(clientKey: client)
        let keygenMs = Double(DispatchTime.now().uptimeNanoseconds - keygenStart) / 1e6
        let batch = self.batch ?? server.preferredBatchSize()
        let scratch = server.makeScratch()
        var results: [Bench.Result] = []
        let input = try client.encrypt(1 % client.plaintextModulus)
        let table = server.lookupTable { $0 }
        var output = LWECiphertext<T>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        var big = LWECiphertext<T>(dimension: parameters.bigLWEDimension, parameterFingerprint: parameters.fingerprint)
        let small = parameters.order == .keySwitchThenBootstrap ? try server.keySwitch(input) : input
        try server.blindRotateAndExtract(small, table: table, scratch: scratch, into: &big)
        for op in operations {
            let ms: Double
            switch op {
            case "fft":
                let fft = NegacyclicFFT(polynomialSize: parameters.polynomialSize)
                let n = parameters.polynomialSize
                // 64-byte aligned, as the engine's own buffers are (an AVX-512 load from an
                // array's 16-byte aligned storage straddles two cache lines).
                let coefficients = AlignedBuffer<Double>([Double](repeating: 1.5, count: n))
                let fourier = AlignedBuffer<Double>(count: n), back = AlignedBuffer<Double>(count: n)
                ms = median {
                    for _ in 0..<100 {
                        fft.forward(UnsafePointer(coefficients.pointer), re: fourier.pointer, im: fourier.pointer + n / 2)
                        fft.inverse(re: fourier.pointer, im: fourier.pointer + n / 2, into: back.pointer)
                    }
                } / 100
                withExtendedLifetime((coefficients, fourier, back)) {}
                results.append(.init(operation: "fft forward+inverse (N=\(n))", milliseconds: ms, iterations: iterations))
                // The cyclic complex FFT of M = N/2 points alone (no twist), in place, as
                // FFTW's plans of M points that scripts/fft-floor times: each pair multiplies
                // by M, so the values start near 1e-150 and are reset every 30 pairs.
                let m = n / 2
                var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
                let source = AlignedBuffer<Double>((0..<n).map { _ in
                    seed = seed &* 6364136223846793005 &+ 1442695040888963407
                    return (Double(seed >> 11) / Double(1 << 53) - 0.5) * 1e-150
                })
                let points = AlignedBuffer<Double>(count: n)
                let pairs = median {
                    points.pointer.update(from: source.pointer, count: n)
                    for _ in 0..<30 {
                        fft.complexForward(re: points.pointer, im: points.pointer + m)
                        fft.complexInverse(re: points.pointer, im: points.pointer + m)
                    }
                } / 30
                withExtendedLifetime((source, points)) {}
                results.append(.init(operation: "complex fft forward+inverse (M=\(m))", milliseconds: pairs, iterations: iterations))
                continue
            case "external-product":
                let steps = min(100, parameters.lweDimension)
                ms = try median { for i in 0..<steps { try server.cmux(keyIndex: i, rotation: 1 + i, scratch: scratch) } } / Double(steps)
            case "external-product-hot":
                // One GGSW again and again: the key in L1/L2, so the arithmetic alone.
                ms = try median { for _ in 0..<100 { try server.cmux(keyIndex: 0, rotation: 1, scratch: scratch) } } / 100
            case "blind-rotation":
                ms = try median { try server.blindRotateAndExtract(small, table: table, scratch: scratch, into: &big) }
            case "blind-rotation-cold":
                ms = try median(evictingCaches: true) { try server.blindRotateAndExtract(small, table: table, scratch: scratch, into: &big) }
            case "key-switch":
                ms = try median { try keySwitchAlone(server, big) }
            case "key-switch-cold":
                ms = try median(evictingCaches: true) { try keySwitchAlone(server, big) }
            case "ks+pbs":
                ms = try median { try server.programmableBootstrap(input, table: table, scratch: scratch, into: &output) }
            case "ks+pbs-cold":
                ms = try median(evictingCaches: true) { try server.programmableBootstrap(input, table: table, scratch: scratch, into: &output) }
            case "ks+pbs-batch":
                // Per bootstrap, in batches sharing one pass over the bootstrapping key.
                let inputs = (0..<batch).map { _ in input }
                var outputs = [LWECiphertext<T>](repeating: output, count: batch)
                let scratches = server.makeBatchScratch(capacity: batch)
                ms = try median {
                    try server.programmableBootstrap(batch: inputs, tables: [table], scratches: scratches, into: &outputs)
                } / Double(batch)
                results.append(.init(operation: "ks+pbs per op, batch \(batch)", milliseconds: ms, iterations: iterations))
                continue
            case "gate":
                // Into a reused output, as a circuit evaluated gate by gate would (no allocation).
                let a = client.encrypt(true), b = client.encrypt(false)
                var gateOutput = LWECiphertext<T>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
                ms = try median { try server.evaluate(.nand, a, b, scratch: scratch, into: &gateOutput) }
            case "gate-batch":
                // Per gate, NAND over `batch` pairs in one pass over the keys.
                let pairs = (0..<batch).map { _ in (client.encrypt(true), client.encrypt(false)) }
                let scratches = server.makeBatchScratch(capacity: batch)
                ms = try median { _ = try server.evaluate(.nand, pairs: pairs, scratches: scratches) } / Double(batch)
                results.append(.init(operation: "gate per op, batch \(batch)", milliseconds: ms, iterations: iterations))
                continue
            case "keygen":
                ms = keygenMs
                results.append(.init(operation: "keygen (server key)", milliseconds: ms, iterations: 1))
                continue
            default:
                continue
            }
            results.append(.init(operation: op, milliseconds: ms, iterations: iterations))
        }
        return Bench.Report(parameters: parameters.name, bootstrappingKeyBytes: server.bootstrappingKey.byteCount,
                            keySwitchingKeyBytes: server.keySwitchingKey.byteCount,
                            kernels: EngineKernels.description, caches: CacheSizes.current.description, batch: batch,
                            results: results)
    }
}

/// Writes through a buffer larger than any last-level cache before a "-cold" operation's timed
/// run, so that its keys come from memory, as in a server that holds more keys than its caches.
final class CacheEvictor: @unchecked Sendable {
    static let shared = CacheEvictor()
    private let buffer: UnsafeMutablePointer<UInt64>
    private let count: Int

    private init() {
        // Twice the reported last-level cache, and at least 256 MB.
        count = max(256 << 20, 2 * max(CacheSizes.current.l2, CacheSizes.current.l3)) / 8
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 1, count: count)
    }

    func evict() {
        var i = 0
        while i < count { buffer[i] &+= 1; i &+= 8 }
    }
}
