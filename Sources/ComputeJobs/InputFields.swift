import Jobs

/// The fields of an executor's `input` object, checked against the fields the algorithm
/// knows, so that a misspelt field is a 400 that names it rather than a silently ignored value.
struct InputFields {
    private let fields: [String: JSONValue]

    init(_ input: JSONValue, algorithm: String, known: [String]) throws(JobInputError) {
        let list = known.joined(separator: ", ")
        guard let fields = input.objectValue else {
            throw JobInputError("input must be an object with the fields of a \(algorithm) input (\(list))")
        }
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw JobInputError("input.\(unknown.prefix(64)) is not a field of a \(algorithm) input (\(list))")
        }
        self.fields = fields
    }

    subscript(name: String) -> JSONValue? { fields[name] }
}
