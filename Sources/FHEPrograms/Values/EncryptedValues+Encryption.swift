import Foundation
import TFHE

// Encryption and decryption of named values, for clients and tests: the service itself only
// ever reads files and runs programs on them.

extension EncryptedValues {
    /// The clear elements of one value, each checked against the shape and the kind's range.
    static func elements(of value: ClearValue, shape: ValueShape, name: String) throws(ProgramError) -> [ClearValue] {
        let elements: [ClearValue]
        switch (value, shape.length) {
        case (.vector(let xs), let length?):
            guard xs.count == length else {
                throw ProgramError(.invalidInput, "\"\(name)\" is declared with \(length) elements and has \(xs.count)")
            }
            elements = xs
        case (.vector, nil):
            throw ProgramError(.invalidInput, "\"\(name)\" is declared a scalar and given a vector")
        case (_, .some):
            throw ProgramError(.invalidInput, "\"\(name)\" is declared a vector and given a scalar")
        case (_, nil):
            elements = [value]
        }
        for element in elements {
            switch (element, shape.kind) {
            case (.bool, .bool): continue
            case (.uint(let v), let kind) where kind != .bool:
                guard v <= kind.maximum else { throw ProgramError(.invalidInput, "\"\(name)\": \(v) does not fit a \(kind)") }
            default:
                throw ProgramError(.invalidInput, "\"\(name)\": an element is not a \(shape.kind)")
            }
        }
        return elements
    }

    /// The message of each block of one element: a boolean's 0 or 1, an integer's digits.
    static func digits(of element: ClearValue, blockCount: Int, messageBits: Int) -> [UInt64] {
        switch element {
        case .bool(let b): return [b ? 1 : 0]
        case .uint(let v):
            let modulus = UInt64(1) << messageBits
            return (0..<blockCount).map { i in i * messageBits >= 64 ? 0 : (v >> UInt64(i * messageBits)) % modulus }
        case .vector: return []   // excluded by `elements(of:shape:name:)`
        }
    }

    static func blockCount(_ kind: ValueKind, _ parameters: ParameterSet) throws(ProgramError) -> Int {
        guard let count = kind.blockCount(for: parameters) else {
            throw ProgramError(.invalidInput, "\(kind) values cannot be made of \(parameters.messageBits)-bit blocks")
        }
        return count
    }

    /// Encrypts with the secret key (fresh blocks, noise level 1 as the client key makes
    /// them); `serialized()` then writes the full block-list form.
    public static func encrypt(_ values: [(String, ValueShape, ClearValue)], keySetID: KeySetID,
                               with clientKey: ClientKey<UInt64>) throws(ProgramError) -> EncryptedValues {
        var result = try EncryptedValues(keySetID: keySetID)
        let p = clientKey.parameters
        for (name, shape, value) in values {
            let elements = try Self.elements(of: value, shape: shape, name: name)
            let blockCount = try Self.blockCount(shape.kind, p)
            var randomness = EncryptionRandomness()
            var encrypted: [EncryptedInteger] = []
            do {
                for element in elements {
                    let radix: RadixCiphertext<UInt64>
                    switch element {
                    case .bool(let b):
                        radix = RadixCiphertext(blocks: [try clientKey.encryptBooleanBlock(b, randomness: &randomness)])
                    case .uint(let v):
                        radix = try clientKey.encryptRadix(v, blockCount: blockCount, randomness: &randomness)
                    case .vector:
                        throw ProgramError(.invalidInput, "\"\(name)\": nested vectors")   // excluded by `elements`
                    }
                    encrypted.append(EncryptedInteger(kind: shape.kind, radix: radix))
                }
            } catch {
                throw ProgramError(.invalidInput, "\"\(name)\" cannot be encrypted: \(error)")
            }
            try result.insert(shape.length == nil ? .scalar(encrypted[0]) : .vector(shape.kind, encrypted), named: name)
        }
        return result
    }

    /// Encrypts with the public key into a file of compact lists: each value's blocks in as
    /// few lists as the polynomial size N allows (N blocks per list), so a list costs k·N
    /// words plus one per block instead of a whole LWE ciphertext per block. Degrees are
    /// those of fresh digits (messageModulus - 1; 1 for a boolean).
    public static func encrypt(_ values: [(String, ValueShape, ClearValue)], keySetID: KeySetID,
                               publicKey: PublicKey<UInt64>) throws(ProgramError) -> Data {
        let p = publicKey.parameters
        var writer = ByteWriter()
        writer.append(bytes: keySetID.bytes)
        writer.append(UInt32(values.count))
        var names: Set<String> = []
        for (name, shape, value) in values {
            guard isValidName(name) else {
                throw ProgramError(.invalidInput, "the name \"\(name.prefix(64))\" is not 1 to 64 characters of A-Z, a-z, 0-9, _, . and -")
            }
            guard names.insert(name).inserted else { throw ProgramError(.invalidInput, "the value \"\(name)\" is given twice") }
            let elements = try Self.elements(of: value, shape: shape, name: name)
            let blockCount = try Self.blockCount(shape.kind, p)
            let messages = elements.flatMap { digits(of: $0, blockCount: blockCount, messageBits: p.messageBits) }
            let degree: UInt64 = shape.kind == .bool ? 1 : (UInt64(1) << p.messageBits) - 1
            let perList = p.polynomialSize
            let nameBytes = Array(name.utf8)
            writer.append(UInt8(nameBytes.count))
            writer.append(bytes: nameBytes)
            writer.append(shape.kind.objectKind.rawValue)
            writer.append(UInt8(shape.length == nil ? 0 : 1))
            writer.append(UInt8(0))
            writer.append(UInt32(elements.count))
            let chunks = stride(from: 0, to: messages.count, by: perList).map { Array(messages[$0..<min(messages.count, $0 + perList)]) }
            writer.append(UInt32(chunks.count))
            for chunk in chunks {
                let object: Data
                do {
                    object = try publicKey.encryptCompact(chunk, degrees: [UInt64](repeating: degree, count: chunk.count))
                        .serialized(kind: .blockList)
                } catch {
                    throw ProgramError(.invalidInput, "\"\(name)\" cannot be encrypted: \(error)")
                }
                writer.append(UInt64(object.count))
                writer.append(bytes: Array(object))
            }
        }
        return ObjectHeader.seal(kind: .namedValues, compressed: false, wordBits: 64, parameterFingerprint: p.fingerprint,
                                 payload: writer.bytes)
    }

    /// Every value in the clear, in the file's order.
    public func decrypt(with key: ClientKey<UInt64>) throws(ProgramError) -> [(String, ClearValue)] {
        func clear(_ x: EncryptedInteger) throws(ProgramError) -> ClearValue {
            do {
                if x.kind == .bool {
                    guard x.radix.blockCount == 1 else { throw ProgramError(.invalidInput, "a boolean of \(x.radix.blockCount) blocks") }
                    return .bool(try key.decryptBooleanBlock(x.radix.blocks[0]))
                }
                return .uint(try key.decryptRadix(x.radix) & x.kind.maximum)
            } catch let error as ProgramError {
                throw error
            } catch {
                throw ProgramError(.invalidInput, "cannot decrypt: \(error)")
            }
        }
        var result: [(String, ClearValue)] = []
        for name in names {
            switch values[name]! {
            case .scalar(let x): result.append((name, try clear(x)))
            case .vector(_, let xs):
                var clears: [ClearValue] = []
                for x in xs { clears.append(try clear(x)) }
                result.append((name, .vector(clears)))
            }
        }
        return result
    }
}
