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
    /// The seven vectors of signs and twiddles of the three stages inside a row of 8 points.
    public let rowConstants: UnsafePointer<Double>

    public init(polynomialSize: Int, twistRe: UnsafePointer<Double>, twistIm: UnsafePointer<Double>,
                twiddleRe: UnsafePointer<Double>, twiddleIm: UnsafePointer<Double>, rowConstants: UnsafePointer<Double>) {
        self.polynomialSize = polynomialSize
        self.twistRe = twistRe
        self.twistIm = twistIm
        self.twiddleRe = twiddleRe
        self.twiddleIm = twiddleIm
        self.rowConstants = rowConstants
    }
}

/// A Fourier-domain bootstrapping key (`FourierBootstrappingKey`): `inputDimension` GGSWs of
/// `ggswStride` Doubles each, laid out [row (column, level)][output column][re N/2 | im N/2].
public struct FourierKeyLayout: @unchecked Sendable {
    public let storage: UnsafePointer<Double>
    public let inputDimension: Int
    public let glweDimension: Int
    public let polynomialSize: Int
    public let baseLog: Int
    public let levelCount: Int

    public var ggswStride: Int { (glweDimension + 1) * levelCount * (glweDimension + 1) * polynomialSize }

    public init(storage: UnsafePointer<Double>, inputDimension: Int, glweDimension: Int, polynomialSize: Int,
                baseLog: Int, levelCount: Int) {
        self.storage = storage
        self.inputDimension = inputDimension
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

    public init(accumulator: UnsafeMutableRawPointer, difference: UnsafeMutableRawPointer, digits: UnsafeMutablePointer<Double>,
                digitFourier: UnsafeMutablePointer<Double>, fourierAccumulator: UnsafeMutablePointer<Double>,
                switched: UnsafeMutablePointer<Int>) {
        self.accumulator = accumulator
        self.difference = difference
        self.digits = digits
        self.digitFourier = digitFourier
        self.fourierAccumulator = fourierAccumulator
        self.switched = switched
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
