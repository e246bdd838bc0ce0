import FHEPrograms
import Foundation
import Jobs

/// The plaintext a retrieval seals: UTF-8 JSON `{"outputs": {NAME: VALUE, ...}}` in the
/// outputs' declared order, padded with trailing spaces to the longest text the outputs' types
/// allow, so the seal's length depends only on the algorithm and its parameters (through the
/// outputs' types) and reveals nothing of the values.
///
/// Values: booleans as `true`/`false`; u8 to u32 as JSON numbers; u64, which can pass 2^53
/// (where JSON numbers stop being exact in most readers), always as a decimal string; vectors
/// as arrays.
enum ResultPlaintext {
    /// The padded bytes. `outputs` are the quote's (name and type); `values` what decryption
    /// gave, by name.
    static func encode(outputs: [FHEOutput], values: [(String, ClearValue)]) throws -> [UInt8] {
        let byName = Dictionary(values, uniquingKeysWith: { first, _ in first })
        var text: [UInt8] = Array(#"{"outputs":{"#.utf8)
        var longest = text.count + 2
        for (index, output) in outputs.enumerated() {
            guard let value = byName[output.name], let type = OutputType(output.type) else {
                throw JobInputError("the result has no value \(output.name) of type \(output.type)")
            }
            let name = Array(try JSONEncoder().encode(output.name)) + [UInt8(ascii: ":")]
            if index > 0 { text.append(UInt8(ascii: ",")); longest += 1 }
            text += name
            try type.append(value, to: &text)
            longest += name.count + type.longestText
        }
        text += Array("}}".utf8)
        guard text.count <= longest else { throw JobInputError("a result value does not fit its type") }
        return text + [UInt8](repeating: UInt8(ascii: " "), count: longest - text.count)
    }

    /// `u16`, `bool`, `u32[4]`: a kind and, for vectors, a length.
    struct OutputType {
        var kind: ValueKind
        var length: Int?

        init?(_ text: String) {
            var name = Substring(text)
            if let open = name.firstIndex(of: "["), name.hasSuffix("]") {
                guard let n = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), n >= 1 else { return nil }
                length = n
                name = name[..<open]
            } else {
                length = nil
            }
            guard let kind = ValueKind(rawValue: String(name)) else { return nil }
            self.kind = kind
        }

        var longestScalar: Int {
            switch kind {
            case .bool: 5                                          // false
            case .uint64: 22                                       // "18446744073709551615"
            default: String(kind.maximum).utf8.count
            }
        }

        var longestText: Int { length.map { 2 + $0 * longestScalar + ($0 - 1) } ?? longestScalar }

        func append(_ value: ClearValue, to text: inout [UInt8]) throws {
            if let length {
                guard case .vector(let items) = value, items.count == length else { throw JobInputError("a result vector of the wrong length") }
                text.append(UInt8(ascii: "["))
                for (i, item) in items.enumerated() {
                    if i > 0 { text.append(UInt8(ascii: ",")) }
                    try appendScalar(item, to: &text)
                }
                text.append(UInt8(ascii: "]"))
            } else {
                try appendScalar(value, to: &text)
            }
        }

        private func appendScalar(_ value: ClearValue, to text: inout [UInt8]) throws {
            switch (kind, value) {
            case (.bool, .bool(let b)): text += Array((b ? "true" : "false").utf8)
            case (.uint64, .uint(let x)): text += Array("\"\(x)\"".utf8)
            case (_, .uint(let x)) where kind != .bool && x <= kind.maximum: text += Array(String(x).utf8)
            default: throw JobInputError("a result value does not match its type \(kind)")
            }
        }
    }
}
