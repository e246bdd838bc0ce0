import Foundation
@testable import TFHE

/// The repository, the programs built beside the tests, and running one of them.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// An executable of this package, built beside the test bundle (scripts/test builds them).
    static func built(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Runs `executable` to its end: its exit status, standard output and standard error. For
    /// programs that print little: the two pipes are read one after the other.
    /// `environment` is added to this process's own.
    static func run(_ executable: URL, _ arguments: [String] = [], in directory: URL? = nil,
                    environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
}

/// Parameter sets of the repository's params/ folder.
enum TestParameters {
    static let folder = TestPaths.repository.appendingPathComponent("params")

    static func load(_ name: String) throws -> ParameterSet {
        try ParameterSet.load(contentsOf: folder.appendingPathComponent(name + ".json"), allowInsecure: true)
    }

    static let insecure64 = "insecure_test_64"
    static let insecure32 = "insecure_test_32"
    static let secure64 = [
        "tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128",
        "tfhe-rs_message_2_carry_2_ks_pbs_gaussian_2m128",
        "tfhe-rs_v0_11_message_2_carry_2_ks_pbs_gaussian_2m64",
        "concrete_4bit_n807_k2_n1024",
        "tfhe-rs_multi_bit_group_3_message_2_carry_2_ks_pbs_tuniform_2m128",
        "tfhe-rs_multi_bit_group_4_message_2_carry_2_ks_pbs_tuniform_2m128",
        "tfhe-go_params_uint4",
    ]
    static let secure32 = ["tfhe-rs_boolean_default", "tfhe-go_params_binary"]
    /// The secure KS32 sets (64-bit torus, small LWE on 2^32): apart from `secure64`, whose
    /// files must note the 32-bit storage of a 64-bit key switch.
    static let secureKS32 = ["tfhe-rs_message_2_carry_2_ks32_pbs_tuniform_2m128"]
    /// The sets kept to compare with another library on its own parameters, which production
    /// keys refuse.
    static let benchmarkOnly = ["concrete_4bit_n807_k2_n1024", "tfhe-go_params_uint4", "tfhe-go_params_binary"]
}

/// A deterministic generator for test inputs (not for keys).
struct TestGenerator: RandomNumberGenerator {
    var inner: AESCTRGenerator
    init(_ seed: UInt64) { inner = AESCTRGenerator(seed: Seed(high: 0x7e57, low: seed)) }
    mutating func next() -> UInt64 { inner.next() }
}

extension BinarySecretKey {
    /// Whether two keys hold the same coefficients, compared in place (no copy of either).
    func hasSameCoefficients(as other: BinarySecretKey) -> Bool {
        withCoefficients { a in other.withCoefficients { b in a.elementsEqual(b) } }
    }
}

/// The negacyclic product a·b by the engine's FFT path: both forward, Fourier-domain
/// multiply-accumulate, inverse with rounding back to the torus.
func fftProduct(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
    let n = a.count, m = n / 2
    let fft = NegacyclicFFT(polynomialSize: n)
    let aF = AlignedBuffer<Double>(count: n), bF = AlignedBuffer<Double>(count: n), acc = AlignedBuffer<Double>(count: n)
    let real = AlignedBuffer<Double>(count: n)
    a.withUnsafeBufferPointer { fft.forward(torus: $0.baseAddress!, scratch: real.pointer, re: aF.pointer, im: aF.pointer + m) }
    b.withUnsafeBufferPointer { fft.forward(torus: $0.baseAddress!, scratch: real.pointer, re: bF.pointer, im: bF.pointer + m) }
    NegacyclicFFT.multiplyAdd(accRe: acc.pointer, accIm: acc.pointer + m, aRe: aF.pointer, aIm: aF.pointer + m,
                              bRe: bF.pointer, bIm: bF.pointer + m, count: m)
    var product = [UInt64](repeating: 0, count: n)
    product.withUnsafeMutableBufferPointer { fft.inverseAdd(re: acc.pointer, im: acc.pointer + m, into: $0.baseAddress!) }
    withExtendedLifetime((aF, bF, acc, real)) {}  // the buffers were used through raw pointers
    return product
}

/// Running moments of a sample, and intervals for them with a false-alarm rate of about 10^-6
/// (two-sided, normal approximation of the sample mean; the statistical tests are seeded, so
/// this is the chance that a seed we pick fails a correct engine, not a flake rate).
struct SampleMoments {
    /// P(|Z| > z) = 10^-6 for a standard normal Z.
    static let z = 4.8916
    private(set) var count = 0
    private(set) var sum = 0.0
    private(set) var sumSquares = 0.0
    private(set) var sumFourth = 0.0

    mutating func add(_ x: Double) {
        count += 1
        sum += x
        let square = x * x
        sumSquares += square
        sumFourth += square * square
    }

    var mean: Double { sum / Double(count) }
    /// The second moment about zero (the variance of a noise whose mean is zero).
    var meanSquare: Double { sumSquares / Double(count) }
    var variance: Double { meanSquare - mean * mean }

    /// The interval's half-width for the mean: z·s/√count.
    var meanHalfWidth: Double { Self.z * (variance / Double(count)).squareRoot() }
    /// The half-width for the second moment, from the sample's fourth moment (for Gaussian
    /// noise this is the chi-square interval's normal approximation, z·√2·σ²/√count).
    var meanSquareHalfWidth: Double {
        Self.z * ((sumFourth / Double(count) - meanSquare * meanSquare) / Double(count)).squareRoot()
    }

    func meanIsConsistent(with expected: Double) -> Bool { abs(mean - expected) <= meanHalfWidth }
    func meanSquareIsConsistent(with expected: Double) -> Bool { abs(meanSquare - expected) <= meanSquareHalfWidth }
}
