/// Boolean gates by gate bootstrapping (CGGI 2020 §5; the encoding of TFHE-rs's `boolean`
/// module): true is +q/8 and false is -q/8. A gate adds its inputs with small weights and a
/// constant so that its truth value becomes the sign of the phase (true on [0, 1/2)), then
/// one bootstrap of the constant table q/8 reads that sign and refreshes the noise.
extension ClientKey {
    public func encrypt(_ value: Bool, randomness: inout EncryptionRandomness) -> LWECiphertext<T> {
        encrypt(torus: value ? BooleanEncoding<T>.eighth : 0 &- BooleanEncoding<T>.eighth, randomness: &randomness)
    }

    public func encrypt(_ value: Bool) -> LWECiphertext<T> {
        var randomness = EncryptionRandomness()
        return encrypt(value, randomness: &randomness)
    }

    public func decryptBool(_ ciphertext: LWECiphertext<T>) throws -> Bool {
        try phase(ciphertext).signedValue >= 0
    }
}

enum BooleanEncoding<T: TorusScalar> {
    /// q/8, the encoding of true (false is its negative).
    static var eighth: T { T(1) << (T.bitWidth - 3) }
}

extension ServerKey {
    /// The input of a bootstrap, under the ciphertext key, to its output under the big key.
    func bootstrapToBig(_ input: LWECiphertext<T>, table: LookupTable<T>, scratch: BootstrapScratch<T>,
                        into big: UnsafeMutablePointer<T>) {
        input.data.withUnsafeBufferPointer { inp in
            switch parameters.order {
            case .keySwitchThenBootstrap where parameters.usesKeySwitch32:
                keySwitchingKey.keySwitch32(inp.baseAddress!, into: scratch.small32.pointer, kernels: kernels)
                bootstrapSmall(UnsafePointer(scratch.small32.pointer), table: table, scratch: scratch, into: big)
            case .keySwitchThenBootstrap:
                keySwitchingKey.keySwitch(inp.baseAddress!, into: scratch.small.pointer, sum: scratch.keySwitchSums.pointer, kernels: kernels)
                bootstrapSmall(UnsafePointer(scratch.small.pointer), table: table, scratch: scratch, into: big)
            case .bootstrapThenKeySwitch:
                bootstrapSmall(inp.baseAddress!, table: table, scratch: scratch, into: big)
            }
        }
    }

    /// A ciphertext under the big key back to the ciphertext key.
    func finish(big: [T]) -> LWECiphertext<T> {
        switch parameters.order {
        case .keySwitchThenBootstrap:
            return LWECiphertext(data: big, parameterFingerprint: parameters.fingerprint)
        case .bootstrapThenKeySwitch:
            var output = LWECiphertext<T>(dimension: parameters.lweDimension, parameterFingerprint: parameters.fingerprint)
            big.withUnsafeBufferPointer { b in
                output.data.withUnsafeMutableBufferPointer { keySwitchingKey.keySwitch(b.baseAddress!, into: $0.baseAddress!, kernels: kernels) }
            }
            return output
        }
    }

    /// Bootstraps the gate's linear combination (its sign is the gate's value).
    private func gate(_ gate: BooleanGate, _ a: LWECiphertext<T>, _ b: LWECiphertext<T>,
                      scratch: BootstrapScratch<T>?) throws -> LWECiphertext<T> {
        var output = LWECiphertext<T>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        try evaluate(gate, a, b, scratch: scratch ?? makeScratch(), into: &output)
        return output
    }

    /// One gate into `output`, through `scratch` and nothing else: the combination is formed
    /// in `output`, bootstrapped and key-switched through the scratch's buffers and written
    /// back, so a circuit evaluated gate by gate allocates nothing per gate (as
    /// `programmableBootstrap(_:table:scratch:into:)`, once `output` is its own). `output` must
    /// have the ciphertext dimension.
    public func evaluate(_ gate: BooleanGate, _ a: LWECiphertext<T>, _ b: LWECiphertext<T>,
                         scratch: BootstrapScratch<T>, into output: inout LWECiphertext<T>) throws {
        try check(a)
        try check(b)
        try check(scratch)
        guard output.dimension == parameters.ciphertextDimension else {
            throw TFHEError.dimensionMismatch(expected: parameters.ciphertextDimension, found: output.dimension)
        }
        if output.parameterFingerprint != parameters.fingerprint {
            output = LWECiphertext(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        }
        a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                output.data.withUnsafeMutableBufferPointer { out in
                    gate.combine(x.baseAddress!, y.baseAddress!, count: out.count, into: out.baseAddress!)
                    programmableBootstrap(UnsafePointer(out.baseAddress!), table: booleanSignTable, scratch: scratch,
                                          into: out.baseAddress!)
                }
            }
        }
    }

    public func and(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(.and, a, b, scratch: scratch)
    }
    public func or(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(.or, a, b, scratch: scratch)
    }
    public func nand(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(.nand, a, b, scratch: scratch)
    }
    public func nor(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(.nor, a, b, scratch: scratch)
    }
    public func xor(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(.xor, a, b, scratch: scratch)
    }
    public func xnor(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(.xnor, a, b, scratch: scratch)
    }

    /// One gate on many pairs of bits, all bootstrapped in one pass over the keys
    /// (`programmableBootstrap(batch:)`): the way to evaluate a circuit layer.
    public func evaluate(_ gate: BooleanGate, pairs: [(LWECiphertext<T>, LWECiphertext<T>)],
                         scratches: [BootstrapScratch<T>]) throws -> [LWECiphertext<T>] {
        for (a, b) in pairs { try check(a); try check(b) }
        let combinations = pairs.map { gate.combination($0.0, $0.1) }
        var outputs = [LWECiphertext<T>](
            repeating: LWECiphertext(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint),
            count: pairs.count)
        try programmableBootstrap(batch: combinations, tables: [booleanSignTable], scratches: scratches, into: &outputs)
        return outputs
    }

    /// NOT negates the phase: no bootstrap, no noise growth.
    public func not(_ a: LWECiphertext<T>) throws -> LWECiphertext<T> {
        try check(a)
        return -a
    }

    /// condition ? a : b, as (c AND a) OR (NOT c AND b) with the OR done linearly: the two
    /// ANDs are bootstrapped to the big key, added with +1/8, then brought back by one key
    /// switch (TFHE-rs's `mux`): two bootstraps, one key switch.
    public func mux(_ condition: LWECiphertext<T>, _ a: LWECiphertext<T>, _ b: LWECiphertext<T>,
                    scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try check(condition); try check(a); try check(b)
        let scratch = scratch ?? makeScratch()
        try check(scratch)
        let minusEighth = 0 &- BooleanEncoding<T>.eighth
        let first = (condition + a).adding(constant: minusEighth)
        let second = (b - condition).adding(constant: minusEighth)
        var bigFirst = [T](repeating: 0, count: parameters.bigLWEDimension + 1)
        var bigSecond = bigFirst
        bigFirst.withUnsafeMutableBufferPointer { bootstrapToBig(first, table: booleanSignTable, scratch: scratch, into: $0.baseAddress!) }
        bigSecond.withUnsafeMutableBufferPointer { bootstrapToBig(second, table: booleanSignTable, scratch: scratch, into: $0.baseAddress!) }
        for i in 0..<bigFirst.count { bigFirst[i] = bigFirst[i] &+ bigSecond[i] }
        bigFirst[bigFirst.count - 1] = bigFirst[bigFirst.count - 1] &+ BooleanEncoding<T>.eighth
        return finish(big: bigFirst)
    }
}

/// The two-input gates that one bootstrap evaluates.
public enum BooleanGate: String, Sendable, CaseIterable {
    case and, or, nand, nor, xor, xnor

    /// Weight w and constant c (in eighths of the torus) of the combination w·(a + b) + c/8,
    /// whose sign is the gate's value (a, b ∈ {+1/8, -1/8}):
    /// AND a+b-1/8, OR a+b+1/8, NAND -a-b+1/8, NOR -a-b-1/8, XOR 2(a+b)+1/4, XNOR -2(a+b)-1/4.
    var weightAndConstant: (weight: Int, eighths: Int) {
        switch self {
        case .and: (1, -1)
        case .or: (1, 1)
        case .nand: (-1, 1)
        case .nor: (-1, -1)
        case .xor: (2, 2)
        case .xnor: (-2, -2)
        }
    }

    func combination<T: TorusScalar>(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>) -> LWECiphertext<T> {
        var result = LWECiphertext<T>(dimension: a.dimension, parameterFingerprint: a.parameterFingerprint)
        a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                result.data.withUnsafeMutableBufferPointer { combine(x.baseAddress!, y.baseAddress!, count: $0.count, into: $0.baseAddress!) }
            }
        }
        return result
    }

    /// The words of w·(a + b) + c/8 from those of a and b (`count` each, body last).
    func combine<T: TorusScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int, into output: UnsafeMutablePointer<T>) {
        let (weight, eighths) = weightAndConstant
        let w = T(truncatingIfNeeded: weight)
        for i in 0..<count { output[i] = (a[i] &+ b[i]) &* w }
        output[count - 1] = output[count - 1] &+ T(truncatingIfNeeded: eighths) &* BooleanEncoding<T>.eighth
    }
}
