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
            case .keySwitchThenBootstrap:
                keySwitchingKey.keySwitch(inp.baseAddress!, into: scratch.small.pointer, sum: scratch.keySwitchSums.pointer)
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
                output.data.withUnsafeMutableBufferPointer { keySwitchingKey.keySwitch(b.baseAddress!, into: $0.baseAddress!) }
            }
            return output
        }
    }

    private var signTable: LookupTable<T> {
        LookupTable(polynomialSize: parameters.polynomialSize, constant: BooleanEncoding<T>.eighth)
    }

    /// Bootstraps w_a·a + w_b·b + constant (a linear combination whose sign is the gate's value).
    private func gate(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, weight: T, constantEighths: Int,
                      scratch: BootstrapScratch<T>?) throws -> LWECiphertext<T> {
        try check(a)
        try check(b)
        if let scratch { try check(scratch) }
        let constant = T(truncatingIfNeeded: constantEighths) &* BooleanEncoding<T>.eighth
        let combination = ((a + b) * weight).adding(constant: constant)
        var big = [T](repeating: 0, count: parameters.bigLWEDimension + 1)
        big.withUnsafeMutableBufferPointer {
            bootstrapToBig(combination, table: signTable, scratch: scratch ?? makeScratch(), into: $0.baseAddress!)
        }
        return finish(big: big)
    }

    // Each gate's combination, in eighths of the torus (a, b ∈ {+1, -1}):
    // AND a+b-1, OR a+b+1, NAND -a-b+1, NOR -a-b-1, XOR 2(a+b)+2, XNOR -2(a+b)-2.
    public func and(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(a, b, weight: 1, constantEighths: -1, scratch: scratch)
    }
    public func or(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(a, b, weight: 1, constantEighths: 1, scratch: scratch)
    }
    public func nand(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(a, b, weight: 0 &- 1, constantEighths: 1, scratch: scratch)
    }
    public func nor(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(a, b, weight: 0 &- 1, constantEighths: -1, scratch: scratch)
    }
    public func xor(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(a, b, weight: 2, constantEighths: 2, scratch: scratch)
    }
    public func xnor(_ a: LWECiphertext<T>, _ b: LWECiphertext<T>, scratch: BootstrapScratch<T>? = nil) throws -> LWECiphertext<T> {
        try gate(a, b, weight: 0 &- 2, constantEighths: -2, scratch: scratch)
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
        bigFirst.withUnsafeMutableBufferPointer { bootstrapToBig(first, table: signTable, scratch: scratch, into: $0.baseAddress!) }
        bigSecond.withUnsafeMutableBufferPointer { bootstrapToBig(second, table: signTable, scratch: scratch, into: $0.baseAddress!) }
        for i in 0..<bigFirst.count { bigFirst[i] = bigFirst[i] &+ bigSecond[i] }
        bigFirst[bigFirst.count - 1] = bigFirst[bigFirst.count - 1] &+ BooleanEncoding<T>.eighth
        return finish(big: bigFirst)
    }
}
