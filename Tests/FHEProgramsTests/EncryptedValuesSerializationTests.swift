import Foundation
import Testing
@testable import FHEPrograms
@testable import TFHE

@Suite("Encrypted-values files")
struct EncryptedValuesSerializationTests {
    let keys = ProgramTestKeys.shared

    var sample: [(String, ValueShape, ClearValue)] {
        [
            ("a", .scalar(.uint8), .uint(200)),
            ("flag", .scalar(.bool), .bool(true)),
            ("data.v-1_x", .vector(.uint16, length: 3), uintVector([0, 65535, 1234])),
            ("wide", .scalar(.uint64), .uint(0xDEAD_BEEF_0123_4567)),
            ("flags", .vector(.bool, length: 2), .vector([.bool(false), .bool(true)])),
        ]
    }

    func expectSame(_ decrypted: [(String, ClearValue)], _ expected: [(String, ValueShape, ClearValue)],
                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(decrypted.map(\.0) == expected.map(\.0), sourceLocation: sourceLocation)
        #expect(decrypted.map(\.1) == expected.map(\.2), sourceLocation: sourceLocation)
    }

    @Test func roundTripWithTheClientKey() throws {
        let values = try EncryptedValues.encrypt(sample, keySetID: keys.keySetID, with: keys.client)
        let read = try EncryptedValues(serialized: try values.serialized(), parameters: keys.parameters)
        #expect(read.keySetID == keys.keySetID)
        #expect(read.shapes == values.shapes)
        expectSame(try read.decrypt(with: keys.client), sample)
        // A file cannot prove a noise level: every block read has the maximum.
        for name in read.names {
            let elements: [EncryptedInteger] = switch read[name]! {
            case .scalar(let x): [x]
            case .vector(_, let xs): xs
            }
            #expect(elements.allSatisfy { $0.radix.blocks.allSatisfy { $0.noiseLevel == keys.server.encoding.maxNoiseLevel } })
        }
    }

    /// 33 u64 values are 1056 blocks: more than the N = 1024 of one compact list.
    @Test func roundTripWithThePublicKey() throws {
        var rng = SplitMix(7)
        let long = (0..<33).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) }
        let values = sample + [("long", .vector(.uint64, length: 33), uintVector(long))]
        let file = try EncryptedValues.encrypt(values, keySetID: keys.keySetID, publicKey: keys.publicKey)
        let read = try EncryptedValues(serialized: file, parameters: keys.parameters)
        expectSame(try read.decrypt(with: keys.client), values)
        // And a value read from compact lists computes like any other.
        guard case .vector(_, let xs)? = read["long"] else { Issue.record("no vector"); return }
        let sum = try keys.server.add(xs[0].radix, xs[1].radix)
        #expect(try keys.client.decryptRadix(sum) == long[0] &+ long[1])
    }

    @Test func encryptionRefusesValuesThatDoNotFitTheirShape() throws {
        let cases: [(String, ValueShape, ClearValue)] = [
            ("x", .scalar(.uint8), .uint(256)),
            ("x", .scalar(.uint8), .bool(true)),
            ("x", .scalar(.bool), .uint(1)),
            ("x", .vector(.uint8, length: 2), uintVector([1])),
            ("x", .scalar(.uint8), uintVector([1])),
            ("bad name", .scalar(.uint8), .uint(1)),
        ]
        for value in cases {
            #expect(throws: ProgramError.self) {
                _ = try EncryptedValues.encrypt([value], keySetID: keys.keySetID, publicKey: keys.publicKey)
            }
        }
        #expect(throws: ProgramError.self) {
            try EncryptedValues.encrypt([cases[0]], keySetID: keys.keySetID, with: keys.client).serialized()
        }
        #expect(throws: ProgramError.self) {
            try EncryptedValues.encrypt([("a", .scalar(.uint8), .uint(1)), ("a", .scalar(.uint8), .uint(2))],
                                        keySetID: keys.keySetID, publicKey: keys.publicKey)
        }
    }

    // MARK: Refusals

    /// Every refusal is `.malformedCiphertext` with a message that says why.
    func expectRefused(_ data: Data, limits: EncryptedValuesLimits = .init(), parameters: ParameterSet? = nil,
                       saying words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try EncryptedValues(serialized: data, parameters: parameters ?? keys.parameters, limits: limits)
            Issue.record("accepted; expected a refusal saying \"\(words)\"", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .malformedCiphertext, sourceLocation: sourceLocation)
            #expect(error.message.contains(words), "\"\(error.message)\" does not say \"\(words)\"", sourceLocation: sourceLocation)
        }
    }

    /// One entry of a hand-made file.
    struct Entry {
        var name: [UInt8]
        var kind: UInt16
        var shape: UInt8 = 1
        var count: UInt32
        var objects: [Data]
    }

    func blocks(_ values: [UInt64], kind: ObjectKind = .blockList) throws -> Data {
        try keys.client.encrypt(blocks: values, degrees: values.map { _ in 3 }).serialized(kind: kind)
    }

    func craft(_ entries: [Entry], count: UInt32? = nil, fingerprint: UInt64? = nil) -> Data {
        var writer = ByteWriter()
        writer.append(bytes: keys.keySetID.bytes)
        writer.append(count ?? UInt32(entries.count))
        for entry in entries {
            writer.append(UInt8(entry.name.count))
            writer.append(bytes: entry.name)
            writer.append(entry.kind)
            writer.append(entry.shape)
            writer.append(UInt8(0))
            writer.append(entry.count)
            writer.append(UInt32(entry.objects.count))
            for object in entry.objects {
                writer.append(UInt64(object.count))
                writer.append(bytes: Array(object))
            }
        }
        return ObjectHeader.seal(kind: .namedValues, compressed: false, wordBits: 64,
                                 parameterFingerprint: fingerprint ?? keys.parameters.fingerprint, payload: writer.bytes)
    }

    /// A u8 (4 blocks of 2 bits) vector entry.
    func u8Entry(_ name: String = "x", count: UInt32 = 1, blocks: Int = 4) throws -> Entry {
        Entry(name: Array(name.utf8), kind: ObjectKind.fheUint8.rawValue, count: count,
              objects: [try self.blocks([UInt64](repeating: 1, count: blocks))])
    }

    @Test func handMadeFilesAreReadWhenValid() throws {
        // Two nested objects of whole or partial elements, full and seeded forms, one entry.
        let seeded = try keys.client.encryptSeeded(blocks: [1, 2, 3, 0, 1, 1], degrees: [3, 3, 3, 3, 3, 3]).serialized()
        let entry = Entry(name: Array("v".utf8), kind: ObjectKind.fheUint8.rawValue, count: 3,
                          objects: [try blocks([3, 3, 3, 3, 0, 1]), seeded])
        let read = try EncryptedValues(serialized: craft([entry]), parameters: keys.parameters)
        // Blocks 3333 | 0112 | 3011, least significant digit first.
        #expect(try read.decrypt(with: keys.client)[0].1 == uintVector([255, 0 + 1 * 4 + 1 * 16 + 2 * 64, 3 + 0 + 1 * 16 + 1 * 64]))
        // A scalar as its radix kind.
        let scalar = Entry(name: Array("s".utf8), kind: ObjectKind.fheUint8.rawValue, shape: 0, count: 1,
                           objects: [try blocks([2, 0, 0, 1], kind: .fheUint8)])
        #expect(try EncryptedValues(serialized: craft([scalar]), parameters: keys.parameters).decrypt(with: keys.client)[0].1 == .uint(2 | 1 << 6))
    }

    @Test func refusesWhatIsNotAValidFile() throws {
        let good = try EncryptedValues.encrypt(sample, keySetID: keys.keySetID, with: keys.client).serialized()
        var badMagic = good
        badMagic[0] ^= 0xFF
        expectRefused(badMagic, saying: "magic")
        expectRefused(good.prefix(40), saying: "truncated")
        expectRefused(good.prefix(good.count - 1), saying: "truncated")
        var corrupted = good
        corrupted[good.count / 2] ^= 0x01
        expectRefused(corrupted, saying: "checksum")
        expectRefused(try blocks([1, 2]), saying: "not an encrypted-values file")
        expectRefused(good, parameters: try ProgramTestKeys.loadParameters("insecure_test_64"), saying: "another parameter set")
        expectRefused(good, limits: EncryptedValuesLimits(maximumFileSize: 1000), saying: "at most 1000")
        expectRefused(good, limits: EncryptedValuesLimits(maximumEntries: 2), saying: "at most 2")
        expectRefused(good, limits: EncryptedValuesLimits(maximumVectorLength: 2), saying: "at most 2 are accepted")
        expectRefused(good, limits: EncryptedValuesLimits(maximumTotalBlocks: 10), saying: "more than 10 blocks")
    }

    @Test func refusesEntriesThatContradictThemselves() throws {
        expectRefused(craft([try u8Entry(blocks: 3)]), saying: "3 blocks, 1 u8 values need 4")
        expectRefused(craft([try u8Entry(count: 2)]), saying: "need 8")
        expectRefused(craft([try u8Entry(blocks: 8)]), saying: "more blocks than its values need")
        expectRefused(craft([try u8Entry("bad name")]), saying: "a name that is not")
        expectRefused(craft([try u8Entry("ü")]), saying: "a name that is not")
        expectRefused(craft([Entry(name: [], kind: ObjectKind.fheUint8.rawValue, count: 0, objects: [])]), saying: "a name of 0 bytes")
        expectRefused(craft([try u8Entry(String(repeating: "n", count: 65))]), saying: "a name of 65 bytes")
        expectRefused(craft([try u8Entry("x"), try u8Entry("x")]), saying: "given twice")
        expectRefused(craft([try u8Entry()], count: 2), saying: "name length")
        expectRefused(craft([try u8Entry()], count: 100_000), saying: "at most 64")
        var e = try u8Entry()
        e.kind = ObjectKind.blockList.rawValue
        expectRefused(craft([e]), saying: "unknown value kind")
        e = try u8Entry()
        e.shape = 2
        expectRefused(craft([e]), saying: "neither a scalar nor a vector")
        e = try u8Entry(count: 2, blocks: 8)
        e.shape = 0
        expectRefused(craft([e]), saying: "declares 2 elements")
        e = try u8Entry(count: 5000)
        expectRefused(craft([e]), saying: "5000 elements")
        // A nested object of another radix kind, or of no block kind at all.
        e = try u8Entry()
        e.objects = [try blocks([1, 1, 1, 1, 1, 1, 1, 1], kind: .fheUint16)]
        expectRefused(craft([e]), saying: "holds a FheUint16 object")
        e.objects = [try keys.client.serialized()]
        expectRefused(craft([e]), saying: "not blocks")
        // A boolean block with a degree above 1.
        let bool = Entry(name: Array("b".utf8), kind: ObjectKind.fheBool.rawValue, shape: 0, count: 1, objects: [try blocks([1])])
        expectRefused(craft([bool]), saying: "degree 3")
        // Object counts that cannot be right.
        e = try u8Entry()
        e.objects = []
        expectRefused(craft([e]), saying: "0 block objects for 4 blocks")
        // A nested object whose length runs past the file.
        var writer = ByteWriter()
        writer.append(bytes: keys.keySetID.bytes)
        writer.append(UInt32(1))
        writer.append(UInt8(1)); writer.append(bytes: [UInt8(ascii: "x")])
        writer.append(ObjectKind.fheUint8.rawValue); writer.append(UInt8(0)); writer.append(UInt8(0))
        writer.append(UInt32(1)); writer.append(UInt32(1)); writer.append(UInt64.max)
        expectRefused(ObjectHeader.seal(kind: .namedValues, compressed: false, wordBits: 64,
                                        parameterFingerprint: keys.parameters.fingerprint, payload: writer.bytes), saying: "bytes, 0 left")
    }

    /// Flipped, truncated and extended bytes (with and without a recomputed checksum, to reach
    /// the payload's checks) are refused or read, never a crash or another error.
    @Test func fuzzedFilesNeverCrash() throws {
        let small: [(String, ValueShape, ClearValue)] = [("a", .scalar(.uint8), .uint(7)), ("v", .vector(.bool, length: 2), .vector([.bool(true), .bool(false)]))]
        let files = [
            try EncryptedValues.encrypt(small, keySetID: keys.keySetID, with: keys.client).serialized(),
            try EncryptedValues.encrypt(small, keySetID: keys.keySetID, publicKey: keys.publicKey),
        ]
        var rng = SplitMix(99)
        var accepted = 0, refused = 0
        for file in files {
            // Every byte of the header and the entry table, then random ones further in.
            let positions = Array(0..<min(file.count, 200)) + (0..<300).map { _ in Int.random(in: 0..<file.count, using: &rng) }
            for position in positions {
                var mutated = file
                mutated[position] ^= UInt8.random(in: 1...255, using: &rng)
                for candidate in [mutated, ObjectHeader.resealed(mutated)] {
                    do {
                        _ = try EncryptedValues(serialized: candidate, parameters: keys.parameters)
                        accepted += 1
                    } catch {
                        #expect(error.code == .malformedCiphertext)
                        refused += 1
                    }
                }
            }
            for length in stride(from: 0, to: file.count, by: max(1, file.count / 97)) {
                for candidate in [file.prefix(length), ObjectHeader.resealed(Data(file.prefix(length)))] {
                    #expect(throws: ProgramError.self) { _ = try EncryptedValues(serialized: Data(candidate), parameters: keys.parameters) }
                }
            }
            #expect(throws: ProgramError.self) { _ = try EncryptedValues(serialized: file + [0], parameters: keys.parameters) }
        }
        #expect(refused > accepted)
    }
}
