import Foundation
import TFHE

/// One encrypted integer or boolean: its type and its radix blocks (one block for a boolean).
public struct EncryptedInteger: Sendable, Hashable {
    public let kind: ValueKind
    public var radix: RadixCiphertext<UInt64>

    public init(kind: ValueKind, radix: RadixCiphertext<UInt64>) { self.kind = kind; self.radix = radix }
}

/// A named input or output of a program: one encrypted value or a vector of them.
public enum EncryptedValue: Sendable, Hashable {
    case scalar(EncryptedInteger)
    case vector(ValueKind, [EncryptedInteger])

    public var shape: ValueShape {
        switch self {
        case .scalar(let x): .scalar(x.kind)
        case .vector(let kind, let xs): .vector(kind, length: xs.count)
        }
    }
}

/// The key set a ciphertext was made under: the SHA-256 of that key set's serialized
/// compressed server key. Two owners' key sets never share it, so a ciphertext made for
/// another owner is refused by name before any work (isolation itself comes from the keys
/// being different).
public struct KeySetID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let hi = iterator.next(), let lo = iterator.next() {
            guard let h = Self.nibble(hi), let l = Self.nibble(lo) else { return nil }
            out.append(h << 4 | l)
        }
        self.bytes = out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Lowercase hex, as the API shows it.
    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
    public var description: String { hex }
}

/// The named encrypted values of one file: a program's inputs or its outputs, all made under
/// one key set. Names are unique; their order is the file's.
public struct EncryptedValues: Sendable, Hashable {
    public var keySetID: KeySetID
    public private(set) var names: [String]
    public private(set) var values: [String: EncryptedValue]

    public init(keySetID: KeySetID, _ entries: [(String, EncryptedValue)] = []) throws(ProgramError) {
        self.keySetID = keySetID
        names = []
        values = [:]
        for (name, value) in entries { try insert(value, named: name) }
    }

    public mutating func insert(_ value: EncryptedValue, named name: String) throws(ProgramError) {
        guard values[name] == nil else { throw ProgramError(.invalidInput, "the value \"\(name.prefix(64))\" is given twice") }
        names.append(name)
        values[name] = value
    }

    public subscript(name: String) -> EncryptedValue? { values[name] }

    /// The shape of every value, by name: all that a program's validation may look at.
    public var shapes: [String: ValueShape] { values.mapValues(\.shape) }
}

/// A clear (decrypted) value: only the key service and a client-key owner ever see one.
public enum ClearValue: Sendable, Hashable {
    case bool(Bool)
    case uint(UInt64)
    case vector([ClearValue])
}
