import Foundation
import Testing
@testable import TFHE

/// Thousands of mutated, truncated and extended objects of every kind: each must be read as a
/// typed error or as a valid object whose serialization is the input itself (the format is
/// canonical), never a crash, trap or huge allocation. Half the mutations recompute the
/// checksum, as an attacker could, so that the payload checks behind it are reached.
@Suite("Serialization: fuzzing")
struct SerializationFuzzTests {
    struct Sample {
        let name: String
        let bytes: Data
        let iterations: Int
        /// Reads and re-serializes.
        let roundTrip: (Data) throws -> Data
    }

    static func samples() throws -> [Sample] {
        let p = try TestParameters.load(TestParameters.insecure64)
        let client = try ClientKey<UInt64>(parameters: p, seed: Seed(high: 0xf, low: 1))
        let seed = Seed(high: 0xf, low: 2)
        return [
            Sample(name: "ciphertext", bytes: try client.encrypt(1).serialized(), iterations: 4000) {
                try LWECiphertext<UInt64>(serialized: $0, parameters: p).serialized()
            },
            Sample(name: "seeded ciphertext", bytes: try client.encryptSeeded(2, seed: seed).serialized(), iterations: 4000) {
                try SeededLWECiphertext<UInt64>(serialized: $0, parameters: p).serialized()
            },
            Sample(name: "FheUint8", bytes: try client.encrypt(blocks: [1, 2, 3, 0]).serialized(kind: .fheUint8), iterations: 4000) {
                let (kind, list) = try BlockCiphertextList<UInt64>.deserialize($0, parameters: p)
                return try list.serialized(kind: kind)
            },
            Sample(name: "seeded block list", bytes: try client.encryptSeeded(blocks: [1, 2, 3], seed: seed).serialized(),
                   iterations: 4000) {
                let (kind, list) = try SeededBlockCiphertextList<UInt64>.deserialize($0, parameters: p)
                return try list.serialized(kind: kind)
            },
            Sample(name: "compact list", bytes: try PublicKey(clientKey: client, seed: seed).encryptCompact([1, 2, 3, 0])
                    .serialized(kind: .fheUint8), iterations: 2500) {
                let (kind, list) = try CompactCiphertextList<UInt64>.deserialize($0, parameters: p)
                return try list.serialized(kind: kind)
            },
            Sample(name: "client key", bytes: client.serialized(), iterations: 4000) {
                try ClientKey<UInt64>(serialized: $0, parameters: p).serialized()
            },
            Sample(name: "public key", bytes: try PublicKey(clientKey: client, seed: seed).serialized(), iterations: 2500) {
                try PublicKey<UInt64>(serialized: $0, parameters: p).serialized()
            },
            Sample(name: "compressed public key", bytes: try CompressedPublicKey(clientKey: client, seed: seed).serialized(),
                   iterations: 2500) {
                try CompressedPublicKey<UInt64>(serialized: $0, parameters: p).serialized()
            },
            Sample(name: "compressed server key", bytes: CompressedServerKey(clientKey: client, seed: seed).serialized(),
                   iterations: 600) {
                try CompressedServerKey<UInt64>(serialized: $0, parameters: p).serialized()
            },
            Sample(name: "server key", bytes: ServerKey(clientKey: client, seed: seed).serialized(), iterations: 600) {
                try ServerKey<UInt64>(serialized: $0, parameters: p).serialized()
            },
        ]
    }

    enum Mutation: CaseIterable { case flipBits, truncate, extend, hugeLength, hugeField, scribbleHeader }

    static func mutate(_ data: Data, _ mutation: Mutation, _ rng: inout TestGenerator) -> Data {
        var out = data
        switch mutation {
        case .flipBits:
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                // Half the flips land in the first 128 bytes, where the header and counts are.
                let limit = Bool.random(using: &rng) ? min(128, out.count) : out.count
                out[Int.random(in: 0..<limit, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            }
        case .truncate:
            out = out.prefix(Int.random(in: 0..<out.count, using: &rng))
        case .extend:
            out.append(contentsOf: (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case .hugeLength:
            let values: [UInt64] = [.max, .max / 2, UInt64(Int.max), 1 << 40, UInt64(out.count), UInt64(out.count) - 65, 0]
            out.replaceSubrange(24..<32, with: withUnsafeBytes(of: values.randomElement(using: &rng)!.littleEndian) { Array($0) })
        case .hugeField:
            // The counts and shapes are the first u32 fields of the payload.
            let at = ObjectHeader.size + 4 * Int.random(in: 0..<6, using: &rng)
            if at + 4 <= out.count {
                let values: [UInt32] = [.max, .max - 1, 1 << 31, 1 << 20, 4097, 0, 1]
                out.replaceSubrange(at..<(at + 4), with: withUnsafeBytes(of: values.randomElement(using: &rng)!.littleEndian) { Array($0) })
            }
        case .scribbleHeader:
            let at = Int.random(in: 8..<32, using: &rng)
            out[at] = UInt8.random(in: 0...255, using: &rng)
        }
        return out
    }

    @Test func mutatedObjectsAreTypedErrorsOrCanonicalObjects() throws {
        var rng = TestGenerator(0xf022)
        var total = 0, valid = 0, refusedUnsealed = 0
        for sample in try Self.samples() {
            #expect(try sample.roundTrip(sample.bytes) == sample.bytes, "\(sample.name) round trip")
            for i in 0..<sample.iterations {
                let mutation = Mutation.allCases.randomElement(using: &rng)!
                let reseal = i % 2 == 0
                var mutated = Self.mutate(sample.bytes, mutation, &rng)
                if reseal { mutated = ObjectHeader.resealed(mutated) }
                if mutated == sample.bytes { continue }
                total += 1
                do {
                    let again = try sample.roundTrip(mutated)
                    valid += 1
                    // Without the attacker's new checksum, no change may pass.
                    #expect(reseal, "\(sample.name): an unsealed \(mutation) was accepted")
                    // A version-1 object is written back as version 2 (whose only other
                    // difference, the full server key's point order, is tested elsewhere).
                    var expected = mutated
                    if mutated[8] == 1 && mutated[9] == 0 {
                        expected[8] = UInt8(ObjectHeader.formatVersion)
                        expected = ObjectHeader.resealed(expected)
                    }
                    if !(mutated[8] == 1 && sample.name.hasPrefix("server key")) {
                        #expect(again == expected, "\(sample.name): \(mutation) read as a different object")
                    }
                } catch is SerializationError {
                    if !reseal { refusedUnsealed += 1 }
                } catch {
                    Issue.record("\(sample.name): \(mutation) gave an untyped error \(error)")
                }
            }
        }
        // Every object given to every reader: its own kind reads, the others are typed errors.
        let samples = try Self.samples()
        for object in samples {
            for reader in samples {
                do { _ = try reader.roundTrip(object.bytes) } catch is SerializationError {} catch is TFHEError {} catch {
                    Issue.record("\(object.name) read as \(reader.name): untyped error \(error)")
                }
            }
        }
        #expect(total > 25000)
        // Some resealed flips land in ciphertext words and give valid objects; most do not.
        #expect(valid > 0 && valid < total / 2)
        print("fuzz: \(total) mutated objects, \(valid) valid, \(refusedUnsealed) unsealed refused")
    }
}
