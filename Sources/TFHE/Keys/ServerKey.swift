import TFHEKernelABI

/// The evaluation side: the Fourier-domain bootstrapping key and the key-switching key. It
/// holds nothing secret (both are encryptions) and is immutable, so one instance serves any
/// number of threads, each with its own `BootstrapScratch`.
public final class ServerKey<T: TorusScalar>: @unchecked Sendable {
    public let parameters: ParameterSet
    public let bootstrappingKey: FourierBootstrappingKey
    public let keySwitchingKey: KeySwitchingKey<T>
    let fft: NegacyclicFFT
    /// The kernel set that runs this key's bootstraps and key switches (its FFT's).
    var kernels: any EngineKernelSet { fft.kernels }
    /// The gates' table, the constant q/8 (BooleanGates.swift): made once, so that a gate
    /// allocates nothing.
    let booleanSignTable: LookupTable<T>

    /// Makes the server key of a client key. `seed` fixes all of its randomness.
    public init(clientKey: ClientKey<T>, seed: Seed = .random()) {
        let p = clientKey.parameters
        parameters = p
        fft = clientKey.fft
        var randomness = EncryptionRandomness(seed: seed)
        bootstrappingKey = FourierBootstrappingKey(
            lweKey: clientKey.lweKey, glweKey: clientKey.glweKey, method: p.blindRotation, glweDimension: p.glweDimension, fft: fft,
            decomposition: p.bootstrapDecomposition, noise: p.glweNoise, randomness: &randomness)
        keySwitchingKey = KeySwitchingKey(from: clientKey.glweKey, to: clientKey.lweKey, parameters: p, randomness: &randomness)
        booleanSignTable = LookupTable(polynomialSize: p.polynomialSize, constant: BooleanEncoding<T>.eighth)
    }

    /// A key from its parts (decompression and deserialization, which check the shapes).
    init(parameters: ParameterSet, bootstrappingKey: FourierBootstrappingKey, keySwitchingKey: KeySwitchingKey<T>,
         fft: NegacyclicFFT) {
        self.parameters = parameters
        self.bootstrappingKey = bootstrappingKey
        self.keySwitchingKey = keySwitchingKey
        self.fft = fft
        booleanSignTable = LookupTable(polynomialSize: parameters.polynomialSize, constant: BooleanEncoding<T>.eighth)
    }

    public func makeScratch() -> BootstrapScratch<T> { BootstrapScratch(parameters: parameters) }

    /// Scratch buffers are sized for one parameter set: another set's would be overrun.
    func check(_ scratch: BootstrapScratch<T>) throws {
        guard scratch.parameterFingerprint == parameters.fingerprint else {
            throw TFHEError.parameterMismatch(expected: parameters.name, found: String(scratch.parameterFingerprint, radix: 16))
        }
    }

    func check(_ ciphertext: LWECiphertext<T>) throws { try parameters.check(ciphertext) }

    // MARK: Lookup tables

    /// The test polynomial that maps message m to f(m) (both in 0..<p), with the encoding Δ = q/2p.
    public func lookupTable(_ function: (UInt64) -> UInt64) -> LookupTable<T> {
        let p = Int(1) << (parameters.messageBits + parameters.carryBits)
        let delta = T(1) << (T.bitWidth - 1 - parameters.messageBits - parameters.carryBits)
        let values = (0..<p).map { T(truncatingIfNeeded: function(UInt64($0)) % UInt64(p)) &* delta }
        return LookupTable(polynomialSize: parameters.polynomialSize, boxValues: values)
    }

    /// A table of several functions of one input, all evaluated by one blind rotation
    /// (many-LUT bootstrapping: Chillotti, Ligier, Orfila and Tap, "Improved programmable
    /// bootstrapping with larger precision and efficient arithmetic circuits for TFHE",
    /// Asiacrypt 2021, eprint 2021/729, Algorithm 4's PBSmanyLUT; TFHE-rs's many-LUT).
    ///
    /// With p = 2^(message + carry bits) boxes of N/p coefficients, function j takes the
    /// `span` = p / f boxes from j·span on: box j·span + m holds f_j(m). An input whose message
    /// m is below `span` rotates box m to coefficient 0, and so box j·span + m to coefficient
    /// j·span·N/p, where output j is extracted. The boxes keep their width, so each output's
    /// noise and failure probability are those of one ordinary bootstrap; the price is the
    /// input's range: its message must be below p / f (`manyLookupInputBound`).
    public func lookupTable(functions: [(UInt64) -> UInt64]) throws -> LookupTable<T> {
        let p = Int(1) << (parameters.messageBits + parameters.carryBits)
        guard !functions.isEmpty && functions.count <= p else {
            throw TFHEError.unsupported("a many-LUT table holds 1 to \(p) functions on \(parameters.name), not \(functions.count)")
        }
        let span = p / functions.count
        let delta = T(1) << (T.bitWidth - 1 - parameters.messageBits - parameters.carryBits)
        var values = [T](repeating: 0, count: p)
        for (j, function) in functions.enumerated() {
            for m in 0..<span { values[j * span + m] = T(truncatingIfNeeded: function(UInt64(m)) % UInt64(p)) &* delta }
        }
        return LookupTable(polynomialSize: parameters.polynomialSize, boxValues: values, outputCount: functions.count,
                           outputSpacing: span * (parameters.polynomialSize / p))
    }

    /// Messages below this bound can go through a table of `functionCount` functions.
    public func manyLookupInputBound(functionCount: Int) -> UInt64 {
        ShortintEncoding(parameters: parameters).manyLookupInputBound(functionCount: functionCount)
    }

    /// A table given by its values, one per message.
    public func lookupTable(values: [UInt64]) throws -> LookupTable<T> {
        let p = Int(1) << (parameters.messageBits + parameters.carryBits)
        guard values.count == p else { throw TFHEError.lookupTableSize(expected: p, found: values.count) }
        return lookupTable { values[Int($0)] }
    }

    // MARK: The two steps

    /// LWE-to-LWE key switching from the big key (kN) to the small key (n). On a KS32 set the
    /// small LWE lives on 2^32 (`keySwitch32`); here it is returned on the torus word, each
    /// value times 2^(w-32): the same phase exactly, and the same modulus switch to 2N, so
    /// `blindRotateAndExtract` and phase checks take it as they take any small ciphertext.
    public func keySwitch(_ input: LWECiphertext<T>) throws -> LWECiphertext<T> {
        try checkKeySwitchInput(input)
        var output = LWECiphertext<T>(dimension: parameters.lweDimension, parameterFingerprint: parameters.fingerprint)
        if parameters.usesKeySwitch32 {
            let small = try keySwitch32(input)
            for t in 0...parameters.lweDimension { output.data[t] = T(small.data[t]) &<< (T.bitWidth - 32) }
            return output
        }
        input.data.withUnsafeBufferPointer { inp in
            output.data.withUnsafeMutableBufferPointer { keySwitchingKey.keySwitch(inp.baseAddress!, into: $0.baseAddress!, kernels: kernels) }
        }
        return output
    }

    /// KS32 key switching (TFHE-rs's KeySwitch32 atomic pattern): the big LWE on the 64-bit
    /// torus to the small LWE on 2^32, in 32-bit words, as a bootstrap holds it. Only for
    /// KS32 sets (`ParameterSet.usesKeySwitch32`).
    public func keySwitch32(_ input: LWECiphertext<T>) throws -> LWECiphertext<UInt32> {
        guard parameters.usesKeySwitch32 else { throw TFHEError.notKeySwitch32(parameterSet: parameters.name) }
        try checkKeySwitchInput(input)
        var output = LWECiphertext<UInt32>(dimension: parameters.lweDimension, parameterFingerprint: parameters.fingerprint)
        input.data.withUnsafeBufferPointer { inp in
            output.data.withUnsafeMutableBufferPointer { keySwitchingKey.keySwitch32(inp.baseAddress!, into: $0.baseAddress!, kernels: kernels) }
        }
        return output
    }

    private func checkKeySwitchInput(_ input: LWECiphertext<T>) throws {
        guard input.parameterFingerprint == parameters.fingerprint else {
            throw TFHEError.parameterMismatch(expected: parameters.name, found: String(input.parameterFingerprint, radix: 16))
        }
        guard input.dimension == parameters.bigLWEDimension else {
            throw TFHEError.dimensionMismatch(expected: parameters.bigLWEDimension, found: input.dimension)
        }
    }

    /// Programmable bootstrap of a ciphertext under the small key: modulus switch, blind
    /// rotation of the table, sample extraction. The result is under the big key.
    func bootstrapSmall<S: TorusScalar>(_ input: UnsafePointer<S>, table: LookupTable<T>, scratch: BootstrapScratch<T>,
                                        into output: UnsafeMutablePointer<T>) {
        rotate(input, table: table, scratch: scratch)
        GLWE.extractCoefficient(UnsafePointer(scratch.accumulator.pointer), index: 0, glweDimension: parameters.glweDimension,
                                polynomialSize: parameters.polynomialSize, into: output)
    }

    /// Modulus switch and blind rotation of `table` into the scratch's accumulator. The input
    /// is a small LWE in words S: the torus's, or UInt32 on a KS32 set.
    private func rotate<S: TorusScalar>(_ input: UnsafePointer<S>, table: LookupTable<T>, scratch: BootstrapScratch<T>) {
        BlindRotation.switchModulus(input, parameters: parameters, into: scratch.switched.pointer)
        withExtendedLifetime((bootstrappingKey.storage, fft, scratch)) {
            table.coefficients.withUnsafeBufferPointer { lut in
                kernels.blindRotate(T.width, lookupTable: UnsafeRawPointer(lut.baseAddress!), key: bootstrappingKey.layout,
                                    tables: fft.tables, buffers: scratch.buffers)
            }
        }
    }

    /// Blind rotation of `table` by the phase of a ciphertext under the small key, then sample
    /// extraction: the bootstrap without its key switch. The result is under the big key.
    public func blindRotateAndExtract(_ small: LWECiphertext<T>, table: LookupTable<T>, scratch: BootstrapScratch<T>,
                                      into big: inout LWECiphertext<T>) throws {
        guard small.parameterFingerprint == parameters.fingerprint else {
            throw TFHEError.parameterMismatch(expected: parameters.name, found: String(small.parameterFingerprint, radix: 16))
        }
        guard small.dimension == parameters.lweDimension else {
            throw TFHEError.dimensionMismatch(expected: parameters.lweDimension, found: small.dimension)
        }
        guard big.dimension == parameters.bigLWEDimension else {
            throw TFHEError.dimensionMismatch(expected: parameters.bigLWEDimension, found: big.dimension)
        }
        try check(scratch)
        small.data.withUnsafeBufferPointer { inp in
            big.data.withUnsafeMutableBufferPointer { bootstrapSmall(inp.baseAddress!, table: table, scratch: scratch, into: $0.baseAddress!) }
        }
    }

    /// One CMux of the blind rotation on the scratch's accumulator (its unit of cost).
    public func cmux(keyIndex: Int, rotation: Int, scratch: BootstrapScratch<T>) throws {
        guard keyIndex >= 0 && keyIndex < parameters.lweDimension else {
            throw TFHEError.unsupported("key index \(keyIndex) outside 0..<\(parameters.lweDimension)")
        }
        guard rotation >= 0 && rotation < 2 * parameters.polynomialSize else {
            throw TFHEError.unsupported("rotation \(rotation) outside 0..<\(2 * parameters.polynomialSize)")
        }
        try check(scratch)
        withExtendedLifetime((bootstrappingKey.storage, fft, scratch)) {
            kernels.cmux(T.width, keyIndex: keyIndex, rotation: rotation, key: bootstrappingKey.layout, tables: fft.tables,
                         buffers: scratch.buffers)
        }
    }

    /// Evaluates a lookup table on an encrypted message and refreshes its noise: KS then PBS
    /// or PBS then KS, as the parameter set orders them. Writes into `output` (which must have
    /// the ciphertext dimension) so that a caller reusing its buffers allocates nothing.
    public func programmableBootstrap(_ input: LWECiphertext<T>, table: LookupTable<T>,
                                      scratch: BootstrapScratch<T>, into output: inout LWECiphertext<T>) throws {
        try check(input)
        guard output.dimension == parameters.ciphertextDimension else {
            throw TFHEError.dimensionMismatch(expected: parameters.ciphertextDimension, found: output.dimension)
        }
        guard table.coefficients.count == parameters.polynomialSize else {
            throw TFHEError.lookupTableSize(expected: parameters.polynomialSize, found: table.coefficients.count)
        }
        try check(scratch)
        input.data.withUnsafeBufferPointer { inp in
            output.data.withUnsafeMutableBufferPointer {
                programmableBootstrap(inp.baseAddress!, table: table, scratch: scratch, into: $0.baseAddress!)
            }
        }
    }

    /// The bootstrap on words of the ciphertext dimension, through the scratch alone (checked
    /// by the caller). `input` may be `output`: the first step reads all of it into the scratch
    /// before the second writes the output (how a gate bootstraps its combination in place).
    func programmableBootstrap(_ input: UnsafePointer<T>, table: LookupTable<T>, scratch: BootstrapScratch<T>,
                               into output: UnsafeMutablePointer<T>) {
        rotateInput(input, table: table, scratch: scratch)
        extractOutput(0, of: table, scratch: scratch, into: output)
    }

    /// A bootstrap's first step: (KS then PBS: the key switch, then) the modulus switch and the
    /// blind rotation into the scratch's accumulator.
    private func rotateInput(_ input: UnsafePointer<T>, table: LookupTable<T>, scratch: BootstrapScratch<T>) {
        switch parameters.order {
        case .keySwitchThenBootstrap where parameters.usesKeySwitch32:
            let small = scratch.small32.pointer
            keySwitchingKey.keySwitch32(input, into: small, kernels: kernels)
            rotate(UnsafePointer(small), table: table, scratch: scratch)
        case .keySwitchThenBootstrap:
            let small = scratch.small.pointer
            keySwitchingKey.keySwitch(input, into: small, sum: scratch.keySwitchSums.pointer, kernels: kernels)
            rotate(UnsafePointer(small), table: table, scratch: scratch)
        case .bootstrapThenKeySwitch:
            rotate(input, table: table, scratch: scratch)
        }
    }

    /// A bootstrap's last step for output j of `table` (coefficient j·outputSpacing of the
    /// accumulator): sample extraction (PBS then KS: into the scratch, then the key switch).
    private func extractOutput(_ j: Int, of table: LookupTable<T>, scratch: BootstrapScratch<T>, into output: UnsafeMutablePointer<T>) {
        let p = parameters
        let accumulator = UnsafePointer(scratch.accumulator.pointer), index = j * table.outputSpacing
        switch p.order {
        case .keySwitchThenBootstrap:
            GLWE.extractCoefficient(accumulator, index: index, glweDimension: p.glweDimension, polynomialSize: p.polynomialSize,
                                    into: output)
        case .bootstrapThenKeySwitch:
            let small = scratch.small.pointer
            GLWE.extractCoefficient(accumulator, index: index, glweDimension: p.glweDimension, polynomialSize: p.polynomialSize,
                                    into: small)
            keySwitchingKey.keySwitch(UnsafePointer(small), into: output, sum: scratch.keySwitchSums.pointer, kernels: kernels)
        }
    }

    /// A many-LUT bootstrap (`lookupTable(functions:)`): outputs[j] = f_j(m), all from one
    /// blind rotation (and, for KS then PBS, one key switch). `outputs` holds one ciphertext of
    /// the ciphertext dimension per function; the input's message must be below
    /// `manyLookupInputBound(functionCount:)` (the caller tracks it; above it the outputs are
    /// those of other boxes, as an ordinary table's are for a message beyond its degree).
    public func programmableBootstrap(_ input: LWECiphertext<T>, table: LookupTable<T>, scratch: BootstrapScratch<T>,
                                      into outputs: inout [LWECiphertext<T>]) throws {
        try check(input)
        guard outputs.count == table.outputCount else {
            throw TFHEError.unsupported("a table of \(table.outputCount) functions needs as many outputs, got \(outputs.count)")
        }
        for output in outputs where output.dimension != parameters.ciphertextDimension {
            throw TFHEError.dimensionMismatch(expected: parameters.ciphertextDimension, found: output.dimension)
        }
        guard table.coefficients.count == parameters.polynomialSize else {
            throw TFHEError.lookupTableSize(expected: parameters.polynomialSize, found: table.coefficients.count)
        }
        try check(scratch)
        input.data.withUnsafeBufferPointer { rotateInput($0.baseAddress!, table: table, scratch: scratch) }
        for j in 0..<table.outputCount {
            outputs[j].data.withUnsafeMutableBufferPointer { extractOutput(j, of: table, scratch: scratch, into: $0.baseAddress!) }
        }
    }

    public func programmableBootstrap(_ input: LWECiphertext<T>, table: LookupTable<T>) throws -> LWECiphertext<T> {
        var output = LWECiphertext<T>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        try programmableBootstrap(input, table: table, scratch: makeScratch(), into: &output)
        return output
    }
}

extension ParameterSet {
    /// A bootstrap input must be of this parameter set and of its ciphertext dimension.
    func check<T: TorusScalar>(_ ciphertext: LWECiphertext<T>) throws {
        guard ciphertext.parameterFingerprint == fingerprint else {
            throw TFHEError.parameterMismatch(expected: name, found: String(ciphertext.parameterFingerprint, radix: 16))
        }
        guard ciphertext.dimension == ciphertextDimension else {
            throw TFHEError.dimensionMismatch(expected: ciphertextDimension, found: ciphertext.dimension)
        }
    }
}
