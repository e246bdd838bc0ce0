import Foundation
import Testing
@testable import TFHE

@Suite("Seeded (compressed) keys and ciphertexts")
struct CompressedKeyTests {
    @Test func decompressedServerKeyIsTheFreshKey() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0xc0, low: 1))
        let seed = Seed(high: 0xc0, low: 2)
        let fresh = ServerKey(clientKey: client, seed: seed)
        let decompressed = CompressedServerKey(clientKey: client, seed: seed).decompress()
        #expect(decompressed.bootstrappingKey.storage.array == fresh.bootstrappingKey.storage.array)
        #expect(decompressed.keySwitchingKey.rows.array == fresh.keySwitchingKey.rows.array)
        // Another seed gives another key (the comparison above can fail).
        let other = CompressedServerKey(clientKey: client, seed: Seed(high: 0xc0, low: 3)).decompress()
        #expect(other.keySwitchingKey.rows.array != fresh.keySwitchingKey.rows.array)
        // Bootstraps with the decompressed key decrypt right.
        let table = decompressed.lookupTable { (3 * $0) % 4 }
        for m in UInt64(0)..<4 {
            for _ in 0..<5 {
                #expect(try client.decrypt(decompressed.programmableBootstrap(client.encrypt(m), table: table)) == (3 * m) % 4)
            }
        }
    }

    @Test func decompressionWorksOnA32BitSetToo() throws {
        let params = try TestParameters.load(TestParameters.insecure32)
        let client = try ClientKey<UInt32>(parameters: params, seed: Seed(high: 0xc1, low: 1))
        let seed = Seed(high: 0xc1, low: 2)
        let fresh = ServerKey(clientKey: client, seed: seed)
        let compressed = CompressedServerKey(clientKey: client, seed: seed)
        let read = try ServerKey<UInt32>(serialized: compressed.serialized(), parameters: params)
        #expect(read.bootstrappingKey.storage.array == fresh.bootstrappingKey.storage.array)
        #expect(read.keySwitchingKey.rows.array == fresh.keySwitchingKey.rows.array)
    }

    @Test func seededCiphertextsAndPublicKeysDecompressExactly() throws {
        let params = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0xc2, low: 1))
        let seed = Seed(high: 0xc2, low: 2)
        var randomness = EncryptionRandomness(seed: seed)
        #expect(try client.encryptSeeded(3, seed: seed).decompress() == (try client.encrypt(3, randomness: &randomness)))
        randomness = EncryptionRandomness(seed: seed)
        let blocks = try [0, 1, 2, 3].map { try client.encrypt(UInt64($0), randomness: &randomness) }
        #expect(try client.encryptSeeded(blocks: [0, 1, 2, 3], seed: seed).decompress().blocks == blocks)
        let publicKey = try PublicKey(clientKey: client, seed: seed)
        #expect(try CompressedPublicKey(clientKey: client, seed: seed).decompress().polynomials == publicKey.polynomials)
    }

    /// The mask seed is published; the noise stream must not follow from it.
    @Test func maskSeedIsNotTheNoiseSeed() {
        let randomness = EncryptionRandomness(seed: Seed(high: 1, low: 2))
        var mask = AESCTRGenerator(seed: randomness.maskSeed)
        var noise = randomness.noise
        #expect(mask.next() != noise.next())
        #expect(randomness.maskSeed != Seed(high: 1, low: 2))
    }
}
