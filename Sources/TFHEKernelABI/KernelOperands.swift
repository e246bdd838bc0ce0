/// The operands of the engine's hot kernels, as plain pointers and sizes.
///
/// The kernels are compiled once per instruction set (Package.swift: `TFHEKernelsAVX512`,
/// `TFHEKernelsAVX2`, and the portable set inside `TFHE`) from the same source, and each
/// compilation has types of its own; these layouts are what crosses between them. They own
/// nothing: the engine's keys, tables and scratch buffers own the memory, and keep it alive
/// for the duration of a call.

/// The word of a torus element, and so of a ciphertext (UInt32 for the boolean set, UInt64
/// for the shortint sets).
public enum TorusWidth: Sendable, Equatable {
    case bits32
    case bits64
}

/// The constants of a negacyclic FFT of N/2 complex points (`NegacyclicFFT`).
public struct FourierTables: @unchecked Sendable {
    public let polynomialSize: Int
    /// The twist ψ^j, j < N/2.
    public let twistRe: UnsafePointer<Double>
    public let twistIm: UnsafePointer<Double>
    /// The twiddles of the stage of span h at offset h, for h = N/4 ... 8.
    public let twiddleRe: UnsafePointer<Double>
    public let twiddleIm: UnsafePointer<Double>
    /// The radix-4 passes' third twiddles: w_h^{3t} of the pass of spans h and h/2, at offset h.
    public let twiddle3Re: UnsafePointer<Double>
    public let twiddle3Im: UnsafePointer<Double>
    /// The seven vectors of signs and twiddles of the three stages inside a row of 8 points.
    public let rowConstants: UnsafePointer<Double>
    /// For each of the N/2 slots of the transforms' output, the odd t < 2N such that the slot
    /// holds a polynomial evaluated at e^{iπt/N}: slot s of X^e is rootRe/rootIm[e·t mod 2N].
    public let slotRootPowers: UnsafePointer<Int32>
    /// e^{iπt/N} for t < 2N: the 2N-th roots of unity.
    public let rootRe: UnsafePointer<Double>
    public let rootIm: UnsafePointer<Double>

    public init(polynomialSize: Int, twistRe: UnsafePointer<Double>, twistIm: UnsafePointer<Double>,
                twiddleRe: UnsafePointer<Double>, twiddleIm: UnsafePointer<Double>,
                twiddle3Re: UnsafePointer<Double>, twiddle3Im: UnsafePointer<Double>, rowConstants: UnsafePointer<Double>,
                slotRootPowers: UnsafePointer<Int32>, rootRe: UnsafePointer<Double>, rootIm: UnsafePointer<Double>) {
        self.polynomialSize = polynomialSize
        self.twistRe = twistRe
        self.twistIm = twistIm
        self.twiddleRe = twiddleRe
        self.twiddleIm = twiddleIm
        self.twiddle3Re = twiddle3Re
        self.twiddle3Im = twiddle3Im
        self.rowConstants = rowConstants
        self.slotRootPowers = slotRootPowers
        self.rootRe = rootRe
        self.rootIm = rootIm
    }
}

/// How a blind rotation walks the LWE key, and so what its bootstrapping key holds.
///
/// - `classic`: one CMux per key coefficient, GGSW(s_i) (CGGI 2020, Algorithm 3).
/// - `blockBinary`: the key is cut into blocks of `blockSize` coefficients with at most one 1
///   each (block binary keys, eprint 2023/958, as tfhe-go runs them with its `BlockSize`):
///   X^{Σ a_i s_i} over a block is
///   1 + Σ_i s_i (X^{a_i} - 1), so ACC += Σ_i (X^{a_i} - 1)·ExtProd(GGSW(s_i), ACC) takes one
///   decomposition and one set of transforms of ACC per block instead of per coefficient.
/// - `multiBit`: the key is cut into groups of `groupingFactor` uniform bits and the key holds,
///   for each group and each of the 2^g patterns p of its bits, GGSW(1[s_group = p]) (Joye and
///   Paillier, "Blind rotation in fully homomorphic encryption with extended keys", CSCML
///   2022; TFHE-rs's multi-bit PBS, whose key is the same): X^{Σ a_i s_i} = Σ_p 1[s = p]·X^{e_p},
///   with e_p the modulus switch of Σ_{i in p} a_i (one rounding per group, as TFHE-rs's
///   `modulus_switch_multi_bit`), so ACC ← Σ_p X^{e_p}·ExtProd(GGSW_p, ACC).
///
/// Both grouped forms decompose and transform ACC once per step, sum the products of every
/// GGSW of the step in the Fourier domain, and take k+1 inverse transforms.
public enum BlindRotationMethod: Sendable, Hashable {
    case classic
    case blockBinary(blockSize: Int)
    case multiBit(groupingFactor: Int)

    /// Key coefficients consumed by one step.
    public var keyCoefficientsPerStep: Int {
        switch self {
        case .classic: 1
        case .blockBinary(let b): b
        case .multiBit(let g): g
        }
    }

    /// GGSWs read by one step.
    public var ggswsPerStep: Int {
        switch self {
        case .classic: 1
        case .blockBinary(let b): b
        case .multiBit(let g): 1 << g
        }
    }

    /// Whether a step replaces the accumulator by Σ_j X^{e_j}·ExtProd(GGSW_j, ACC) (multi-bit,
    /// whose GGSWs cover every pattern, the zero one included) rather than adding
    /// Σ_j (X^{e_j} - 1)·ExtProd(GGSW_j, ACC) to it (block binary).
    public var replacesAccumulator: Bool {
        if case .multiBit = self { return true }
        return false
    }

    /// Values of the modulus-switched input before its body: one per key coefficient, or for a
    /// multi-bit key one exponent per GGSW (group, pattern).
    public func switchedCount(lweDimension n: Int) -> Int {
        if case .multiBit = self { return ggswCount(lweDimension: n) }
        return n
    }

    /// GGSWs in a key for an LWE key of dimension n (a multiple of `keyCoefficientsPerStep`).
    public func ggswCount(lweDimension n: Int) -> Int {
        n / keyCoefficientsPerStep * ggswsPerStep
    }
}

/// A Fourier-domain bootstrapping key (`FourierBootstrappingKey`): `method.ggswCount(...)`
/// GGSWs of `ggswStride` Doubles each, each laid out [row (column, level)][output column][re N/2
/// | im N/2], the GGSWs of one step of the blind rotation consecutive.
public struct FourierKeyLayout: @unchecked Sendable {
    public let storage: UnsafePointer<Double>
    /// The LWE dimension n of the input the key rotates by.
    public let inputDimension: Int
    public let method: BlindRotationMethod
    public let glweDimension: Int
    public let polynomialSize: Int
    public let baseLog: Int
    public let levelCount: Int

    public var ggswStride: Int { (glweDimension + 1) * levelCount * (glweDimension + 1) * polynomialSize }

    /// Where the modulus-switched input keeps its body (`BlindRotationMethod.switchedCount`).
    public var switchedBodyIndex: Int { method.switchedCount(lweDimension: inputDimension) }

    public init(storage: UnsafePointer<Double>, inputDimension: Int, method: BlindRotationMethod, glweDimension: Int,
                polynomialSize: Int, baseLog: Int, levelCount: Int) {
        self.storage = storage
        self.inputDimension = inputDimension
        self.method = method
        self.glweDimension = glweDimension
        self.polynomialSize = polynomialSize
        self.baseLog = baseLog
        self.levelCount = levelCount
    }
}

/// The buffers of one bootstrap in flight (`BootstrapScratch`): torus words are of the
/// call's `TorusWidth`.
public struct BootstrapBuffers: @unchecked Sendable {
    /// The accumulator GLWE, (k+1)·N words.
    public let accumulator: UnsafeMutableRawPointer
    /// X^a·ACC_c - ACC_c, N words.
    public let difference: UnsafeMutableRawPointer
    /// The l digit polynomials of one column, l·N Doubles.
    public let digits: UnsafeMutablePointer<Double>
    /// The (k+1)·l digit polynomials in the Fourier domain, N Doubles each.
    public let digitFourier: UnsafeMutablePointer<Double>
    /// One output column in the Fourier domain, N Doubles.
    public let fourierAccumulator: UnsafeMutablePointer<Double>
    /// The modulus-switched input: n + 1 values in Z_2N.
    public let switched: UnsafeMutablePointer<Int>
    /// X^{e_j} - 1 in the Fourier domain for each GGSW j of a grouped step
    /// (`BlindRotationMethod.ggswsPerStep` × N Doubles; unused by the classic rotation).
    public let monomials: UnsafeMutablePointer<Double>

    public init(accumulator: UnsafeMutableRawPointer, difference: UnsafeMutableRawPointer, digits: UnsafeMutablePointer<Double>,
                digitFourier: UnsafeMutablePointer<Double>, fourierAccumulator: UnsafeMutablePointer<Double>,
                switched: UnsafeMutablePointer<Int>, monomials: UnsafeMutablePointer<Double>) {
        self.accumulator = accumulator
        self.difference = difference
        self.digits = digits
        self.digitFourier = digitFourier
        self.fourierAccumulator = fourierAccumulator
        self.switched = switched
        self.monomials = monomials
    }
}

/// A key-switching key (`KeySwitchingKey`): rows of `outputDimension + 1` 32-bit words,
/// [input coefficient][level].
public struct KeySwitchLayout: @unchecked Sendable {
    public let rows: UnsafePointer<UInt32>
    public let inputDimension: Int
    public let outputDimension: Int
    public let baseLog: Int
    public let levelCount: Int

    public init(rows: UnsafePointer<UInt32>, inputDimension: Int, outputDimension: Int, baseLog: Int, levelCount: Int) {
        self.rows = rows
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.baseLog = baseLog
        self.levelCount = levelCount
    }
}
