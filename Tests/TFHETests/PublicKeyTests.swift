import Foundation
import Testing
@testable import TFHE

@Suite("Public-key encryption (compact public key, eprint 2023/603)")
struct PublicKeyTests {
    @Test func encryptionsDecryptAndTheirNoiseIsTheModel() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x9b, low: 1))
        let key = try PublicKey(clientKey: client, seed: Seed(high: 0x9b, low: 2))
        var randomness = EncryptionRandomness(seed: Seed(high: 0x9b, low: 3))
        let samples = 2000
        var sumOfSquares = 0.0
        for i in 0..<samples {
            let m = UInt64(i % 4)
            let c = try key.encrypt(m, randomness: &randomness)
            #expect(try client.decrypt(c) == m)
            let error = (try client.phase(c) &- UInt64(m) &* client.delta).torusValue
            sumOfSquares += error * error
        }
        let measured = sumOfSquares / Double(samples)
        let model = NoiseModel(parameters: params).publicKeyEncryptionVariance
        // 2000 samples: the sample variance is within ±15% of the true one with high probability.
        #expect(measured > 0.85 * model && measured < 1.15 * model, "measured \(measured), model \(model)")
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
        for i in 0..<64 {
            let m = UInt64(i % 16)
            #expect(try client.decrypt(key.encrypt(m)) == m)
        }
        let server = CompressedServerKey(clientKey: client, seed: Seed(high: 0x9d, low: 3)).decompress()
        let table = server.lookupTable { ($0 * 3) % 16 }
        for m: UInt64 in [0, 5, 15] {
            #expect(try client.decrypt(server.programmableBootstrap(key.encrypt(m), table: table)) == (m * 3) % 16)
        }
    }
}
