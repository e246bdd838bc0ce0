import Foundation
import Jobs
import TFHE

/// The seconds one bootstrap takes on one core of this machine, for quotes' predictions.
///
/// Measured once per process on first use, with a throwaway key of the service's parameter
/// set: a batch of bootstraps on one thread, in the batched form the engine's integer
/// operations use (`BootstrapPool`, batch of 8). A configured figure
/// (`--fhe-seconds-per-bootstrap`, for API processes on other machines than the workers)
/// replaces the measurement. Each finished job refines it: the quote of the next job uses
/// what jobs on this process really took.
actor BootstrapCalibration {
    private var measured: Double?
    private var pending: Task<Double, Never>?
    private let fixed: Double?

    init(fixed: Double?) { self.fixed = fixed }

    func seconds(parameters: ParameterSet) async -> Double {
        if let fixed { return fixed }
        if let measured { return measured }
        if let pending { return await pending.value }
        let task = Task<Double, Never> {
            (try? await FHEThreads.run { try Self.measure(parameters) }) ?? 0.01
        }
        pending = task
        let value = await task.value
        if measured == nil { measured = value }
        return measured ?? value
    }

    /// A job took `seconds` for `bootstraps` on `cores`: its per-core cost, averaged in.
    func observe(seconds: Double, bootstraps: Int, cores: Int) {
        guard fixed == nil, bootstraps >= 64, seconds > 0 else { return }
        let perCore = seconds * Double(max(1, cores)) / Double(bootstraps)
        measured = measured.map { 0.7 * $0 + 0.3 * perCore } ?? perCore
    }

    private static func measure(_ parameters: ParameterSet) throws -> Double {
        let client = try ClientKey<UInt64>(parameters: parameters, seed: .random())
        let pool = BootstrapPool(serverKey: ServerKey(clientKey: client, seed: .random()), workerCount: 1)
        let table = pool.serverKey.lookupTable { $0 }
        let inputs = try (0..<16).map { _ in try client.encrypt(0) }
        let tables = Array(repeating: table, count: inputs.count)
        _ = try pool.bootstrap(Array(inputs.prefix(8)), tables: Array(tables.prefix(8)))   // warm caches and scratch
        let start = ContinuousClock.now
        _ = try pool.bootstrap(inputs, tables: tables)
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.seconds
        return seconds / Double(inputs.count)
    }
}
