import Foundation
import TFHE

// The encrypted-values file: a program's inputs or outputs, several named values made under
// one key set, in the engine's versioned envelope (ObjectHeader, kind `namedValues`, never
// flagged compressed, 64-bit torus, the parameter set's fingerprint, SHA-256 over all).
// Payload, integers little-endian:
//
//     32        key set id (SHA-256 of the key set's compressed server key)
//     u32       entry count (at most `maximumEntries`)
//     per entry:
//       u8      name length, 1...64, then the name ([A-Za-z0-9_.-])
//       u16     element kind: the ObjectKind of one value (fheBool, fheUint8 ... fheUint64)
//       u8      shape: 0 scalar, 1 vector
//       u8      reserved, 0
//       u32     element count: 1 for a scalar, 0...`maximumVectorLength` for a vector
//       u32     nested object count
//       per nested object: u64 length, then one complete serialized object the engine reads:
//               a block list (`blockList` or the entry's own radix kind, full or seeded form)
//               or a compact public-key list expanding to one of those.
//
// The blocks of an entry's nested objects, concatenated in order, are its elements' blocks,
// least significant first within an element: exactly count × blockCount(kind) of them. The
// format carries no noise level, so every block read gets the encoding's maximum (as
// FheUint+Serialization does): its first operation cleans it rather than trusting the file.
// Nested objects are full engine objects with their own envelope and checksum, so one reader
// checks every block's shape, parameter set and degree.

private enum Shape: UInt8 {
    case scalar = 0
    case vector = 1
}

/// A refusal while reading, with the message the client sees.
private struct FormatRefusal: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension EncryptedValues {
    /// Blocks per nested block-list object when writing: the engine's limit for a free list.
    static let blocksPerWrittenObject = BlockListFormat.maximumBlockCount

    /// The file, every entry's blocks in the full form (as `blockList` objects of whole
    /// elements). Throws for a name outside the format's alphabet, elements of unequal block
    /// counts, or blocks of several parameter sets; a file with no block at all has no
    /// parameter set to name and is refused too.
    public func serialized() throws(ProgramError) -> Data {
        var writer = ByteWriter()
        writer.append(bytes: keySetID.bytes)
        writer.append(UInt32(names.count))
        var fingerprint: UInt64?
        for name in names {
            guard Self.isValidName(name) else {
                throw ProgramError(.invalidInput, "the name \"\(name.prefix(64))\" is not 1 to 64 characters of A-Z, a-z, 0-9, _, . and -")
            }
            let value = values[name]!
            let (kind, elements, shape): (ValueKind, [EncryptedInteger], Shape) = switch value {
            case .scalar(let x): (x.kind, [x], .scalar)
            case .vector(let kind, let xs): (kind, xs, .vector)
            }
            let blockCount = elements.first?.radix.blockCount ?? 0
            for element in elements {
                guard element.kind == kind, element.radix.blockCount == blockCount, blockCount > 0 else {
                    throw ProgramError(.invalidInput, "the elements of \"\(name)\" differ in type or block count")
                }
                for block in element.radix.blocks {
                    guard fingerprint == nil || fingerprint == block.lwe.parameterFingerprint else {
                        throw ProgramError(.invalidInput, "\"\(name)\" holds blocks of another parameter set than the values before it")
                    }
                    fingerprint = block.lwe.parameterFingerprint
                }
            }
            let nameBytes = Array(name.utf8)
            writer.append(UInt8(nameBytes.count))
            writer.append(bytes: nameBytes)
            writer.append(kind.objectKind.rawValue)
            writer.append(shape.rawValue)
            writer.append(UInt8(0))
            writer.append(UInt32(elements.count))
            let perObject = max(1, Self.blocksPerWrittenObject / max(1, blockCount))
            let chunks = stride(from: 0, to: elements.count, by: perObject).map { elements[$0..<min(elements.count, $0 + perObject)] }
            writer.append(UInt32(chunks.count))
            for chunk in chunks {
                let blocks = chunk.flatMap(\.radix.blocks)
                let object: Data
                do {
                    object = try BlockCiphertextList(blocks: blocks.map(\.lwe), degrees: blocks.map(\.degree)).serialized(kind: .blockList)
                } catch {
                    throw ProgramError(.invalidInput, "the blocks of \"\(name)\" cannot be serialized: \(error)")
                }
                writer.append(UInt64(object.count))
                writer.append(bytes: Array(object))
            }
        }
        guard let fingerprint else { throw ProgramError(.invalidInput, "the values hold no block, so no parameter set to write") }
        return ObjectHeader.seal(kind: .namedValues, compressed: false, wordBits: 64, parameterFingerprint: fingerprint,
                                 payload: writer.bytes)
    }

    /// Reads a file made under `parameters`. Every failure (not this format, truncated,
    /// corrupted, another parameter set, a bad or repeated name, a count above `limits`, blocks
    /// that do not add up to the declared values) is a `.malformedCiphertext` error, and
    /// nothing sized by the file's claims is allocated before the claim is checked against
    /// `limits` and against the bytes actually present.
    public init(serialized data: Data, parameters: ParameterSet, limits: EncryptedValuesLimits = .init()) throws(ProgramError) {
        guard data.count <= limits.maximumFileSize else {
            throw ProgramError(.malformedCiphertext, "encrypted values: the file has \(data.count) bytes, at most \(limits.maximumFileSize) are accepted")
        }
        do {
            self = try ObjectHeader.open(data, kinds: [.namedValues], wordType: UInt64.self, parameters: parameters) { reader, _ in
                try Self.readPayload(&reader, parameters: parameters, limits: limits)
            }
        } catch let refusal as FormatRefusal {
            throw ProgramError(.malformedCiphertext, "encrypted values: \(refusal.message)")
        } catch let error as SerializationError {
            throw ProgramError(.malformedCiphertext, "encrypted values: \(Self.explain(error, parameters: parameters))")
        } catch {
            throw ProgramError(.malformedCiphertext, "encrypted values: \(error)")
        }
    }

    private static func explain(_ error: SerializationError, parameters: ParameterSet) -> String {
        switch error {
        case .parameterMismatch: "made under another parameter set than \(parameters.name)"
        case .unexpectedKind(_, let found): "not an encrypted-values file (a \(found))"
        default: error.description
        }
    }

    private static func readPayload(_ reader: inout ByteReader, parameters: ParameterSet,
                                    limits: EncryptedValuesLimits) throws -> EncryptedValues {
        guard let keySetID = KeySetID(bytes: try reader.readWords(UInt8.self, count: 32, "key set id")) else {
            throw FormatRefusal("bad key set id")
        }
        let entryCount = Int(try reader.read(UInt32.self, "entry count"))
        guard entryCount <= limits.maximumEntries else {
            throw FormatRefusal("\(entryCount) values, at most \(limits.maximumEntries) are accepted")
        }
        var entries: [(String, EncryptedValue)] = []
        var seen: Set<String> = []
        var totalBlocks = 0
        for _ in 0..<entryCount {
            let (name, value) = try readEntry(&reader, parameters: parameters, limits: limits, totalBlocks: &totalBlocks)
            guard seen.insert(name).inserted else { throw FormatRefusal("the value \"\(name)\" is given twice") }
            entries.append((name, value))
        }
        do {
            return try EncryptedValues(keySetID: keySetID, entries)
        } catch {
            throw FormatRefusal(error.message)
        }
    }

    private static func readEntry(_ reader: inout ByteReader, parameters: ParameterSet, limits: EncryptedValuesLimits,
                                  totalBlocks: inout Int) throws -> (String, EncryptedValue) {
        let nameLength = Int(try reader.read(UInt8.self, "name length"))
        guard (1...maximumNameLength).contains(nameLength) else { throw FormatRefusal("a name of \(nameLength) bytes (1 to 64)") }
        let nameBytes = try reader.readWords(UInt8.self, count: nameLength, "name")
        guard let name = String(validating: nameBytes, as: UTF8.self), isValidName(name) else {
            throw FormatRefusal("a name that is not 1 to 64 characters of A-Z, a-z, 0-9, _, . and -")
        }
        let rawKind = try reader.read(UInt16.self, "kind of \(name)")
        guard let kind = ValueKind.allCases.first(where: { $0.objectKind.rawValue == rawKind }) else {
            throw FormatRefusal("\"\(name)\" has unknown value kind \(rawKind)")
        }
        guard let shape = Shape(rawValue: try reader.read(UInt8.self, "shape of \(name)")) else {
            throw FormatRefusal("\"\(name)\" is neither a scalar nor a vector")
        }
        guard try reader.read(UInt8.self, "reserved") == 0 else { throw FormatRefusal("\"\(name)\": reserved byte is not 0") }
        let count = Int(try reader.read(UInt32.self, "element count of \(name)"))
        switch shape {
        case .scalar:
            guard count == 1 else { throw FormatRefusal("the scalar \"\(name)\" declares \(count) elements") }
        case .vector:
            guard count <= limits.maximumVectorLength else {
                throw FormatRefusal("the vector \"\(name)\" has \(count) elements, at most \(limits.maximumVectorLength) are accepted")
            }
        }
        guard let blocksPerElement = kind.blockCount(for: parameters) else {
            throw FormatRefusal("\(kind) values cannot be made of \(parameters.messageBits)-bit blocks")
        }
        // count ≤ 4096 (or 1) and blocksPerElement ≤ 64: no overflow.
        let expected = count * blocksPerElement
        guard totalBlocks + expected <= limits.maximumTotalBlocks else {
            throw FormatRefusal("more than \(limits.maximumTotalBlocks) blocks in all")
        }
        totalBlocks += expected
        let objectCount = Int(try reader.read(UInt32.self, "object count of \(name)"))
        guard objectCount <= expected, (objectCount == 0) == (expected == 0) else {
            throw FormatRefusal("\"\(name)\" has \(objectCount) block objects for \(expected) blocks")
        }
        var lwes: [LWECiphertext<UInt64>] = []
        var degrees: [UInt64] = []
        lwes.reserveCapacity(expected)
        degrees.reserveCapacity(expected)
        for _ in 0..<objectCount {
            let length = try reader.read(UInt64.self, "object length")
            guard length <= UInt64(reader.remaining) else {
                throw FormatRefusal("\"\(name)\": a block object of \(length) bytes, \(reader.remaining) left")
            }
            let object = Data(try reader.readWords(UInt8.self, count: Int(length), "block object"))
            let list = try readBlocks(object, entryKind: kind, parameters: parameters, room: expected - lwes.count, name: name)
            lwes += list.blocks
            degrees += list.degrees
        }
        guard lwes.count == expected else {
            throw FormatRefusal("\"\(name)\" has \(lwes.count) blocks, \(count) \(kind) values need \(expected)")
        }
        let encoding = ShortintEncoding(parameters: parameters)
        let maxDegree = kind == .bool ? 1 : encoding.maxDegree
        var elements: [EncryptedInteger] = []
        elements.reserveCapacity(count)
        for e in 0..<count {
            let range = (e * blocksPerElement)..<((e + 1) * blocksPerElement)
            let blocks = range.map { ShortintCiphertext(lwe: lwes[$0], degree: degrees[$0], noiseLevel: encoding.maxNoiseLevel) }
            for block in blocks where block.degree > maxDegree {
                throw FormatRefusal("\"\(name)\": a block of degree \(block.degree), a \(kind) block has at most \(maxDegree)")
            }
            elements.append(EncryptedInteger(kind: kind, radix: RadixCiphertext(blocks: blocks)))
        }
        switch shape {
        case .scalar: return (name, .scalar(elements[0]))
        case .vector: return (name, .vector(kind, elements))
        }
    }

    /// One nested object's blocks. Its block count is checked against `room` (the blocks the
    /// entry still needs) before a compact list is expanded or seeded blocks decompressed, the
    /// steps that allocate far more than the object's own bytes.
    private static func readBlocks(_ object: Data, entryKind: ValueKind, parameters: ParameterSet, room: Int,
                                   name: String) throws -> BlockCiphertextList<UInt64> {
        let header = try ObjectHeader.parse(prefix: object)
        let allowed: Set<ObjectKind> = [.blockList, entryKind.objectKind]
        func checkFits(_ kind: ObjectKind, _ count: Int) throws {
            guard allowed.contains(kind) else {
                throw FormatRefusal("\"\(name)\" is a \(entryKind) value but holds a \(kind) object")
            }
            guard count > 0 else { throw FormatRefusal("\"\(name)\" holds an empty block object") }
            guard count <= room else { throw FormatRefusal("\"\(name)\" holds more blocks than its values need") }
        }
        if header.kind == .compactList {
            let (target, compact) = try CompactCiphertextList<UInt64>.deserialize(object, parameters: parameters)
            try checkFits(target, compact.count)
            return compact.expand()
        }
        guard header.kind.isBlockList else { throw FormatRefusal("\"\(name)\" holds a \(header.kind), not blocks") }
        if header.compressed {
            let (kind, seeded) = try SeededBlockCiphertextList<UInt64>.deserialize(object, parameters: parameters)
            try checkFits(kind, seeded.degrees.count)
            return seeded.decompress()
        }
        // The full form allocates no more than its own bytes.
        let (kind, list) = try BlockCiphertextList<UInt64>.deserialize(object, parameters: parameters)
        try checkFits(kind, list.blocks.count)
        return list
    }
}
