import Foundation
import Testing
@testable import TFHE

/// Sizes and one compressed round trip on TFHE-rs's 2_2 TUniform set (n=918, k=1, N=2048,
/// PBS 23/1, KS 4/4). The printed figures are the ones in BENCHMARKS.md.
@Suite("Key sizes and compressed round trip on the TFHE-rs 2_2 TUniform set")
struct KeySizeTests {
    static func seconds(_ start: UInt64) -> String {
        String(format: "%.2f s", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    @Test func sizesAndCompressedRoundTrip() throws {
        let params = try TestParameters.load("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128")
        let client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x22, low: 1))
        let seed = Seed(high: 0x22, low: 2)
        var report: [String] = []

        var start = DispatchTime.now().uptimeNanoseconds
        let compressed = CompressedServerKey(clientKey: client, seed: seed)
        report.append("compressed server keygen \(Self.seconds(start))")
        start = DispatchTime.now().uptimeNanoseconds
        let compressedBytes = compressed.serialized()
        report.append("compressed serialize \(Self.seconds(start))")
        start = DispatchTime.now().uptimeNanoseconds
        let decompressed = try ServerKey<UInt64>(serialized: compressedBytes, parameters: params)
        report.append("compressed deserialize + decompress \(Self.seconds(start))")

        start = DispatchTime.now().uptimeNanoseconds
        let fresh = ServerKey(clientKey: client, seed: seed)
        report.append("server keygen \(Self.seconds(start))")
        start = DispatchTime.now().uptimeNanoseconds
        let fullBytes = fresh.serialized()
        report.append("full serialize \(Self.seconds(start))")
        start = DispatchTime.now().uptimeNanoseconds
        let read = try ServerKey<UInt64>(serialized: fullBytes, parameters: params)
        report.append("full deserialize \(Self.seconds(start))")

        // Decompression reproduces the key exactly; so does the full form.
        #expect(decompressed.bootstrappingKey.storage.array == fresh.bootstrappingKey.storage.array)
        #expect(decompressed.keySwitchingKey.rows.array == fresh.keySwitchingKey.rows.array)
        #expect(read.bootstrappingKey.storage.array == fresh.bootstrappingKey.storage.array)
        #expect(read.keySwitchingKey.rows.array == fresh.keySwitchingKey.rows.array)
        let table = decompressed.lookupTable { ($0 + 7) % 16 }
        for m: UInt64 in [0, 9, 15] {
            #expect(try client.decrypt(decompressed.programmableBootstrap(client.encrypt(m), table: table)) == (m + 7) % 16)
        }

        // The sizes, exactly (header 64 bytes, then the payload).
        let h = ObjectHeader.size
        #expect(fresh.bootstrappingKey.byteCount == 918 * 2 * 2 * 2048 * 8)            // 60,162,048
        #expect(fresh.keySwitchingKey.byteCount == 2048 * 4 * 919 * 4)                  // 30,113,792
        #expect(fullBytes.count == h + 20 + 60_162_048 + 30_113_792)
        #expect(compressedBytes.count == h + 20 + 16 + 918 * 2 * 2048 * 8 + 2048 * 4 * 4)  // 30,113,892
        let clientBytes = client.serialized()
        #expect(clientBytes.count == h + 8 + 918 + 2048)
        let publicBytes = try PublicKey(clientKey: client, seed: seed).serialized()
        #expect(publicBytes.count == h + 8 + 2 * 2048 * 8)
        let compressedPublicBytes = try CompressedPublicKey(clientKey: client, seed: seed).serialized()
        #expect(compressedPublicBytes.count == h + 24 + 2048 * 8)
        let ciphertext = try client.encrypt(5).serialized(), seeded = try client.encryptSeeded(5).serialized()
        #expect(ciphertext.count == h + 4 + 2049 * 8 && seeded.count == h + 28)

        let publicKey = try PublicKey(clientKey: client, seed: seed)
        start = DispatchTime.now().uptimeNanoseconds
        for m in 0..<100 { _ = try publicKey.encrypt(UInt64(m % 16)) }
        report.append("public-key encryption \(String(format: "%.3f ms", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e8))")
        start = DispatchTime.now().uptimeNanoseconds
        for m in 0..<100 { _ = try client.encrypt(UInt64(m % 16)) }
        report.append("secret-key encryption \(String(format: "%.3f ms", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e8))")
        report.append("bytes: client key \(clientBytes.count), server key \(fullBytes.count) full / \(compressedBytes.count) compressed, "
                      + "public key \(publicBytes.count) / \(compressedPublicBytes.count), ciphertext \(ciphertext.count) / \(seeded.count)")
        print("2_2 TUniform: " + report.joined(separator: "; "))
    }
}
