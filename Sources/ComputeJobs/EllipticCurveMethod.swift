import CGMP

/// Finds a factor of a composite with GMP-ECM's `ecm_factor`, one elliptic curve per call, at
/// increasing stage-1 bounds.
///
/// GMP-ECM is thread-safe since 7.0 as long as each thread has its own `ecm_params` (NEWS,
/// "Changes between GMP-ECM 6.4.4 and GMP-ECM 7.0"), so each search owns one.
final class EllipticCurveMethod {
    /// One step of the schedule: `curves` curves with stage-1 bound `b1`.
    struct Level: Sendable {
        /// The factor size, in decimal digits, that the level is tuned for.
        let digits: Int
        let b1: Double
        let curves: Int
    }

    /// The levels, from small factors to large. From 20 digits on these are GMP-ECM's Table 1
    /// (README, "optimal B1 and expected number of curves to find a factor of D digits"): after
    /// the expected number of curves a factor of that size has been missed with probability
    /// e^-1. The first level is below the table: 25 curves with B1 = 2000 cost little and
    /// remove factors of up to about 15 digits before the larger bounds are tried. The last
    /// level repeats until a factor turns up or the task is cancelled.
    static let schedule: [Level] = [
        Level(digits: 15, b1: 2e3, curves: 25),
        Level(digits: 20, b1: 11e3, curves: 74),
        Level(digits: 25, b1: 5e4, curves: 214),
        Level(digits: 30, b1: 25e4, curves: 430),
        Level(digits: 35, b1: 1e6, curves: 904),
        Level(digits: 40, b1: 3e6, curves: 2350),
        Level(digits: 45, b1: 11e6, curves: 4480),
        Level(digits: 50, b1: 43e6, curves: 7553),
        Level(digits: 55, b1: 11e7, curves: 17769),
        Level(digits: 60, b1: 26e7, curves: 42017),
        Level(digits: 65, b1: 85e7, curves: 69408),
    ]

    struct Failure: Error, CustomStringConvertible {
        let number: String
        let b1: Double
        var description: String { "GMP-ECM reported an error on \(number) with B1=\(b1)" }
    }

    /// Bytes of memory that stage 2 of one curve may use.
    static let stage2MemoryLimit: Double = 256 * 1024 * 1024

    private let parameters: UnsafeMutablePointer<__ecm_param_struct>

    init() {
        parameters = .allocate(capacity: 1)
        ecm_init(parameters)
        // Suyama's parametrisation rather than the default batch mode (param 1 on 64-bit
        // machines): batch-mode stage 1 does not poll stop_asap, so on this machine a curve
        // with B1 = 11e6 on a 100-digit number ignored a stop request after 0.2 s and ran its
        // full 5.6 s. With Suyama's curves both stages poll it and stop within milliseconds,
        // for about 20% more time per curve.
        parameters.pointee.param = ECM_PARAM_SUYAMA
        // README.lib: "if the function returns zero, continue normally, otherwise exit as soon
        // as possible". A C function pointer cannot capture anything, but it needs nothing:
        // ecm_factor runs synchronously inside the calling task, whose cancellation flag
        // Task.isCancelled reads from the current thread.
        parameters.pointee.stop_asap = { Task.isCancelled ? 1 : 0 }
        // Stage 2's memory grows with B1 and is unbounded by default (README.lib, "maxmem"): one
        // curve with B1 = 11e6 on a 100-digit number peaked at 128 MB here, and the levels after
        // it go higher. With a cap GMP-ECM plans a stage 2 that fits (a 64 MiB cap cost no time
        // at B1 = 11e6), so concurrent jobs cannot exhaust a worker's memory.
        parameters.pointee.maxmem = Self.stage2MemoryLimit
    }

    deinit {
        ecm_clear(parameters)
        parameters.deallocate()
    }

    /// A proper factor of `n` (1 < factor < n, not necessarily prime), and the index of the
    /// level that found it. `n` must be odd, composite and not a perfect power. Starts at level
    /// `firstLevel`: the cofactors of a split were already searched at the levels before it,
    /// so they need not be searched again (README, "simply continue the current step with the
    /// remaining cofactor").
    ///
    /// Runs until a factor turns up; throws `CancellationError` once the task is cancelled.
    func findFactor(of n: GMPInteger, firstLevel: Int = 0) throws -> (factor: GMPInteger, level: Int) {
        let factor = GMPInteger()
        var levelIndex = firstLevel
        while true {
            let level = Self.schedule[min(levelIndex, Self.schedule.count - 1)]
            for _ in 0..<level.curves {
                try Task.checkCancellation()
                // A fresh random curve: ecm_reset (declared in ecm.h; in 7.0.5 it resets these
                // three fields) clears sigma, so ecm_factor draws a new one from the parameters'
                // random state, and the starting point and B1done, which ecm_factor leaves set
                // for resuming the last curve.
                ecm_reset(parameters)
                let status = ecm_factor(factor.pointer, n.pointer, level.b1, parameters)
                // A curve cut short by stop_asap reports "no factor found".
                try Task.checkCancellation()
                if status < 0 { throw Failure(number: n.decimalString, b1: level.b1) }
                // A curve may find every prime factor of n at once and return n itself.
                if status > 0, factor > 1, factor < n { return (factor, levelIndex) }
            }
            levelIndex += 1
        }
    }
}
