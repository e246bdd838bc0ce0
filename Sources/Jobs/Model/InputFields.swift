/// The fields of a JSON object that a client sent (a job's payload, its parameters, an
/// executor's input), checked against the fields known there, so that a misspelt field is a
/// 400 that names it rather than a silently ignored value.
public struct InputFields: Sendable {
    private let fields: [String: JSONValue]

    /// - Parameters:
    ///   - path: where the object is, for messages (`input`, `payload.parameters`).
    ///   - kind: what the object is, for messages (`a sort input`, `a compute payload`).
    public init(_ value: JSONValue, path: String, kind: String, known: [String]) throws(JobInputError) {
        let list = known.joined(separator: ", ")
        guard let fields = value.objectValue else {
            throw JobInputError("\(path) must be an object with the fields of \(kind) (\(list))")
        }
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw JobInputError("\(path).\(unknown.prefix(64)) is not a field of \(kind) (\(list))")
        }
        self.fields = fields
    }

    /// An executor's `input`.
    public init(_ input: JSONValue, algorithm: String, known: [String]) throws(JobInputError) {
        try self.init(input, path: "input", kind: "a \(algorithm) input", known: known)
    }

    public subscript(name: String) -> JSONValue? { fields[name] }
}
