import Foundation
import Testing
import TFHEKernelABI
@testable import TFHE

/// KS32 sets (TFHE-rs's KeySwitch32 atomic pattern, issue 16): the key switch from the 64-bit
/// big LWE to a small LWE on 2^32, its modulus switch from 2^32 to 2N, and everything that
/// runs a bootstrap on such a set.
@Suite("KS32 key switching")
struct KeySwitch32Tests {
    static let insecureName = "insecure_test_64_2_2_ks32"
    static let secureName = "tfhe-rs_message_2_carry_2_ks32_pbs_tuniform_2m128"
    /// The same shapes with the 64-bit key switch: what KS32 must differ from.
    static let insecure64Name = "insecure_test_64_2_2"
    static let insecure = try! IntegerTestKeys(parameterSet: insecureName, seed: 32)

    /// The phase on 2^32 of a small ciphertext under the client's small key.
    static func phase32(_ c: LWECiphertext<UInt32>, _ client: ClientKey<UInt64>) -> UInt32 {
        var phase = c.body
        for i in 0..<c.dimension where client.lweKey[i] == 1 { phase = phase &- c.data[i] }
        return phase
    }

    /// The output is a 32-bit LWE under the small key whose phase is the message times Δ on
    /// 2^32, within the key switch's noise; `keySwitch` returns the same words times 2^32.
    @Test func keySwitchDecryptsOnTheTorusOf32Bits() throws {
        let keys = Self.insecure
        let params = keys.client.parameters
        #expect(params.usesKeySwitch32 && params.postKeySwitchModulusBits == 32)
        #expect(keys.serverKey.keySwitchingKey.isKeySwitch32)
        let delta = UInt32(1) << (31 - params.messageBits - params.carryBits)
        let model = NoiseModel(parameters: params)
        // 6σ of the key switch and a fresh encryption, in words of 2^32.
        let bound = 6 * (model.keySwitchAddedVariance + params.glweNoise.variance(bitWidth: 64)).squareRoot() * 0x1p32
        #expect(bound < Double(delta) / 8)
        for m in 0..<keys.client.plaintextModulus {
            for _ in 0..<4 {
                let big = try keys.client.encrypt(m)
                let small = try keys.serverKey.keySwitch32(big)
                #expect(small.dimension == params.lweDimension)
                let error = Int32(bitPattern: Self.phase32(small, keys.client) &- UInt32(m) &* delta)
                #expect(Double(abs(Int(error))) < bound, "message \(m): error \(error) words of 2^32")
                let lifted = try keys.serverKey.keySwitch(big)
                #expect(lifted.data == small.data.map { UInt64($0) << 32 })
            }
        }
        let other = try IntegerTestKeys(parameterSet: Self.insecure64Name, seed: 3)
        #expect(throws: TFHEError.notKeySwitch32(parameterSet: other.client.parameters.name)) {
            try other.serverKey.keySwitch32(try other.client.encrypt(1))
        }
    }

    /// KS+PBS, one at a time, in a batch and with two tables at once, gives the table's value
    /// for every message.
    @Test func bootstrapEvaluatesTheTableOnEveryMessage() throws {
        let keys = Self.insecure, client = keys.client, server = keys.serverKey
        let p = client.plaintextModulus
        let f: (UInt64) -> UInt64 = { (3 * $0 + 1) % p }
        let table = server.lookupTable(f)
        let scratch = server.makeScratch()
        let inputs = try (0..<p).map { try client.encrypt($0) }
        var output = LWECiphertext<UInt64>(dimension: client.parameters.ciphertextDimension, parameterFingerprint: client.parameters.fingerprint)
        for round in 0..<3 {
            for m in 0..<p {
                try server.programmableBootstrap(try client.encrypt(m), table: table, scratch: scratch, into: &output)
                #expect(try client.decrypt(output) == f(m), "round \(round), message \(m)")
            }
        }
        var outputs = inputs
        try server.programmableBootstrap(batch: inputs, tables: [table], scratches: server.makeBatchScratch(capacity: inputs.count),
                                         into: &outputs)
        for m in 0..<p { #expect(try client.decrypt(outputs[Int(m)]) == f(m), "batch, message \(m)") }
        let two = try server.lookupTable(functions: [{ $0 }, { ($0 * $0) % p }])
        var pair = [output, output]
        for m in 0..<server.manyLookupInputBound(functionCount: 2) {
            try server.programmableBootstrap(try client.encrypt(m), table: two, scratch: scratch, into: &pair)
            #expect(try client.decrypt(pair[0]) == m && client.decrypt(pair[1]) == (m * m) % p, "many-LUT, message \(m)")
        }
        // Boolean gates bootstrap through the same key switch.
        let a = client.encrypt(true), b = client.encrypt(false)
        #expect(try client.decryptBool(try server.nand(a, b, scratch: scratch)) == true)
        #expect(try client.decryptBool(try server.and(a, b, scratch: scratch)) == false)
    }

    /// Radix integers on the KS32 set: their carries and products run through KS32 bootstraps.
    @Test func integerArithmetic() throws {
        let keys = Self.insecure
        let pairs: [(UInt8, UInt8)] = [(0, 0), (1, 255), (255, 255), (17, 200), (128, 2), (93, 61)]
        try checkBinary("add", pairs, { try $0 + $1 }, { $0 &+ $1 }, keys: keys)
        try checkBinary("mul", pairs, { try $0 * $1 }, { $0 &* $1 }, keys: keys)
        try checkPredicate("lt", pairs, { try $0.lt($1) }, { $0 < $1 }, keys: keys)
    }

    /// The server key, full and compressed, comes back from its bytes with the same 32-bit
    /// entries and bootstraps alike; a key of the KS32 set does not load under the 64-bit set
    /// of the same shapes, nor the other way round.
    @Test func serverKeyRoundTrip() throws {
        let keys = Self.insecure, params = keys.client.parameters
        let read = try ServerKey<UInt64>(serialized: keys.serverKey.serialized(), parameters: params)
        #expect(read.keySwitchingKey.isKeySwitch32)
        #expect(Array(UnsafeBufferPointer(start: read.keySwitchingKey.rows.pointer, count: read.keySwitchingKey.rows.count))
            == Array(UnsafeBufferPointer(start: keys.serverKey.keySwitchingKey.rows.pointer, count: keys.serverKey.keySwitchingKey.rows.count)))
        let table = read.lookupTable { ($0 + 5) % 16 }
        let input = try keys.client.encrypt(7)
        #expect(try read.programmableBootstrap(input, table: table).data == keys.serverKey.programmableBootstrap(input, table: table).data)

        let seed = Seed(high: 0xc32, low: 1)
        let compressed = CompressedServerKey(clientKey: keys.client, seed: seed)
        let full = ServerKey(clientKey: keys.client, seed: seed)
        let decompressed = try CompressedServerKey<UInt64>(serialized: compressed.serialized(), parameters: params).decompress()
        #expect(decompressed.keySwitchingKey.isKeySwitch32)
        #expect(Array(UnsafeBufferPointer(start: decompressed.keySwitchingKey.rows.pointer, count: decompressed.keySwitchingKey.rows.count))
            == Array(UnsafeBufferPointer(start: full.keySwitchingKey.rows.pointer, count: full.keySwitchingKey.rows.count)))
        #expect(try decompressed.keySwitch32(input).data == full.keySwitch32(input).data)

        let sibling = try TestParameters.load(Self.insecure64Name)
        #expect(sibling.fingerprint != params.fingerprint)
        #expect(throws: (any Error).self) { try ServerKey<UInt64>(serialized: keys.serverKey.serialized(), parameters: sibling) }
        let siblingKeys = try IntegerTestKeys(parameterSet: Self.insecure64Name, seed: 4)
        #expect(throws: (any Error).self) { try ServerKey<UInt64>(serialized: siblingKeys.serverKey.serialized(), parameters: params) }
    }

    /// The file field and what it may not be: a typed error naming the field, never a trap.
    @Test func parameterValidation() throws {
        let ks32: (inout [String: Any]) -> Void = {
            $0["ks"] = ["base_log": 4, "level": 4, "output_modulus_bits": 32]
            $0["lwe_noise"] = ["distribution": "tuniform", "bound_log2": 13]
        }
        let set = try ParameterSet.parse(json: ReproducibilityTests.mutated(ks32))
        #expect(set.usesKeySwitch32 && set.postKeySwitchModulusBits == 32)
        let plain = try ParameterSet.parse(json: ReproducibilityTests.mutated { _ in })
        #expect(!plain.usesKeySwitch32 && plain.postKeySwitchModulusBits == 64)
        // Stating the torus word is the same set as leaving the field out.
        let explicit = try ParameterSet.parse(json: ReproducibilityTests.mutated {
            $0["ks"] = ["base_log": 3, "level": 5, "output_modulus_bits": 64]
        })
        #expect(explicit.fingerprint == plain.fingerprint)
        let refused: [(String, (inout [String: Any]) -> Void)] = [
            ("ks.level", { ks32(&$0); $0["ks"] = ["base_log": 11, "level": 3, "output_modulus_bits": 32] }),
            ("ks.output_modulus_bits", { ks32(&$0); $0["ks"] = ["base_log": 4, "level": 4, "output_modulus_bits": 16] }),
            ("ks.output_modulus_bits", { ks32(&$0); $0["order"] = "pbs_ks" }),
            ("ks.output_modulus_bits", { ks32(&$0); $0["blind_rotation"] = ["method": "multi_bit", "grouping_factor": 2] }),
            ("lwe_noise.bound_log2", { ks32(&$0); $0["lwe_noise"] = ["distribution": "tuniform", "bound_log2": 45] }),
        ]
        for (field, change) in refused {
            do {
                _ = try ParameterSet.parse(json: ReproducibilityTests.mutated(change))
                Issue.record("accepted a file that \(field) should refuse")
            } catch let ParameterError.invalidField(name, _) {
                #expect(name == field)
            }
        }
    }

    /// The real set: 500 fresh encryptions key-switched to 2^32 and switched from there to
    /// 2N. The key switch's output variance, and the error of the phase that blind rotation
    /// reads (key switch and modulus switch, in steps of 2N, with its mean at the window's
    /// centre), are the model's within intervals of false-alarm 10^-6 (about ±31% for a
    /// variance at 500 samples).
    @Test func secureSetNoiseMatchesTheModel() throws {
        let params = try TestParameters.load(Self.secureName)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x32e, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x32e, low: 2))
        let model = NoiseModel(parameters: params, lweKeyWeight: client.lweSecretKeyWeight)
        var randomness = EncryptionRandomness(seed: Seed(high: 0x32e, low: 3))
        let n = params.lweDimension, twoN = 2 * params.polynomialSize
        var switched = [Int](repeating: 0, count: n + 1)
        var keySwitched = SampleMoments(), read = SampleMoments()
        for _ in 0..<500 {
            let big = client.encrypt(torus: 0, randomness: &randomness)
            let small = try server.keySwitch32(big)
            keySwitched.add(Double(Int32(bitPattern: Self.phase32(small, client))) * 0x1p-32)
            small.data.withUnsafeBufferPointer { input in
                switched.withUnsafeMutableBufferPointer {
                    BlindRotation.switchModulus(input.baseAddress!, parameters: params, into: $0.baseAddress!)
                }
            }
            var phase = switched[n]
            for i in 0..<n where client.lweKey[i] == 1 { phase -= switched[i] }
            phase = ((phase % twoN) + twoN) % twoN
            // The centre of the window the switched phase selects (half a step up: the body
            // is floored), brought to (-N, N].
            var error = Double(phase) + 0.5
            error -= Double(twoN) * (error / Double(twoN)).rounded()
            read.add(error)
        }
        let fresh = params.glweNoise.variance(bitWidth: 64)
        let predictedKeySwitch = fresh + model.keySwitchAddedVariance
        let predictedRead = (predictedKeySwitch + model.modulusSwitchVariance) * Double(twoN) * Double(twoN)
        print("\(Self.secureName): KS32 output variance 2^\(log2(keySwitched.meanSquare)), predicted 2^\(log2(predictedKeySwitch)); "
            + "read phase \(read.meanSquare) ± \(read.meanSquareHalfWidth) steps², predicted \(predictedRead), mean \(read.mean)")
        #expect(keySwitched.meanSquareIsConsistent(with: predictedKeySwitch))
        #expect(read.meanIsConsistent(with: 0))
        #expect(read.meanSquareIsConsistent(with: predictedRead))
        #expect(model.failureProbabilityAtMaxNoiseLog2 <= params.failureProbabilityLog2)
    }
}
