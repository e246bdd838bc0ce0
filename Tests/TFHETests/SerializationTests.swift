import Foundation
import Testing
@testable import TFHE

@Suite("Serialization: round trips and typed errors")
struct SerializationTests {
    let params: ParameterSet
    let client: ClientKey<UInt64>

    init() throws {
        params = try TestParameters.load(TestParameters.insecure64)
        client = try ClientKey<UInt64>(parameters: params, seed: Seed(high: 0x5e, low: 1))
    }

    @Test func ciphertextRoundTripsInBothForms() throws {
        let full = try client.encrypt(3)
        let read = try LWECiphertext<UInt64>(serialized: full.serialized(), parameters: params)
        #expect(read == full)
        #expect(try client.decrypt(read) == 3)

        let seeded = try client.encryptSeeded(2, seed: Seed(high: 9, low: 9))
        let bytes = seeded.serialized()
        #expect(bytes.count == ObjectHeader.size + 4 + 16 + 8)
        #expect(try SeededLWECiphertext<UInt64>(serialized: bytes, parameters: params) == seeded)
        let expanded = try LWECiphertext<UInt64>(serialized: bytes, parameters: params)
        var randomness = EncryptionRandomness(seed: Seed(high: 9, low: 9))
        #expect(expanded == (try client.encrypt(2, randomness: &randomness)))
        #expect(try client.decrypt(expanded) == 2)
    }

    @Test func blockListsRoundTripWithKindAndDegrees() throws {
        let list = try client.encrypt(blocks: [0, 1, 2, 3], degrees: [3, 3, 2, 1])
        let (kind, read) = try BlockCiphertextList<UInt64>.deserialize(try list.serialized(kind: .fheUint8), parameters: params)
        #expect(kind == .fheUint8)
        #expect(read == list)
        #expect(try client.decrypt(blocks: read) == [0, 1, 2, 3])

        let seeded = try client.encryptSeeded(blocks: [3, 2, 1, 0, 1, 2, 3, 0], seed: Seed(high: 4, low: 4))
        let bytes = try seeded.serialized(kind: .fheUint16)
        #expect(try SeededBlockCiphertextList<UInt64>.deserialize(bytes, parameters: params).list == seeded)
        let expanded = try BlockCiphertextList<UInt64>(serialized: bytes, parameters: params, kind: .fheUint16)
        #expect(try client.decrypt(blocks: expanded) == [3, 2, 1, 0, 1, 2, 3, 0])
        #expect(expanded.degrees == [UInt64](repeating: 3, count: 8))

        // A radix kind fixes its block count: 4 blocks are not an FheUint16 under 2-bit blocks.
        #expect(throws: SerializationError.self) {
            try BlockCiphertextList<UInt64>.deserialize(try list.serialized(kind: .fheUint16), parameters: params)
        }
        // Caller mistakes are thrown, not trapped.
        #expect(throws: TFHEError.self) { try list.serialized(kind: .clientKey) }
        #expect(throws: TFHEError.self) { try BlockCiphertextList<UInt64>(blocks: [], degrees: []).serialized() }
        #expect(throws: TFHEError.self) { try BlockCiphertextList(blocks: list.blocks, degrees: [1]) }
        // Asking for one kind and finding another is a typed error.
        #expect(throws: SerializationError.unexpectedKind(expected: "FheUint32", found: "FheUint8")) {
            try BlockCiphertextList<UInt64>(serialized: try list.serialized(kind: .fheUint8), parameters: params, kind: .fheUint32)
        }
    }

    @Test func clientKeyRoundTrips() throws {
        let read = try ClientKey<UInt64>(serialized: client.serialized(), parameters: params)
        #expect(read.lweKey.hasSameCoefficients(as: client.lweKey))
        #expect(read.glweKey.hasSameCoefficients(as: client.glweKey))
        #expect(try read.decrypt(client.encrypt(1)) == 1)
        // Printing a client key shows no coefficient.
        #expect(!"\(client)".contains("[") && "\(client)".contains(params.name))
    }

    @Test func serverKeyRoundTripsInBothForms() throws {
        let seed = Seed(high: 0x5e, low: 2)
        let server = ServerKey(clientKey: client, seed: seed)
        let read = try ServerKey<UInt64>(serialized: server.serialized(), parameters: params)
        #expect(read.bootstrappingKey.storage.array == server.bootstrappingKey.storage.array)
        #expect(read.keySwitchingKey.rows.array == server.keySwitchingKey.rows.array)

        let compressed = CompressedServerKey(clientKey: client, seed: seed)
        let bytes = compressed.serialized()
        #expect(bytes.count < server.serialized().count * 6 / 10)
        let back = try CompressedServerKey<UInt64>(serialized: bytes, parameters: params)
        #expect(back.serialized() == bytes)
        let expanded = try ServerKey<UInt64>(serialized: bytes, parameters: params)
        #expect(expanded.bootstrappingKey.storage.array == server.bootstrappingKey.storage.array)
        #expect(expanded.keySwitchingKey.rows.array == server.keySwitchingKey.rows.array)
        let table = expanded.lookupTable { ($0 + 1) % 4 }
        for m in UInt64(0)..<4 {
            #expect(try client.decrypt(expanded.programmableBootstrap(client.encrypt(m), table: table)) == (m + 1) % 4)
        }
    }

    /// A full server key written by format version 1 kept the Fourier points in the order of
    /// the engine's transform of the time; it reads back as the same key. The version-1 file
    /// is made from a version-2 one by moving its points to version 1's slots.
    @Test func formatVersion1ServerKeyReadsBack() throws {
        let server = ServerKey(clientKey: client, seed: Seed(high: 0x5e, low: 3))
        var bytes = server.serialized()
        let n = params.polynomialSize, m = n / 2
        let legacy = NegacyclicFFT.formatVersion1Slots(polynomialSize: n)
        let start = ObjectHeader.size + 20, count = server.bootstrappingKey.storage.count
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.baseAddress!.advanced(by: start).assumingMemoryBound(to: Double.self)
            for polynomial in stride(from: 0, to: count, by: n) {
                let canonical = Array(UnsafeBufferPointer(start: words + polynomial, count: n))
                for k in 0..<m {
                    words[polynomial + legacy[k]] = canonical[k]
                    words[polynomial + m + legacy[k]] = canonical[m + k]
                }
            }
        }
        bytes[8] = 1
        let read = try ServerKey<UInt64>(serialized: ObjectHeader.resealed(bytes), parameters: params)
        #expect(try ObjectHeader.read(from: ObjectHeader.resealed(bytes)).version == 1)
        #expect(read.bootstrappingKey.storage.array == server.bootstrappingKey.storage.array)
        // The same bytes read as version 2 are a different (wrong) key: the order matters.
        let misread = try ServerKey<UInt64>(serialized: ObjectHeader.resealed({ var b = bytes; b[8] = 2; return b }()), parameters: params)
        #expect(misread.bootstrappingKey.storage.array != server.bootstrappingKey.storage.array)
    }

    @Test func publicKeyRoundTripsInBothForms() throws {
        let seed = Seed(high: 0x5e, low: 3)
        let key = try PublicKey(clientKey: client, seed: seed)
        let read = try PublicKey<UInt64>(serialized: key.serialized(), parameters: params)
        #expect(read.polynomials == key.polynomials)
        let compressed = try CompressedPublicKey(clientKey: client, seed: seed)
        let bytes = compressed.serialized()
        #expect(bytes.count == ObjectHeader.size + 8 + 16 + params.polynomialSize * 8)
        #expect(try PublicKey<UInt64>(serialized: bytes, parameters: params).polynomials == key.polynomials)
        #expect(try client.decrypt(read.encrypt(2)) == 2)
    }

    @Test func headerTellsWhatAnObjectIs() throws {
        let header = try ObjectHeader.read(from: CompressedServerKey(clientKey: client, seed: Seed(high: 1, low: 1)).serialized())
        #expect(header.kind == .serverKey && header.compressed && header.wordBits == 64)
        #expect(header.parameterFingerprint == params.fingerprint)
        #expect(header.checksum.count == 32)
    }

    @Test func everyEnvelopeFaultIsItsOwnTypedError() throws {
        let good = try client.encrypt(1).serialized()
        func altered(_ change: (inout Data) -> Void, reseal: Bool = true) -> Data {
            var copy = good
            change(&copy)
            return reseal ? ObjectHeader.resealed(copy) : copy
        }
        func read(_ data: Data) throws { _ = try LWECiphertext<UInt64>(serialized: data, parameters: params) }

        #expect(throws: SerializationError.checksumMismatch) { try read(altered({ $0[100] ^= 1 }, reseal: false)) }
        #expect(throws: SerializationError.checksumMismatch) { try read(altered({ $0[40] ^= 0x80 }, reseal: false)) }
        #expect(throws: SerializationError.badMagic) { try read(altered { $0[1] = 0x55 }) }
        #expect(throws: SerializationError.unsupportedVersion(3)) { try read(altered { $0[8] = 3 }) }
        #expect(throws: SerializationError.unsupportedVersion(0)) { try read(altered { $0[8] = 0 }) }
        #expect(throws: SerializationError.unknownKind(99)) { try read(altered { $0[10] = 99 }) }
        #expect(throws: SerializationError.unknownFlags(4)) { try read(altered { $0[12] = 4 }) }
        #expect(throws: SerializationError.wordSizeMismatch(expected: 64, found: 32)) { try read(altered { $0[14] = 32 }) }
        #expect(throws: SerializationError.parameterMismatch(expected: params.fingerprint, found: params.fingerprint ^ 1)) {
            try read(altered { $0[16] ^= 1 })
        }
        #expect(throws: SerializationError.truncated(needed: UInt64(good.count), available: good.count - 1)) {
            try read(good.dropLast())
        }
        #expect(throws: SerializationError.truncated(needed: 64, available: 10)) { try read(good.prefix(10)) }
        #expect(throws: SerializationError.trailingBytes(count: 3)) { try read(good + Data([1, 2, 3])) }
        // A payload length of 2^64 - 1 is refused without being believed.
        #expect(throws: SerializationError.self) { try read(altered { $0.replaceSubrange(24..<32, with: [UInt8](repeating: 0xff, count: 8)) }) }
        // A dimension that is not the parameter set's.
        #expect(throws: SerializationError.self) { try read(altered { $0[64] ^= 1 }) }
        // The right envelope around another kind.
        #expect(throws: SerializationError.unexpectedKind(expected: "LWE ciphertext", found: "client key")) {
            try read(client.serialized())
        }
        // A key bit that is not a bit.
        var key = client.serialized()
        key[ObjectHeader.size + 8] = 2
        #expect(throws: SerializationError.invalidPayload("key coefficient 2 is not 0 or 1")) {
            try ClientKey<UInt64>(serialized: ObjectHeader.resealed(key), parameters: params)
        }
        // A Fourier coefficient that is not finite.
        var server = ServerKey(clientKey: client, seed: Seed(high: 3, low: 3)).serialized()
        server.replaceSubrange((ObjectHeader.size + 20)..<(ObjectHeader.size + 28), with: withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { Array($0) })
        #expect(throws: SerializationError.self) { try ServerKey<UInt64>(serialized: ObjectHeader.resealed(server), parameters: params) }
    }
}
