import Foundation

/// The distribution of the error term of an LWE or GLWE encryption.
public enum NoiseDistribution: Sendable, Hashable {
    /// Rounded continuous Gaussian with standard deviation `standardDeviation`, given as a
    /// fraction of the torus (TFHE-rs's `StandardDev`).
    case gaussian(standardDeviation: Double)
    /// TUniform(2^b): integers in [-2^b, 2^b], each with probability 2^-(b+1) except the two
    /// ends, which have 2^-(b+2) (TFHE-rs's `TUniform`, from the 2023 "TFHE-rs noise and
    /// security" handbook). Bounded, so failure analysis needs no tail assumption.
    case tUniform(boundLog2: Int)

    /// Variance of the error, in squared torus units, for a torus of `bitWidth` bits.
    public func variance(bitWidth: Int) -> Double {
        switch self {
        case .gaussian(let sigma):
            return sigma * sigma
        case .tUniform(let b):
            // Var = (2^{2b+1} + 1) / 6 in integer units.
            let q = pow(2.0, Double(bitWidth))
            return (pow(2.0, Double(2 * b + 1)) + 1) / 6 / (q * q)
        }
    }
}

extension AESCTRGenerator {
    /// A uniform element of the torus.
    @inline(__always)
    public mutating func uniformTorus<T: TorusScalar>(_: T.Type = T.self) -> T {
        T(truncatingIfNeeded: next())
    }

    /// A uniform bit, for binary secret keys.
    @inline(__always)
    public mutating func uniformBit<T: TorusScalar>(_: T.Type = T.self) -> T {
        T(truncatingIfNeeded: next() & 1)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    @inline(__always)
    mutating func unitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal sample by the Box–Muller transform (two uniforms in, one normal out;
    /// 1 - u keeps the logarithm's argument in (0, 1]).
    @inline(__always)
    mutating func standardNormal() -> Double {
        let u1 = 1 - unitInterval(), u2 = unitInterval()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// An error sample of the given distribution, as a torus element.
    @inline(__always)
    public mutating func noise<T: TorusScalar>(_ distribution: NoiseDistribution, _: T.Type = T.self) -> T {
        switch distribution {
        case .gaussian(let sigma):
            return T(torus: standardNormal() * sigma)
        case .tUniform(let b):
            // For u uniform in [0, 2^{b+2}), (u >> 1) + (u & 1) takes the values 0 and 2^{b+1}
            // once each and every value between twice: minus 2^b, that is TUniform(2^b).
            let u = next() & ((UInt64(1) << (b + 2)) &- 1)
            let value = Int64((u >> 1) + (u & 1)) - (Int64(1) << b)
            return T(truncatingIfNeeded: UInt64(bitPattern: value))
        }
    }
}
