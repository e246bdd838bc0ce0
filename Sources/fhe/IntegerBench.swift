import Foundation
import TFHE

/// `fhe bench --operations add,mul,eq,gt,div --width 8,16`: latency and bootstrap count of
/// radix integer operations on all cores, beside the single-thread KS+PBS time of the same
/// run, from which the parallel efficiency follows:
/// efficiency = bootstraps × (single-thread KS+PBS) / (workers × latency).
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
            let blocks = width / 2
            let mask: UInt64 = width == 64 ? .max : (1 << width) - 1
            let a = try client.encryptRadix(rng.next() & mask, blockCount: blocks)
            let b = try client.encryptRadix((rng.next() & mask) | 1, blockCount: blocks)
            let amount = try client.encryptRadix(rng.next() & mask, blockCount: blocks)
            var randomness = EncryptionRandomness()
            let condition = try client.encryptBooleanBlock(true, randomness: &randomness)
            let clear = (rng.next() & mask) | 3
            for op in operations {
                let body: () throws -> Void
                switch op {
                case "add": body = { _ = try key.add(a, b) }
                case "sub": body = { _ = try key.sub(a, b) }
                case "neg": body = { _ = try key.neg(a) }
                case "mul": body = { _ = try key.mul(a, b) }
                case "scalar-add": body = { _ = try key.scalarAdd(a, clear) }
                case "scalar-mul": body = { _ = try key.scalarMul(a, clear) }
                case "eq": body = { _ = try key.eq(a, b) }
                case "ne": body = { _ = try key.ne(a, b) }
                case "gt": body = { _ = try key.gt(a, b) }
                case "lt": body = { _ = try key.lt(a, b) }
                case "ge": body = { _ = try key.ge(a, b) }
                case "scalar-gt": body = { _ = try key.scalarGt(a, clear) }
                case "min": body = { _ = try key.min(a, b) }
                case "max": body = { _ = try key.max(a, b) }
                case "select": body = { _ = try key.select(condition, a, b) }
                case "and": body = { _ = try key.bitAnd(a, b) }
                case "or": body = { _ = try key.bitOr(a, b) }
                case "xor": body = { _ = try key.bitXor(a, b) }
                case "not": body = { _ = try key.bitNot(a) }
                case "shl": body = { _ = try key.shiftLeft(a, by: amount) }
                case "shl-clear": body = { _ = try key.shiftLeft(a, by: 3) }
                case "rotl": body = { _ = try key.rotateLeft(a, by: amount) }
                case "div": body = { _ = try key.div(a, b) }
                case "rem": body = { _ = try key.rem(a, b) }
                case "scalar-div": body = { _ = try key.scalarDiv(a, clear) }
                case "overflowing-add": body = { _ = try key.overflowingAdd(a, b) }
                case "cast-up": body = { _ = try key.cast(a, toBlockCount: blocks * 2) }
                default: continue
                }
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

