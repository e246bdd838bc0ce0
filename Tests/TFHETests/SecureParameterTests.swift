import Foundation
import Testing
import TFHEKernelABI
@testable import TFHE

/// The published, 128-bit parameter sets: correctness over many random bootstraps, gate truth
/// tables, and measured noise against the formulas of `NoiseModel`.
@Suite("Secure parameter sets", .serialized)
struct SecureParameterTests {
    static let bootstrapCount = 1000

    @Test(arguments: TestParameters.secure64 + TestParameters.secureKS32)
    func bootstrapsAtMaxNoise64(name: String) throws {
        try checkBootstrapsAtMaxNoise(UInt64.self, name: name)
    }

    /// 1,000 programmable bootstraps with random tables, each of an input at the set's maximum
    /// noise level: the sum of the last max_noise_level bootstrap outputs (as the integer layer
    /// sums blocks), whose values are kept small enough for the sum to fit. For each:
    /// - the phase that blind rotation reads (after the key switch and the modulus switch) is
    ///   measured against its window's centre: mean zero, and variance the model's for a sum
    ///   of max_noise_level outputs, both within intervals of false-alarm 10^-6;
    /// - the output decrypts to the table's value, and its noise variance is the model's,
    ///   within the same kind of interval.
    /// Consecutive inputs share all but one of their summands, but on these sets the outputs'
    /// share of the phase's variance is under 1% (the key and modulus switches dominate), so
    /// the phases are independent samples to that accuracy; the outputs' noises are.
    /// A p-fail of 2^-64 to 2^-128 sits 9 to 13σ out: only the model, held to the
    /// measured variance here, speaks for it (StatedFailureProbabilityTests).
    func checkBootstrapsAtMaxNoise<T: TorusScalar>(_: T.Type, name: String) throws {
        let params = try TestParameters.load(name)
        try #require(params.order == .keySwitchThenBootstrap)
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 0x5ec, low: UInt64(name.utf8.count)))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x5ed, low: 1))
        let model = NoiseModel(parameters: params, lweKeyWeight: client.lweSecretKeyWeight)
        let p = client.plaintextModulus, level = params.maxNoiseLevel
        // Outputs take values below `limit`, so a sum of `level` of them stays below p.
        let limit = (p - 1) / UInt64(level) + 1
        let n = params.lweDimension, twoN = 2 * params.polynomialSize
        var rng = TestGenerator(42)
        var randomness = EncryptionRandomness(seed: Seed(high: 0x5ee, low: 2))
        let scratch = server.makeScratch()
        let switchedCount = params.blindRotation.switchedCount(lweDimension: n)
        var switched = [Int](repeating: 0, count: switchedCount + 1)
        // The last `level` outputs and their values, seeded with bootstraps of fresh encryptions.
        var recent: [(LWECiphertext<T>, UInt64)] = []
        for _ in 0..<level {
            let v = UInt64.random(in: 0..<limit, using: &rng)
            let output = try server.programmableBootstrap(try client.encrypt(v, randomness: &randomness), table: server.lookupTable { $0 })
            recent.append((output, v))
        }
        var big = LWECiphertext<T>(dimension: params.bigLWEDimension, parameterFingerprint: params.fingerprint)
        var wrong = 0
        var inputError = SampleMoments(), outputError = SampleMoments()
        for round in 0..<Self.bootstrapCount {
            var input = recent[0].0
            for j in 1..<level { input += recent[j].0 }
            let m = recent.reduce(0) { $0 + $1.1 }
            let values = (0..<p).map { _ in UInt64.random(in: 0..<limit, using: &rng) }
            let table = try server.lookupTable(values: values)
            // The bootstrap, step by step (programmableBootstrap's KS then PBS), so that the
            // phase it reads can be measured.
            let small = try server.keySwitch(input)
            small.data.withUnsafeBufferPointer { s in
                switched.withUnsafeMutableBufferPointer {
                    BlindRotation.switchModulus(s.baseAddress!, parameters: params, into: $0.baseAddress!)
                }
            }
            // The phase the rotation reads: b̃ minus the exponents of the key's bits (classic,
            // block binary) or of each group's pattern of bits (multi-bit).
            var read = switched[switchedCount]
            if case .multiBit(let g) = params.blindRotation {
                for group in 0..<(n / g) {
                    var pattern = 0
                    for i in 0..<g where client.lweKey[g * group + i] == 1 { pattern |= 1 << i }
                    read -= switched[group << g | pattern]
                }
            } else {
                for i in 0..<n where client.lweKey[i] == 1 { read -= switched[i] }
            }
            // Steps from the window's centre: φ̃ + 1/2 against m's position m·2N/2p.
            var error = Double(((read % twoN) + twoN) % twoN) + 0.5 - Double(m) * Double(twoN) / Double(2 * p)
            error -= Double(twoN) * (error / Double(twoN)).rounded()
            inputError.add(error)
            try server.blindRotateAndExtract(small, table: table, scratch: scratch, into: &big)
            let expected = values[Int(m)]
            if try client.decrypt(big) != expected { wrong += 1 }
            let e = (try client.phase(big) &- T(truncatingIfNeeded: expected) &* client.delta).torusValue
            outputError.add(e)
            recent[round % level] = (big, expected)
        }
        let stepsSquared = Double(twoN) * Double(twoN)
        let predictedInput = model.varianceBeforeBlindRotation(inputVarianceFactor: Double(level)) * stepsSquared
        let predicted = model.bootstrapOutputVariance
        print("\(name): \(Self.bootstrapCount) PBS at noise level \(level), \(wrong) wrong; phase read: mean \(inputError.mean) ± \(inputError.meanHalfWidth) steps, "
            + "variance \(inputError.meanSquare) ± \(inputError.meanSquareHalfWidth), predicted \(predictedInput); output variance measured "
            + "2^\(log2(outputError.meanSquare)) (±\(Int(100 * outputError.meanSquareHalfWidth / predicted))%), predicted 2^\(log2(predicted)); "
            + "p-fail from the model at this level 2^\(model.failureProbabilityLog2(inputVarianceFactor: Double(level)))")
        #expect(wrong == 0)
        #expect(inputError.meanIsConsistent(with: 0))
        #expect(inputError.meanSquareIsConsistent(with: predictedInput))
        #expect(outputError.meanSquareIsConsistent(with: predicted))
    }

    @Test(arguments: TestParameters.secure32)
    func gatesAtMaxNoise32(name: String) throws {
        try checkGatesAtMaxNoise(UInt32.self, name: name)
    }

    /// The boolean set's maximum noise level is a gate's: two gate outputs added (doubled,
    /// with a doubled margin, for XOR and XNOR). 1,000 random gates, each on the outputs of two
    /// earlier gates: every result right, and the variance of the output noise the model's,
    /// within an interval of false-alarm 10^-6.
    func checkGatesAtMaxNoise<T: TorusScalar>(_: T.Type, name: String) throws {
        let params = try TestParameters.load(name)
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 0x5ef, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x5ef, low: 2))
        let model = NoiseModel(parameters: params, lweKeyWeight: client.lweSecretKeyWeight)
        var rng = TestGenerator(43)
        var randomness = EncryptionRandomness(seed: Seed(high: 0x5ef, low: 3))
        let scratch = server.makeScratch()
        let truth: [BooleanGate: (Bool, Bool) -> Bool] = [
            .and: { $0 && $1 }, .or: { $0 || $1 }, .nand: { !($0 && $1) }, .nor: { !($0 || $1) },
            .xor: { $0 != $1 }, .xnor: { $0 == $1 },
        ]
        // Two fresh bits, bootstrapped once (AND with itself) so that both carry a gate's noise.
        var recent: [(LWECiphertext<T>, Bool)] = []
        for bit in [true, false] {
            let (a, b) = (client.encrypt(bit, randomness: &randomness), client.encrypt(bit, randomness: &randomness))
            let output = try server.and(a, b, scratch: scratch)
            recent.append((output, bit))
        }
        var wrong = 0
        var outputError = SampleMoments()
        for round in 0..<SecureParameterTests.bootstrapCount {
            let gate = BooleanGate.allCases[Int.random(in: 0..<BooleanGate.allCases.count, using: &rng)]
            let (a, b) = (recent[0], recent[1])
            let out = try server.evaluate(gate, pairs: [(a.0, b.0)], scratches: [scratch])[0]
            let expected = truth[gate]!(a.1, b.1)
            if try client.decryptBool(out) != expected { wrong += 1 }
            let e = (try client.phase(out) &- (expected ? BooleanEncoding<T>.eighth : 0 &- BooleanEncoding<T>.eighth)).torusValue
            outputError.add(e)
            recent[round % 2] = (out, expected)
        }
        let predicted = model.bootstrapOutputVariance
        print("\(name): \(SecureParameterTests.bootstrapCount) gates on gate outputs, \(wrong) wrong; output variance measured "
            + "2^\(log2(outputError.meanSquare)) (±\(Int(100 * outputError.meanSquareHalfWidth / predicted))%), predicted 2^\(log2(predicted)); "
            + "p-fail from the model at noise level 2 (a sum) 2^\(model.failureProbabilityLog2(inputVarianceFactor: 2))")
        #expect(wrong == 0)
        #expect(outputError.meanSquareIsConsistent(with: predicted))
    }

    @Test(arguments: TestParameters.secure64 + TestParameters.secureKS32)
    func keySwitchNoise64(name: String) throws { try checkKeySwitchNoise(UInt64.self, name: name) }

    @Test(arguments: TestParameters.secure32)
    func keySwitchNoise32(name: String) throws { try checkKeySwitchNoise(UInt32.self, name: name) }

    /// Key-switched fresh encryptions: the added variance matches the formula within an
    /// interval of false-alarm 10^-6 (about ±22% at 1,000 samples).
    func checkKeySwitchNoise<T: TorusScalar>(_: T.Type, name: String) throws {
        let params = try TestParameters.load(name)
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 0x6ec, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x6ed, low: 1))
        let model = NoiseModel(parameters: params)
        var randomness = EncryptionRandomness(seed: Seed(high: 0x6ee, low: 1))
        let count = 1000
        var moments = SampleMoments()
        for _ in 0..<count {
            var big = LWECiphertext<T>(dimension: params.bigLWEDimension, parameterFingerprint: params.fingerprint)
            big.data.withUnsafeMutableBufferPointer { out in
                client.glweKey.withCoefficients {
                    LWE.encrypt(0, key: $0.baseAddress!, dimension: params.bigLWEDimension, distribution: params.glweNoise,
                                into: out.baseAddress!, randomness: &randomness)
                }
            }
            let small = try server.keySwitch(big)
            let phase = small.data.withUnsafeBufferPointer { data in
                client.lweKey.withCoefficients { LWE.phase(data.baseAddress!, key: $0.baseAddress!, dimension: params.lweDimension) }
            }
            moments.add(phase.torusValue)
        }
        let predicted = model.keySwitchAddedVariance + params.glweNoise.variance(bitWidth: T.bitWidth)
        print("\(name): key switch output variance measured 2^\(log2(moments.meanSquare)) "
            + "(±\(Int(100 * moments.meanSquareHalfWidth / predicted))%), predicted 2^\(log2(predicted))")
        #expect(moments.meanSquareIsConsistent(with: predicted))
    }

    @Test(arguments: TestParameters.secure64 + TestParameters.secure32)
    func gateTruthTables(name: String) throws {
        let params = try TestParameters.load(name)
        if params.torusBits == 32 {
            try checkGates(UInt32.self, params)
        } else {
            try checkGates(UInt64.self, params)
        }
    }

    func checkGates<T: TorusScalar>(_: T.Type, _ params: ParameterSet) throws {
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 0x9a7e, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x9a7e, low: 2))
        let scratch = server.makeScratch()
        for a in [false, true] {
            for b in [false, true] {
                let ca = client.encrypt(a), cb = client.encrypt(b)
                #expect(try client.decryptBool(try server.and(ca, cb, scratch: scratch)) == (a && b))
                #expect(try client.decryptBool(try server.or(ca, cb, scratch: scratch)) == (a || b))
                #expect(try client.decryptBool(try server.nand(ca, cb, scratch: scratch)) == !(a && b))
                #expect(try client.decryptBool(try server.nor(ca, cb, scratch: scratch)) == !(a || b))
                #expect(try client.decryptBool(try server.xor(ca, cb, scratch: scratch)) == (a != b))
                #expect(try client.decryptBool(try server.xnor(ca, cb, scratch: scratch)) == (a == b))
                #expect(try client.decryptBool(try server.not(ca)) == !a)
                for c in [false, true] {
                    #expect(try client.decryptBool(try server.mux(client.encrypt(c), ca, cb, scratch: scratch)) == (c ? a : b))
                }
            }
        }
    }
}

@Suite("Modulus switch noise")
struct ModulusSwitchTests {
    /// The error of the switch to Z_2N, measured on encryptions under the small key, against
    /// the decoding window and the model. A value's window is the 2h switched phases
    /// c - h ... c + h - 1 around its position c (`BlindRotation.switchModulus`), so the error
    /// that decides failures is φ̃ + 1/2 - c: its mean must be zero, which a second-moment
    /// test cannot see (half a step moves the variance by about 1%), and its variance the
    /// model's, the term that dominates the failure probability. Both within intervals of
    /// false-alarm 10^-6 from 16,000 samples (mean ±0.2 steps, variance ±6%).
    @Test(arguments: [
        ("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128", ModulusSwitch.centeredMean),
        ("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128", ModulusSwitch.standard),
        ("tfhe-rs_v0_11_message_2_carry_2_ks_pbs_gaussian_2m64", ModulusSwitch.standard),
        ("tfhe-rs_boolean_default", ModulusSwitch.standard),
    ])
    func switchErrorIsCentredAndMatchesTheModel(name: String, mode: ModulusSwitch) throws {
        let params = ParameterSet(copying: try TestParameters.load(name), modulusSwitch: mode)
        if params.torusBits == 32 { try check(UInt32.self, params, name: name) } else { try check(UInt64.self, params, name: name) }
    }

    func check<T: TorusScalar>(_: T.Type, _ params: ParameterSet, name: String) throws {
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 0x3a, low: 1))
        var randomness = EncryptionRandomness(seed: Seed(high: 0x3b, low: 1))
        let n = params.lweDimension, twoN = 2 * params.polynomialSize
        let logTwoN = twoN.trailingZeroBitCount
        let switchedCount = params.blindRotation.switchedCount(lweDimension: n)
        var switched = [Int](repeating: 0, count: switchedCount + 1)
        var ciphertext = [T](repeating: 0, count: n + 1)
        var moments = SampleMoments()
        for _ in 0..<16_000 {
            client.lweKey.withCoefficients { key in
                ciphertext.withUnsafeMutableBufferPointer {
                    LWE.encrypt(0, key: key.baseAddress!, dimension: n, distribution: .gaussian(standardDeviation: 1e-9),
                                into: $0.baseAddress!, randomness: &randomness)
                }
            }
            let phase = ciphertext.withUnsafeBufferPointer { data in
                client.lweKey.withCoefficients { LWE.phase(data.baseAddress!, key: $0.baseAddress!, dimension: n) }
            }
            ciphertext.withUnsafeBufferPointer { input in
                switched.withUnsafeMutableBufferPointer {
                    BlindRotation.switchModulus(input.baseAddress!, dimension: n, logTwoN: logTwoN, mode: params.modulusSwitch,
                                                into: $0.baseAddress!)
                }
            }
            var switchedPhase = switched[n]
            for i in 0..<n where client.lweKey[i] == 1 { switchedPhase -= switched[i] }
            switchedPhase = ((switchedPhase % twoN) + twoN) % twoN
            // In steps of the switch: the centre of the window that φ̃ selects, minus the
            // exact phase, brought to (-N, N].
            var error = Double(switchedPhase) + 0.5 - Double(twoN) * phase.torusValue
            error -= Double(twoN) * (error / Double(twoN)).rounded()
            moments.add(error)
        }
        let model = NoiseModel(parameters: params, lweKeyWeight: client.lweSecretKeyWeight)
        let predicted = model.modulusSwitchVariance * Double(twoN) * Double(twoN)
        print("\(name) \(params.modulusSwitch.rawValue): modulus switch error mean \(moments.mean) ± \(moments.meanHalfWidth) steps, "
            + "variance \(moments.meanSquare) ± \(moments.meanSquareHalfWidth), predicted \(predicted)")
        #expect(moments.meanIsConsistent(with: 0), "the switched value is off centre in its window")
        #expect(moments.meanSquareIsConsistent(with: predicted))
    }
}

@Suite("Stated failure probabilities")
struct StatedFailureProbabilityTests {
    static let allSets = TestParameters.secure64 + TestParameters.secure32 + TestParameters.secureKS32
        + ["insecure_test_64", "insecure_test_32", "insecure_test_64_2_2", "insecure_test_64_2_2_ks32", "insecure_test_reduced_margin"]
        + GroupedBlindRotationTests.sets

    /// No file states a p-fail that the model does not deliver at the set's maximum noise
    /// level, in the worst case (one bootstrap output times the level), with the window where
    /// the modulus switch puts it.
    @Test(arguments: allSets)
    func modelDeliversTheStatedFailureProbability(name: String) throws {
        let params = try TestParameters.load(name)
        let model = NoiseModel(parameters: params)
        print("\(name): p-fail at noise level \(params.maxNoiseLevel) from the model 2^\(model.failureProbabilityAtMaxNoiseLog2), "
            + "stated 2^\(params.failureProbabilityLog2); at level 1 2^\(model.failureProbabilityLog2)")
        #expect(model.decodingWindowOffset == 0)
        #expect(model.failureProbabilityAtMaxNoiseLog2 <= params.failureProbabilityLog2)
    }

    /// The check has teeth: with the window half a step off centre (the rounded body of the
    /// switch before it was floored), the 2M128 sets miss their stated figures at noise level
    /// 5 by about a bit (the TUniform set: 2^-127.7 against 2^-128.5).
    @Test(arguments: ["tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128", "tfhe-rs_message_2_carry_2_ks_pbs_gaussian_2m128"])
    func offCentreWindowMissesTheStatedFailureProbability(name: String) throws {
        let params = try TestParameters.load(name)
        let model = NoiseModel(parameters: params)
        let level = NoiseModel.worstCaseVarianceFactor(noiseLevel: params.maxNoiseLevel)
        let halfStep = 1 / (4 * Double(params.polynomialSize))
        let offCentre = model.failureProbabilityLog2(inputVarianceFactor: level, windowOffset: halfStep)
        print("\(name): p-fail at noise level \(params.maxNoiseLevel) with the window off centre 2^\(offCentre)")
        #expect(offCentre > params.failureProbabilityLog2)
        // A sum of five outputs (factor 5, not the worst case's 25) would have hidden it.
        let sumOfFive = model.failureProbabilityLog2(inputVarianceFactor: Double(params.maxNoiseLevel), windowOffset: halfStep)
        #expect(sumOfFive <= params.failureProbabilityLog2)
    }

    /// The asymptotic series takes over from erfc where it would underflow: near the switch
    /// both must agree.
    @Test func tailFormula() {
        #expect(abs(NoiseModel.log2HalfErfc(1) - log2(erfc(1) / 2)) < 1e-12)
        let x = 26.0  // erfc(x) ≈ 2^-981, still above the switch
        let series = (-x * x - log(x * Double.pi.squareRoot()) + log(1 - 1 / (2 * x * x) + 3 / (4 * x * x * x * x))) / log(2.0) - 1
        #expect(abs(NoiseModel.log2HalfErfc(x) - series) < 1e-6)
        #expect(NoiseModel.log2HalfErfc(40) < -2300 && NoiseModel.log2HalfErfc(40).isFinite)
    }
}
