import Foundation
import Testing
@testable import TFHE

@Suite("Public-key encryption (compact public key, eprint 2023/603)")
struct PublicKeyTests {
    /// Encrypts `samples` messages with the public key, checks each decrypts, and checks the
    /// errors against the noise model: their spread about their mean is the model's spread for
    /// one key (±15%), and their mean, the key's fixed offset, is within 6 of its standard
    /// deviations over keys (σ²·N/4).
    static func checkEncryptions(_ key: PublicKey<UInt64>, _ client: ClientKey<UInt64>, samples: Int, seed: Seed) throws {
        let params = client.parameters
        let model = NoiseModel(parameters: params)
        var randomness = EncryptionRandomness(seed: seed)
        var errors: [Double] = []
        for i in 0..<samples {
            let m = UInt64(i) % client.plaintextModulus
            let c = try key.encrypt(m, randomness: &randomness)
            #expect(try client.decrypt(c) == m)
            errors.append((try client.phase(c) &- m &* client.delta).torusValue)
        }
        let mean = errors.reduce(0, +) / Double(samples)
        let spread = errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples - 1)
        let expected = model.publicKeyEncryptionSpreadGivenKey
        #expect(spread > 0.85 * expected && spread < 1.15 * expected, "spread 2^\(log2(spread)), model 2^\(log2(expected))")
        let offsetDeviation = (params.glweNoise.variance(bitWidth: 64) * Double(params.polynomialSize) / 4).squareRoot()
        #expect(abs(mean) < 6 * offsetDeviation, "mean \(mean), offset deviation \(offsetDeviation)")
    }

    @Test func encryptionsDecryptAndTheirNoiseIsTheModel() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x9b, low: 1))
        let key = try PublicKey(clientKey: client, seed: Seed(high: 0x9b, low: 2))
        try Self.checkEncryptions(key, client, samples: 2000, seed: Seed(high: 0x9b, low: 3))
    }

    /// Averaged over keys, the offsets count too: the second moment is the model's
    /// σ²·((k+1)·N/2 + 1), the figure failure rates are computed from.
    @Test func averagedOverKeysTheSecondMomentIsTheModel() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        var sumOfSquares = 0.0, count = 0
        for k in 0..<40 {
            let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x9e, low: UInt64(k)))
            let key = try PublicKey(clientKey: client, seed: Seed(high: 0x9f, low: UInt64(k)))
            var randomness = EncryptionRandomness(seed: Seed(high: 0xa0, low: UInt64(k)))
            for _ in 0..<100 {
                let error = (try client.phase(key.encrypt(0, randomness: &randomness))).torusValue
                sumOfSquares += error * error
                count += 1
            }
        }
        let measured = sumOfSquares / Double(count), model = NoiseModel(parameters: params).publicKeyEncryptionVariance
        #expect(measured > 0.8 * model && measured < 1.2 * model, "measured 2^\(log2(measured)), model 2^\(log2(model))")
    }

    @Test func bootstrapOfAPublicKeyEncryptionDecrypts() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x9c, low: 1))
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x9c, low: 2))
        let key = try PublicKey(clientKey: client, seed: Seed(high: 0x9c, low: 3))
        let table = server.lookupTable { ($0 + 2) % 4 }
        for m in UInt64(0)..<4 {
            for _ in 0..<10 {
                #expect(try client.decrypt(server.programmableBootstrap(key.encrypt(m), table: table)) == (m + 2) % 4)
            }
        }
        // Blocks for the radix types.
        let list = try key.encrypt(blocks: [3, 1, 0, 2])
        #expect(try client.decrypt(blocks: list) == [3, 1, 0, 2])
        #expect(throws: TFHEError.messageOutOfRange(value: 4, modulus: 4)) { try key.encrypt(4) }
    }

    /// N messages in one public-key encryption: every block decrypts, bootstraps, and the list
    /// serializes and expands.
    @Test func compactListsDecryptBootstrapAndSerialize() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x9a, low: 1))
        let key = try PublicKey(clientKey: client, seed: Seed(high: 0x9a, low: 2))
        var randomness = EncryptionRandomness(seed: Seed(high: 0x9a, low: 3))
        for round in 0..<4 {
            let messages = (0..<params.polynomialSize).map { UInt64(($0 + round) % 4) }
            let list = try key.encryptCompact(messages, randomness: &randomness)
            #expect(try client.decrypt(blocks: list.expand()) == messages)
        }
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x9a, low: 4))
        let list = try key.encryptCompact([0, 1, 2, 3]).expand()
        let table = server.lookupTable { 3 - $0 }
        for (i, block) in list.blocks.enumerated() {
            #expect(try client.decrypt(server.programmableBootstrap(block, table: table)) == 3 - UInt64(i))
        }
        let compact = try key.encryptCompact([3, 0, 1, 2], degrees: [3, 3, 3, 3])
        let bytes = try compact.serialized(kind: .fheUint8)
        #expect(bytes.count == ObjectHeader.size + 16 + 4 * 8 + (params.polynomialSize + 4) * 8)
        #expect(try CompactCiphertextList<UInt64>.deserialize(bytes, parameters: params).list == compact)
        let (kind, expanded) = try BlockCiphertextList<UInt64>.deserialize(bytes, parameters: params)
        #expect(kind == .fheUint8 && expanded == compact.expand())
        #expect(try client.decrypt(blocks: expanded) == [3, 0, 1, 2])
        #expect(throws: TFHEError.self) { try key.encryptCompact([UInt64](repeating: 0, count: params.polynomialSize + 1)) }
    }

    @Test func aPBSThenKSSetIsRefused() throws {
        let params = try TestParameters.load(TestParameters.insecure32)
        guard params.order == .bootstrapThenKeySwitch else { return }
        let client = try ClientKey<UInt32>(parameters: params)
        #expect(throws: TFHEError.self) { try PublicKey(clientKey: client) }
    }

    /// On TFHE-rs's 2_2 TUniform set: the noise of a public-key encryption is far under that
    /// of a bootstrapped ciphertext, encryptions decrypt, and a bootstrap of one decrypts.
    @Test func realParameterSet() throws {
        let params = try TestParameters.load("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128")
        let model = NoiseModel(parameters: params)
        #expect(model.publicKeyEncryptionVariance < model.blindRotationVariance * 0x1p-40)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x9d, low: 1))
        let key = try CompressedPublicKey(clientKey: client, seed: Seed(high: 0x9d, low: 2)).decompress()
        try Self.checkEncryptions(key, client, samples: 2000, seed: Seed(high: 0x9d, low: 4))
        // An FheUint64's 32 blocks in one compact list: 16 KB + 32 words instead of 32 × 16 KB.
        let messages = (0..<32).map { UInt64($0 % 4) }
        let compact = try key.encryptCompact(messages)
        #expect(try client.decrypt(blocks: compact.expand()) == messages)
        #expect(try compact.serialized(kind: .fheUint64).count == ObjectHeader.size + 16 + 32 * 8 + (2048 + 32) * 8)
        let server = CompressedServerKey(clientKey: client, seed: Seed(high: 0x9d, low: 3)).decompress()
        let table = server.lookupTable { ($0 * 3) % 16 }
        for m: UInt64 in [0, 5, 15] {
            #expect(try client.decrypt(server.programmableBootstrap(key.encrypt(m), table: table)) == (m * 3) % 16)
        }
    }
}
