import Foundation
import Testing
@testable import TFHE

@Suite("Programmable bootstrapping on the insecure test sets")
struct BootstrapTests {
    @Test func encryptDecrypt() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 1, low: 2))
        for m in UInt64(0)..<4 { #expect(try client.decrypt(try client.encrypt(m)) == m) }
        #expect(throws: TFHEError.messageOutOfRange(value: 4, modulus: 4)) { try client.encrypt(4) }
    }

    @Test func keySwitchKeepsTheMessage() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 1, low: 3))
        let server = ServerKey(clientKey: client, seed: Seed(high: 1, low: 4))
        for m in UInt64(0)..<4 {
            let switched = try server.keySwitch(try client.encrypt(m))
            let phase = switched.data.withUnsafeBufferPointer { data in
                client.lweKey.withCoefficients { LWE.phase(data.baseAddress!, key: $0.baseAddress!, dimension: params.lweDimension) }
            }
            #expect((phase &- m &* client.delta).torusValue.magnitude < 1.0 / 64)
        }
    }

    @Test func randomLookupTables() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 1, low: 5))
        let server = ServerKey(clientKey: client, seed: Seed(high: 1, low: 6))
        var rng = TestGenerator(7)
        let scratch = server.makeScratch()
        for _ in 0..<50 {
            let values = (0..<4).map { _ in UInt64.random(in: 0..<4, using: &rng) }
            let table = try server.lookupTable(values: values)
            let m = UInt64.random(in: 0..<4, using: &rng)
            var out = LWECiphertext<UInt64>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
            try server.programmableBootstrap(try client.encrypt(m), table: table, scratch: scratch, into: &out)
            #expect(try client.decrypt(out) == values[Int(m)])
        }
    }

    @Test func gatesOn32BitTorus() throws {
        let params = try TestParameters.load(TestParameters.insecure32)
        let client = try ClientKey<UInt32>(parameters: params, seed: Seed(high: 2, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 2, low: 2))
        for a in [false, true] {
            for b in [false, true] {
                let ca = client.encrypt(a), cb = client.encrypt(b)
                #expect(try client.decryptBool(try server.and(ca, cb)) == (a && b))
                #expect(try client.decryptBool(try server.or(ca, cb)) == (a || b))
                #expect(try client.decryptBool(try server.nand(ca, cb)) == !(a && b))
                #expect(try client.decryptBool(try server.nor(ca, cb)) == !(a || b))
                #expect(try client.decryptBool(try server.xor(ca, cb)) == (a != b))
                #expect(try client.decryptBool(try server.xnor(ca, cb)) == (a == b))
                #expect(try client.decryptBool(try server.not(ca)) == !a)
                for c in [false, true] {
                    #expect(try client.decryptBool(try server.mux(client.encrypt(c), ca, cb)) == (c ? a : b))
                }
            }
        }
    }
}

@Suite("Gates into a reused output")
struct InPlaceGateTests {
    /// `evaluate(_:_:_:scratch:into:)` gives the same words as the gate functions, in both
    /// bootstrap orders, and an output of another dimension is a typed error.
    @Test(arguments: [TestParameters.insecure64, TestParameters.insecure32])
    func sameCiphertextsAsTheGateFunctions(name: String) throws {
        let params = try TestParameters.load(name)
        if params.torusBits == 32 { try check(UInt32.self, params) } else { try check(UInt64.self, params) }
    }

    func check<T: TorusScalar>(_: T.Type, _ params: ParameterSet) throws {
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 9, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 9, low: 2))
        let scratch = server.makeScratch()
        var output = LWECiphertext<T>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
        let functions: [BooleanGate: (LWECiphertext<T>, LWECiphertext<T>) throws -> LWECiphertext<T>] = [
            .and: { try server.and($0, $1) }, .or: { try server.or($0, $1) }, .nand: { try server.nand($0, $1) },
            .nor: { try server.nor($0, $1) }, .xor: { try server.xor($0, $1) }, .xnor: { try server.xnor($0, $1) },
        ]
        for a in [false, true] {
            for b in [false, true] {
                let ca = client.encrypt(a), cb = client.encrypt(b)
                for gate in BooleanGate.allCases {
                    try server.evaluate(gate, ca, cb, scratch: scratch, into: &output)
                    #expect(output == (try functions[gate]!(ca, cb)), "\(gate) \(a) \(b)")
                }
            }
        }
        // Only a ciphertext can be the output; a wrong dimension is refused before any work.
        var wrong = LWECiphertext<T>(dimension: params.ciphertextDimension + 1, parameterFingerprint: params.fingerprint)
        #expect(throws: TFHEError.self) { try server.evaluate(.and, output, output, scratch: scratch, into: &wrong) }
    }
}

@Suite("Batched bootstrapping")
struct BatchedBootstrapTests {
    /// Every gate over all four input pairs in one batch: the truth tables, and the same
    /// ciphertexts as the one-at-a-time gates.
    @Test func batchedGates() throws {
        let params = try TestParameters.load(TestParameters.insecure32)
        let client = try ClientKey<UInt32>(parameters: params, seed: Seed(high: 8, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 8, low: 2))
        let bits = [(false, false), (false, true), (true, false), (true, true)]
        let pairs = bits.map { (client.encrypt($0.0), client.encrypt($0.1)) }
        let scratches = server.makeBatchScratch(capacity: 4)
        let truth: [BooleanGate: (Bool, Bool) -> Bool] = [
            .and: { $0 && $1 }, .or: { $0 || $1 }, .nand: { !($0 && $1) }, .nor: { !($0 || $1) },
            .xor: { $0 != $1 }, .xnor: { $0 == $1 },
        ]
        for gate in BooleanGate.allCases {
            let outputs = try server.evaluate(gate, pairs: pairs, scratches: scratches)
            for (index, (a, b)) in bits.enumerated() {
                #expect(try client.decryptBool(outputs[index]) == truth[gate]!(a, b), "\(gate) \(a) \(b)")
            }
        }
        let single = try server.xor(pairs[1].0, pairs[1].1)
        #expect(try server.evaluate(.xor, pairs: [pairs[1]], scratches: scratches)[0] == single)
    }

    /// A batch does the same arithmetic as one-by-one bootstraps, in another order: the
    /// outputs are identical, word for word, in both bootstrap orders.
    @Test(arguments: [TestParameters.insecure64, TestParameters.insecure32])
    func batchEqualsOneByOne(name: String) throws {
        let params = try TestParameters.load(name)
        if params.torusBits == 32 { try check(UInt32.self, params) } else { try check(UInt64.self, params) }
    }

    func check<T: TorusScalar>(_: T.Type, _ params: ParameterSet) throws {
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 7, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 7, low: 2))
        let p = client.plaintextModulus
        let inputs = try (0..<5).map { try client.encrypt(UInt64($0) % p) }
        let tables = (0..<5).map { k in server.lookupTable { ($0 + UInt64(k)) % p } }
        var outputs = [LWECiphertext<T>](
            repeating: LWECiphertext(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint), count: 5)
        try server.programmableBootstrap(batch: inputs, tables: tables, scratches: server.makeBatchScratch(capacity: 5), into: &outputs)
        for b in 0..<5 {
            #expect(outputs[b] == (try server.programmableBootstrap(inputs[b], table: tables[b])))
            #expect(try client.decrypt(outputs[b]) == (UInt64(b) % p + UInt64(b)) % p)
        }
        // Mismatched sizes and a scratch shared by two ciphertexts are typed errors.
        #expect(throws: TFHEError.self) {
            try server.programmableBootstrap(batch: inputs, tables: tables, scratches: server.makeBatchScratch(capacity: 2), into: &outputs)
        }
        let shared = server.makeScratch()
        #expect(throws: TFHEError.self) {
            try server.programmableBootstrap(batch: inputs, tables: tables, scratches: Array(repeating: shared, count: 5), into: &outputs)
        }
    }
}

@Suite("Failure rate against the noise model")
struct FailureRateTests {
    /// The measured count of failures must fall in the binomial interval of the prediction,
    /// with a false-alarm rate of about 10^-6 (normal approximation, continuity-corrected).
    static func expectCount(_ failures: Int, trials: Int, predicted: Double, _ label: String) {
        let mean = Double(trials) * predicted
        let halfWidth = SampleMoments.z * (mean * (1 - predicted)).squareRoot() + 0.5
        print("reduced-margin set, \(label): \(failures) failures in \(trials), predicted \(mean) ± \(halfWidth)")
        #expect(abs(Double(failures) - mean) <= halfWidth, "\(label)")
    }

    /// A set with a reduced margin must fail as often as `NoiseModel` predicts at its maximum
    /// noise level: if the model missed or overstated a noise term, or the window were off
    /// centre, the rate would be off. Each trial bootstraps the sum of max_noise_level (4)
    /// fresh bootstrap outputs, as the integer layer sums blocks: 5 bootstraps, of which the
    /// first 4 only make the operands (their values, not their messages, are what the sum
    /// holds, so their own rare failures do not count).
    @Test func failureRateOfSumsAtMaxNoise() throws {
        let params = try TestParameters.load("insecure_test_reduced_margin")
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0xfa11, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0xfa11, low: 2))
        let model = NoiseModel(parameters: params, lweKeyWeight: client.lweSecretKeyWeight)
        let level = params.maxNoiseLevel
        let predicted = pow(2.0, model.failureProbabilityLog2(inputVarianceFactor: Double(level)))
        #expect(params.modulusSwitch == .centeredMean)
        #expect(predicted > 0.01 && predicted < 0.1, "the set should fail measurably, not mostly")
        let p = client.plaintextModulus
        let identity = server.lookupTable { $0 }
        let scratch = server.makeScratch()
        var rng = TestGenerator(0xfa11)
        var randomness = EncryptionRandomness(seed: Seed(high: 0xfa11, low: 3))
        var operand = LWECiphertext<UInt64>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
        var output = operand
        let trials = 3000
        var failures = 0
        for _ in 0..<trials {
            // Operands with values in {0, 1} (so the sum of 4 fits in 3 bits), from messages
            // 1...6, whose neighbours are still messages (no wrap to a negated value).
            var sum = LWECiphertext<UInt64>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
            var value: UInt64 = 0
            for _ in 0..<level {
                let bits = (0..<p).map { _ in UInt64.random(in: 0...1, using: &rng) }
                let m = UInt64.random(in: 1...(p - 2), using: &rng)
                try server.programmableBootstrap(try client.encrypt(m, randomness: &randomness), table: try server.lookupTable(values: bits),
                                                 scratch: scratch, into: &operand)
                sum += operand
                value += try client.decrypt(operand)
            }
            try server.programmableBootstrap(sum, table: identity, scratch: scratch, into: &output)
            if try client.decrypt(output) != value { failures += 1 }
        }
        Self.expectCount(failures, trials: trials, predicted: predicted, "sums of \(level) outputs")
    }
}
