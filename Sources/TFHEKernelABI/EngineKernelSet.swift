/// One compilation of the engine's hot kernels for one instruction set.
///
/// Each entry point is a whole loop (a transform, a blind rotation, a key switch), so the one
/// indirect call it costs is nothing beside its work, and everything inside it is specialised
/// and inlined for the set's CPU. `EngineKernels` (in TFHE) picks the best set the CPU runs.
public protocol EngineKernelSet: Sendable {
    /// "avx512", "avx2" or "portable".
    var name: String { get }
    /// The vector shapes it uses, for `fhe bench` and logs.
    var vectorShape: String { get }

    /// Forward negacyclic FFT of N real coefficients into N/2 complex points (split re/im).
    func forward(_ tables: FourierTables, _ coefficients: UnsafePointer<Double>,
                 re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>)
    /// The inverse, back to N real coefficients (destroys `re` and `im`).
    func inverse(_ tables: FourierTables, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                 into coefficients: UnsafeMutablePointer<Double>)
    /// The cyclic complex FFT inside `forward`, alone: N/2 points in place, natural order in,
    /// the engine's Fourier order out, no twist (for timing against other FFTs like for like).
    func complexForward(_ tables: FourierTables, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>)
    /// Its inverse, unscaled (N/2 times the identity after `complexForward`).
    func complexInverse(_ tables: FourierTables, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>)
    /// The inverse, rounded and added modulo q to N torus words (destroys `re` and `im`).
    func inverseAdd(_ width: TorusWidth, _ tables: FourierTables, re: UnsafeMutablePointer<Double>,
                    im: UnsafeMutablePointer<Double>, into output: UnsafeMutableRawPointer)

    /// ACC ← X^{-b̃}·table, then one CMux per key coefficient (the switched input is in
    /// `buffers.switched`).
    func blindRotate(_ width: TorusWidth, lookupTable: UnsafeRawPointer, key: FourierKeyLayout, tables: FourierTables,
                     buffers: BootstrapBuffers)
    /// The blind rotations of several ciphertexts in one pass over the key; each accumulator
    /// must already hold X^{-b̃}·table (`BlindRotation.initializeAccumulator`).
    func blindRotateBatch(_ width: TorusWidth, key: FourierKeyLayout, tables: FourierTables, buffers: [BootstrapBuffers])
    /// One CMux on the accumulator: ACC ← ACC + ExtProd(BSK_i, X^a·ACC - ACC).
    func cmux(_ width: TorusWidth, keyIndex: Int, rotation: Int, key: FourierKeyLayout, tables: FourierTables,
              buffers: BootstrapBuffers)

    /// LWE key switching of one ciphertext; `sums` holds n + 1 words of scratch.
    func keySwitch(_ width: TorusWidth, key: KeySwitchLayout, input: UnsafeRawPointer, output: UnsafeMutableRawPointer,
                   sums: UnsafeMutablePointer<UInt32>)
    /// The key switches of several ciphertexts in one pass over the key.
    func keySwitchBatch(_ width: TorusWidth, key: KeySwitchLayout, inputs: [UnsafeRawPointer],
                        outputs: [UnsafeMutableRawPointer], sums: [UnsafeMutablePointer<UInt32>])
    /// KS32: key switching of a 64-bit ciphertext into one on 2^32 (n + 1 32-bit words),
    /// with a key whose entries are encryptions on 2^32.
    func keySwitch32(key: KeySwitchLayout, input: UnsafePointer<UInt64>, output: UnsafeMutablePointer<UInt32>)
    /// The KS32 key switches of several ciphertexts in one pass over the key.
    func keySwitchBatch32(key: KeySwitchLayout, inputs: [UnsafePointer<UInt64>], outputs: [UnsafeMutablePointer<UInt32>])
}
