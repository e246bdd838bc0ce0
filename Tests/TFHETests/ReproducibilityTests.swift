import Foundation
import Testing
@testable import TFHE

@Suite("Seeds, parameter checks and parameter files")
struct ReproducibilityTests {
    @Test func sameSeedSameKeysAndCiphertexts() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let seed = Seed(high: 11, low: 12)
        let a = try ClientKey<UInt64>(parameters: params, seed: seed)
        let b = try ClientKey<UInt64>(parameters: params, seed: seed)
        #expect(a.lweKey.hasSameCoefficients(as: b.lweKey))
        #expect(a.glweKey.hasSameCoefficients(as: b.glweKey))
        let serverA = ServerKey(clientKey: a, seed: seed), serverB = ServerKey(clientKey: b, seed: seed)
        #expect(serverA.keySwitchingKey.rows.array == serverB.keySwitchingKey.rows.array)
        #expect(serverA.bootstrappingKey.storage.array == serverB.bootstrappingKey.storage.array)
        var r1 = EncryptionRandomness(seed: seed), r2 = EncryptionRandomness(seed: seed)
        #expect(try a.encrypt(3, randomness: &r1) == (try b.encrypt(3, randomness: &r2)))
    }

    @Test func differentSeedsDiffer() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let a = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 1, low: 1))
        let b = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 1, low: 2))
        #expect(!a.glweKey.hasSameCoefficients(as: b.glweKey))
        var r1 = EncryptionRandomness(seed: Seed(high: 5, low: 1)), r2 = EncryptionRandomness(seed: Seed(high: 5, low: 2))
        #expect(try a.encrypt(3, randomness: &r1) != (try a.encrypt(3, randomness: &r2)))
    }

    @Test func generatorMatchesTheAESKeystream() {
        // The stream is AES-128-CTR: block 0 under the all-zero key is AES_0(0), the FIPS-197
        // known answer 66e94bd4ef8a2c3b884cfa59ca342b2e.
        var generator = AESCTRGenerator(seed: Seed(high: 0, low: 0))
        #expect(generator.next() == UInt64(littleEndian: 0x3b2c_8aef_d44b_e966))
        #expect(generator.next() == UInt64(littleEndian: 0x2e2b_34ca_59fa_4c88))
    }

    /// NIST SP 800-38A, F.5.1 (CTR-AES128.Encrypt): a non-zero key, initial counter
    /// f0f1...feff, four blocks; the keystream is ciphertext XOR plaintext. The engine's
    /// generator always starts from counter zero (`init(seed:)`), so the vectors go through
    /// the test-only init that sets key and counter; the counter layout and its 128-bit
    /// big-endian increment are SP 800-38A's. Refills of 1, 2, 3 and 512 blocks put the
    /// buffer's boundaries between, inside and past the four blocks.
    @Test func generatorMatchesSP800_38A() {
        func bytes(_ hex: String) -> [UInt8] {
            stride(from: 0, to: hex.count, by: 2).map {
                UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)!
            }
        }
        let key = bytes("2b7e151628aed2a6abf7158809cf4f3c")
        let plaintext = bytes("6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51"
            + "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710")
        let ciphertext = bytes("874d6191b620e3261bef6864990db6ce" + "9806f66b7970fdff8617187bb9fffdff"
            + "5ae4df3edbd5d35e5b4f09020db03eab" + "1e031dda2fbe03d1792170a0f3009cee")
        let keystream = zip(plaintext, ciphertext).map { $0 ^ $1 }
        // The generator's words are the keystream read as little-endian 64-bit words.
        var words = [UInt64](repeating: 0, count: 8)
        for (index, byte) in keystream.enumerated() { words[index / 8] |= UInt64(byte) << (8 * (index % 8)) }
        for refill in [1, 2, 3, 512] {
            var generator = AESCTRGenerator(key: key, counterHigh: 0xf0f1_f2f3_f4f5_f6f7, counterLow: 0xf8f9_fafb_fcfd_feff,
                                            blocksPerRefill: refill)
            #expect((0..<8).map { _ in generator.next() } == words, "refills of \(refill) blocks")
        }
    }

    /// The counter carries across 32 and 64 bits alike whether BoringSSL increments it within
    /// a refill or the generator between refills; and `init(seed:)` is this layout from zero.
    @Test func generatorCounterCarriesAcrossRefills() {
        let key = (0..<16).map { UInt8($0 * 17) }
        for (high, low) in [(UInt64(0), UInt64(0xffff_fffe)), (0, UInt64.max - 1), (UInt64.max, UInt64.max - 1)] {
            var streams = [1, 3, 512].map { AESCTRGenerator(key: key, counterHigh: high, counterLow: low, blocksPerRefill: $0) }
            let reference = (0..<16).map { _ in streams[2].next() }
            #expect((0..<16).map { _ in streams[0].next() } == reference)
            #expect((0..<16).map { _ in streams[1].next() } == reference)
            // Block 2 is the carried counter itself.
            let (carriedLow, carry) = low.addingReportingOverflow(2)
            var direct = AESCTRGenerator(key: key, counterHigh: carry ? high &+ 1 : high, counterLow: carriedLow, blocksPerRefill: 1)
            #expect([direct.next(), direct.next()] == Array(reference[4..<6]))
        }
        let seed = Seed(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)
        var production = AESCTRGenerator(seed: seed)
        var layout = AESCTRGenerator(key: seed.bytes, counterHigh: 0, counterLow: 0, blocksPerRefill: 7)
        #expect((0..<2100).map { _ in production.next() } == (0..<2100).map { _ in layout.next() })
    }

    @Test func ciphertextOfAnotherSetIsATypedError() throws {
        let small = try TestParameters.load(TestParameters.insecure64)
        let other = try TestParameters.load("concrete_4bit_n807_k2_n1024")
        let clientSmall = try ClientKey<UInt64>(parameters: small, seed: Seed(high: 1, low: 1))
        let serverSmall = ServerKey(clientKey: clientSmall, seed: Seed(high: 1, low: 1))
        let foreign = LWECiphertext<UInt64>(dimension: other.ciphertextDimension, parameterFingerprint: other.fingerprint)
        #expect(throws: TFHEError.self) { try serverSmall.programmableBootstrap(foreign, table: serverSmall.lookupTable { $0 }) }
        #expect(throws: TFHEError.self) { try clientSmall.decrypt(foreign) }
        #expect(throws: TFHEError.self) { try serverSmall.and(foreign, foreign) }
        // Same fingerprint but a wrong dimension (a corrupted object) is refused too.
        let truncated = LWECiphertext<UInt64>(dimension: 3, parameterFingerprint: small.fingerprint)
        #expect(throws: TFHEError.dimensionMismatch(expected: small.ciphertextDimension, found: 3)) { try clientSmall.decrypt(truncated) }
        // Scratch space of another set would be overrun: refused, in every entry point.
        let otherServer = ServerKey(clientKey: try ClientKey<UInt64>(parameters: try TestParameters.load("insecure_test_reduced_margin"),
                                                                     seed: Seed(high: 2, low: 2)), seed: Seed(high: 2, low: 3))
        let foreignScratch = otherServer.makeScratch()
        var output = LWECiphertext<UInt64>(dimension: small.ciphertextDimension, parameterFingerprint: small.fingerprint)
        let fresh = try clientSmall.encrypt(1)
        #expect(throws: TFHEError.self) {
            try serverSmall.programmableBootstrap(fresh, table: serverSmall.lookupTable { $0 }, scratch: foreignScratch, into: &output)
        }
        #expect(throws: TFHEError.self) { try serverSmall.and(fresh, fresh, scratch: foreignScratch) }
        #expect(throws: TFHEError.self) { try serverSmall.cmux(keyIndex: 0, rotation: 1, scratch: foreignScratch) }
        #expect(throws: TFHEError.self) { try serverSmall.cmux(keyIndex: small.lweDimension, rotation: 1, scratch: serverSmall.makeScratch()) }
        // A 32-bit set cannot make 64-bit keys.
        let boolean = try TestParameters.load("tfhe-rs_boolean_default")
        #expect(throws: TFHEError.self) { try ClientKey<UInt64>(parameters: boolean) }
    }

    /// The maximum noise level is the set's (TFHE-rs keeps it per set), and it is what the
    /// evaluator enforces.
    @Test func maxNoiseLevelComesFromTheFile() throws {
        let expected = [
            "tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128": 5, "tfhe-rs_message_2_carry_2_ks_pbs_gaussian_2m128": 5,
            "tfhe-rs_v0_11_message_2_carry_2_ks_pbs_gaussian_2m64": 5, "tfhe-rs_boolean_default": 2,
            "concrete_4bit_n807_k2_n1024": 1, "insecure_test_64": 3,
        ]
        for (name, level) in expected {
            let set = try TestParameters.load(name)
            #expect(set.maxNoiseLevel == level, "\(name)")
            #expect(ShortintEncoding(parameters: set).maxNoiseLevel == UInt64(level), "\(name)")
        }
        // Another level in the file is another limit in the evaluator.
        let three = try ParameterSet.parse(json: Self.mutated { $0["max_noise_level"] = 3 })
        #expect(ShortintEncoding(parameters: three).maxNoiseLevel == 3)
        let encoding = ShortintEncoding(parameters: three)
        let lwe = LWECiphertext<UInt64>(dimension: three.ciphertextDimension, parameterFingerprint: three.fingerprint)
        #expect(throws: TFHEError.self) { try encoding.validate(ShortintCiphertext(lwe: lwe, degree: 0, noiseLevel: 4)) }
        try encoding.validate(ShortintCiphertext(lwe: lwe, degree: 0, noiseLevel: 3))
    }

    /// The 32-bit key-switching key: decompositions up to 32 bits are accepted, past them
    /// refused with a typed error, and the 64-bit TFHE-rs sets say that they deviate.
    @Test func keySwitchDecompositionFitsTheKeysWords() throws {
        _ = try ParameterSet.parse(json: Self.mutated { $0["ks"] = ["base_log": 8, "level": 4] })
        #expect(throws: ParameterError.self) { try ParameterSet.parse(json: Self.mutated { $0["ks"] = ["base_log": 11, "level": 3] }) }
        #expect(throws: ParameterError.self) {
            try KeySwitchingKey<UInt64>.validate(decomposition: GadgetDecomposition(baseLog: 3, levelCount: 11), torusBits: 64)
        }
        try KeySwitchingKey<UInt32>.validate(decomposition: GadgetDecomposition(baseLog: 4, levelCount: 8), torusBits: 32)
        for name in TestParameters.secure64 {
            let note = try TestParameters.load(name).engineNote ?? ""
            #expect(note.contains("32 bits") && note.contains("Deviation"), "\(name)")
        }
    }

    /// The concrete set is for benchmarks: it loads (benchmarks and tools read it), but keys
    /// for real data refuse it unless explicitly allowed; the TFHE-rs sets are usable.
    @Test func benchmarkOnlySetIsRefusedForProductionKeys() throws {
        let concrete = try ParameterSet.load(contentsOf: TestParameters.folder.appendingPathComponent("concrete_4bit_n807_k2_n1024.json"))
        #expect(concrete.benchmarkOnly)
        #expect(throws: ParameterError.benchmarkOnlySetRefused(name: concrete.name)) { try concrete.checkUsableForProductionKeys() }
        try concrete.checkUsableForProductionKeys(allowBenchmarkOnly: true)
        for name in TestParameters.benchmarkOnly {
            let set = try TestParameters.load(name)
            #expect(set.benchmarkOnly, "\(name)")
            #expect(throws: ParameterError.benchmarkOnlySetRefused(name: set.name)) { try set.checkUsableForProductionKeys() }
        }
        for name in TestParameters.secure64 + TestParameters.secure32 + TestParameters.secureKS32
        where !TestParameters.benchmarkOnly.contains(name) {
            let set = try TestParameters.load(name)
            #expect(!set.benchmarkOnly)
            try set.checkUsableForProductionKeys()
        }
        let insecure = try TestParameters.load(TestParameters.insecure64)
        #expect(throws: ParameterError.insecureSetRefused(name: insecure.name)) { try insecure.checkUsableForProductionKeys(allowBenchmarkOnly: true) }
        #expect(throws: ParameterError.self) { try ParameterSet.parse(json: Self.mutated { $0["benchmark_only"] = "yes" }) }
    }

    @Test func everyShippedFileLoads() throws {
        for name in TestParameters.secure64 + TestParameters.secure32 + TestParameters.secureKS32 {
            let set = try ParameterSet.load(contentsOf: TestParameters.folder.appendingPathComponent(name + ".json"))
            #expect(!set.insecure)
        }
        #expect(throws: ParameterError.insecureSetRefused(name: "INSECURE_TEST_64_N256")) {
            try ParameterSet.load(contentsOf: TestParameters.folder.appendingPathComponent("insecure_test_64.json"))
        }
    }

    static func mutated(_ change: (inout [String: Any]) -> Void) -> Data {
        var object: [String: Any] = [
            "name": "X", "source": "test", "insecure": false, "security_bits": 128, "p_fail_log2": -64,
            "torus_bits": 64, "lwe_dimension": 834, "glwe_dimension": 1, "polynomial_size": 2048,
            "lwe_noise": ["distribution": "gaussian", "std_dev": 3.5e-6],
            "glwe_noise": ["distribution": "tuniform", "bound_log2": 17],
            "pbs": ["base_log": 23, "level": 1], "ks": ["base_log": 3, "level": 5],
            "message_bits": 2, "carry_bits": 2, "max_noise_level": 5, "order": "ks_pbs", "modulus_switch": "standard",
        ]
        change(&object)
        return try! JSONSerialization.data(withJSONObject: object)
    }

    @Test func malformedFilesNameTheField() throws {
        _ = try ParameterSet.parse(json: Self.mutated { _ in })
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("polynomial_size", { $0["polynomial_size"] = 2000 }),
            ("pbs.level", { $0["pbs"] = ["base_log": 23, "level": 3] }),
            ("ks.level", { $0["ks"] = ["base_log": 30, "level": 3] }),
            ("lwe_dimension", { $0.removeValue(forKey: "lwe_dimension") }),
            ("glwe_noise.distribution", { $0["glwe_noise"] = ["distribution": "laplace", "std_dev": 1e-9] }),
            ("lwe_noise.std_dev", { $0["lwe_noise"] = ["distribution": "gaussian"] }),
            ("torus_bits", { $0["torus_bits"] = 48 }),
            ("order", { $0["order"] = "sideways" }),
            ("security_bits", { $0["security_bits"] = 80 }),
            ("insecure", { $0["insecure"] = "no" }),
            ("message_bits", { $0["message_bits"] = 8; $0["carry_bits"] = 8 }),
            // 36 bits of levels, past the 32 bits the key-switching key keeps.
            ("ks.level", { $0["ks"] = ["base_log": 4, "level": 9] }),
            ("max_noise_level", { $0.removeValue(forKey: "max_noise_level") }),
            ("max_noise_level", { $0["max_noise_level"] = 0 }),
            ("max_noise_level", { $0["max_noise_level"] = 2.5 }),
        ]
        for (field, change) in cases {
            do {
                _ = try ParameterSet.parse(json: Self.mutated(change))
                Issue.record("accepted a file with a bad \(field)")
            } catch let error as ParameterError {
                #expect(error.description.contains(field), "\(error) should name \(field)")
            }
        }
        #expect(throws: ParameterError.self) { try ParameterSet.parse(json: Data("{not json".utf8)) }
        #expect(throws: ParameterError.self) { try ParameterSet.parse(json: Data("[1, 2]".utf8)) }
    }
}
