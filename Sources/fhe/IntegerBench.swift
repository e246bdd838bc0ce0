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
    static let operations = ["add", "sub", "neg", "mul", "scalar-add", "scalar-mul", "eq", "ne", "gt", "lt", "ge",
                             "scalar-gt", "min", "max", "select", "and", "or", "xor", "not", "shl", "shl-clear",
                             "rotl", "div", "rem", "scalar-div", "overflowing-add", "cast-up"]

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

    /// The operands of one width: two values, a shift amount, a condition and a clear constant.
    struct Operands {
        let blocks: Int
        let a, b, amount: RadixCiphertext<UInt64>
        let condition: ShortintCiphertext<UInt64>
        let clear: UInt64

        init(client: ClientKey<UInt64>, width: Int, using rng: inout some RandomNumberGenerator) throws {
            blocks = width / 2
            let mask: UInt64 = width == 64 ? .max : (1 << width) - 1
            a = try client.encryptRadix(rng.next() & mask, blockCount: blocks)
            b = try client.encryptRadix((rng.next() & mask) | 1, blockCount: blocks)
            amount = try client.encryptRadix(rng.next() & mask, blockCount: blocks)
            var randomness = EncryptionRandomness()
            condition = try client.encryptBooleanBlock(true, randomness: &randomness)
            clear = (rng.next() & mask) | 3
        }
    }

    /// Operation `op` on the operands, through `key`.
    static func operation(_ op: String, key: IntegerServerKey<UInt64>, _ x: Operands) -> (() throws -> Void)? {
        let (a, b) = (x.a, x.b)
        switch op {
        case "add": return { _ = try key.add(a, b) }
        case "sub": return { _ = try key.sub(a, b) }
        case "neg": return { _ = try key.neg(a) }
        case "mul": return { _ = try key.mul(a, b) }
        case "scalar-add": return { _ = try key.scalarAdd(a, x.clear) }
        case "scalar-mul": return { _ = try key.scalarMul(a, x.clear) }
        case "eq": return { _ = try key.eq(a, b) }
        case "ne": return { _ = try key.ne(a, b) }
        case "gt": return { _ = try key.gt(a, b) }
        case "lt": return { _ = try key.lt(a, b) }
        case "ge": return { _ = try key.ge(a, b) }
        case "scalar-gt": return { _ = try key.scalarGt(a, x.clear) }
        case "min": return { _ = try key.min(a, b) }
        case "max": return { _ = try key.max(a, b) }
        case "select": return { _ = try key.select(x.condition, a, b) }
        case "and": return { _ = try key.bitAnd(a, b) }
        case "or": return { _ = try key.bitOr(a, b) }
        case "xor": return { _ = try key.bitXor(a, b) }
        case "not": return { _ = try key.bitNot(a) }
        case "shl": return { _ = try key.shiftLeft(a, by: x.amount) }
        case "shl-clear": return { _ = try key.shiftLeft(a, by: 3) }
        case "rotl": return { _ = try key.rotateLeft(a, by: x.amount) }
        case "div": return { _ = try key.div(a, b) }
        case "rem": return { _ = try key.rem(a, b) }
        case "scalar-div": return { _ = try key.scalarDiv(a, x.clear) }
        case "overflowing-add": return { _ = try key.overflowingAdd(a, b) }
        case "cast-up": return { _ = try key.cast(a, toBlockCount: x.blocks * 2) }
        default: return nil
        }
    }

    /// Bootstraps and depth of each operation at each width, without cryptography (the inputs
    /// are real encryptions, the key counts). The clear constants come from a fixed seed, so
    /// the figures are the same on every run.
    static func count(_ operations: [String], widths: [Int], parameters: ParameterSet) throws -> CountReport {
        let client = try ClientKey<UInt64>(parameters: parameters)
        let layers = Mutex<Int>(0)
        let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: parameters).observing { _ in layers.withLock { $0 += 1 } }
        var rng = AESCTRGenerator(seed: Seed(high: 0xb007, low: 0x5742))
        var counts: [Count] = []
        for width in widths {
            let operands = try Operands(client: client, width: width, using: &rng)
            for op in operations {
                guard let body = operation(op, key: key, operands) else { continue }
                let before = key.bootstrapCount
                layers.withLock { $0 = 0 }
                try body()
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

    func run(_ operations: [String], widths: [Int], log: (String) -> Void) throws -> Report {
        let client = try ClientKey<UInt64>(parameters: parameters)
        let server = ServerKey(clientKey: client)
        let batchSize = self.batchSize ?? server.preferredBatchSize()
        let key = try IntegerServerKey(serverKey: server, workerCount: workers, batchSize: batchSize)
        // Single-thread KS+PBS, median of 20.
        let scratch = server.makeScratch()
        let input = try client.encrypt(1)
        let table = server.lookupTable { $0 }
        var output = LWECiphertext<UInt64>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        var times: [Double] = []
        for _ in 0..<21 {
            let start = DispatchTime.now().uptimeNanoseconds
            try server.programmableBootstrap(input, table: table, scratch: scratch, into: &output)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.removeFirst()
        times.sort()
        let pbs = times[times.count / 2]
        log(String(format: "single-thread KS+PBS: %.3f ms; %d workers", pbs, key.shortint.workerCount))
        var results: [Result] = []
        var rng = SystemRandomNumberGenerator()
        for width in widths {
            let operands = try Operands(client: client, width: width, using: &rng)
            for op in operations {
                guard let body = Self.operation(op, key: key, operands) else { continue }
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

