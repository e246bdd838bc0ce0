import Foundation

/// The parameters' JSON as written, before names are resolved and kinds checked. Decoding is
/// strict: every object refuses fields it does not define (a misspelt `"to"` must not be
/// ignored), and a number is never accepted for a string or a boolean, nor a fraction or a
/// negative number for a constant.
struct OperationGraphDocument: Decodable {
    /// Input names and their kinds, as the strings of `ValueKind`.
    var inputs: [String: String]
    var constants: [String: Constant]
    var nodes: [Node]
    var outputs: [String]

    struct Constant: Decodable {
        var kind: ValueKind
        var value: Value

        /// A constant's value: the JSON's `true`/`false` for a boolean, a non-negative
        /// integer otherwise. Which one is read depends on `type`, so that `1` is refused
        /// for a boolean and `true` for an integer.
        enum Value: Equatable {
            case bool(Bool)
            case integer(UInt64)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: FieldName.self)
            try c.refuseFields(except: ["type", "value"])
            let type = try c.decode(String.self, forKey: "type")
            guard let kind = ValueKind(rawValue: type) else {
                throw ProgramError(.invalidParameters,
                                   "\(OperationGraphDocument.place(c.codingPath + [FieldName(stringValue: "type")])): unknown type \(quotedName(type)) (expected \(ValueKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self.kind = kind
            // The decoder reports a number out of UInt64's range (negative, fractional, above
            // 2^64 - 1) without its place in the document, so the place is added here.
            do {
                value = kind == .bool
                    ? .bool(try c.decode(Bool.self, forKey: "value"))
                    : .integer(try c.decode(UInt64.self, forKey: "value"))
            } catch {
                let expected = kind == .bool ? "true or false" : "an integer from 0 to \(kind.maximum)"
                throw ProgramError(.invalidParameters,
                                   "\(OperationGraphDocument.place(c.codingPath + [FieldName(stringValue: "value")])): expected \(expected)")
            }
        }
    }

    struct Node: Decodable {
        var id: String
        var op: String
        var args: [String]
        /// The target kind of `cast`; refused on any other operation.
        var to: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: FieldName.self)
            try c.refuseFields(except: ["id", "op", "args", "to"])
            id = try c.decode(String.self, forKey: "id")
            op = try c.decode(String.self, forKey: "op")
            args = try c.decode([String].self, forKey: "args")
            to = try c.decodeIfPresent(String.self, forKey: "to")
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FieldName.self)
        try c.refuseFields(except: ["inputs", "constants", "nodes", "outputs"])
        inputs = try c.decode([String: String].self, forKey: "inputs")
        constants = try c.decodeIfPresent([String: Constant].self, forKey: "constants") ?? [:]
        nodes = try c.decode([Node].self, forKey: "nodes")
        outputs = try c.decode([String].self, forKey: "outputs")
    }

    /// Decodes `data`, every failure a `ProgramError(.invalidParameters)` that names where in
    /// the document it is (`nodes[2].args`, `constants.limit.value`).
    static func decode(_ data: Data) throws(ProgramError) -> Self {
        // The decoder's memory grows with the document, so its size is bounded first.
        guard data.count <= OperationGraphLimits.maxParameterBytes else {
            throw ProgramError(.invalidParameters,
                               "the parameters are \(data.count) bytes, more than the limit of \(OperationGraphLimits.maxParameterBytes)")
        }
        do {
            return try JSONDecoder().decode(Self.self, from: data)
        } catch let error as ProgramError {
            throw error
        } catch let error as DecodingError {
            throw ProgramError(.invalidParameters, describe(error))
        } catch {
            throw ProgramError(.invalidParameters, "the parameters are not valid JSON")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context):
            return "\(place(context.codingPath)): expected \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(place(context.codingPath)): expected \(describe(type)), not null"
        case .keyNotFound(let key, let context):
            return "\(place(context.codingPath + [key])): the field is required"
        case .dataCorrupted(let context):
            // The decoder's own description of a syntax error quotes the input; a number out
            // of range for UInt64 also lands here.
            return context.codingPath.isEmpty
                ? "the parameters are not valid JSON"
                : "\(place(context.codingPath)): the value is malformed or out of range"
        @unknown default:
            return "the parameters are malformed"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is UInt64.Type: "a non-negative integer"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// A coding path as the document's reader writes it: `nodes[2].args[0]`.
    static func place(_ path: [any CodingKey]) -> String {
        guard !path.isEmpty else { return "the parameters" }
        var text = ""
        for key in path {
            if let index = key.intValue { text += "[\(index)]"; continue }
            // Field names print as they are; a client's names (the keys of `inputs` and
            // `constants`) only when they are valid names.
            let name = isValidName(key.stringValue) ? key.stringValue : quotedName(key.stringValue)
            text += (text.isEmpty ? "" : ".") + name
        }
        return text
    }
}

/// Any field name: the containers are read by name and checked against a list.
struct FieldName: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    init(stringLiteral value: String) { stringValue = value }
}

extension KeyedDecodingContainer where Key == FieldName {
    /// Refuses the object if it has a field not in `known`, naming the first in sorted order
    /// (so the message does not depend on the decoder's key order).
    func refuseFields(except known: Set<String>) throws {
        if let unknown = allKeys.map(\.stringValue).filter({ !known.contains($0) }).min() {
            throw ProgramError(.invalidParameters,
                               "\(OperationGraphDocument.place(codingPath)): unknown field \(quotedName(unknown)) (expected \(known.sorted().joined(separator: ", ")))")
        }
    }
}

/// A client-supplied name for a message: quoted and escaped, and cut to a bounded length so a
/// megabyte-long name cannot make a megabyte-long error.
func quotedName(_ name: String) -> String {
    let limit = OperationGraphLimits.maxNameLength
    let cut = name.count > limit ? String(name.prefix(limit)) + "…" : name
    return String(reflecting: cut)
}

/// A name of inputs, constants and nodes: 1 to 64 characters of [A-Za-z0-9_]. Names are short
/// ASCII identifiers because they appear in the result file, in logs and in error messages,
/// where anything else would need escaping.
func isValidName(_ name: String) -> Bool {
    let utf8 = name.utf8
    return (1...OperationGraphLimits.maxNameLength).contains(utf8.count) && utf8.allSatisfy { c in
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }
}
