import Jobs

/// `sort`: up to 100,000 numbers in ascending or descending order.
///
/// Input `{"values": [3, 1, 2], "order": "asc"}` (`order` is "asc" or "desc", default "asc").
/// Output `{"values": [1, 2, 3], "count": 3}`.
public struct SortExecutor: JobExecutor {
    public static let maxValues = 100_000

    public let algorithm = "sort"

    public init() {}

    public func validate(input: JSONValue) throws(JobInputError) {
        _ = try parse(input)
    }

    public func run(input: JSONValue) async throws -> JSONValue {
        let (values, descending) = try parse(input)
        // 100,000 doubles sort in milliseconds; one look at cancellation is enough.
        try Task.checkCancellation()
        let sorted = descending ? values.sorted(by: >) : values.sorted()
        return .object([
            "values": .array(sorted.map(JSONValue.number)),
            "count": .number(Double(sorted.count)),
        ])
    }

    func parse(_ input: JSONValue) throws(JobInputError) -> (values: [Double], descending: Bool) {
        let fields = try InputFields(input, algorithm: algorithm, known: ["values", "order"])
        guard let field = fields["values"] else { throw JobInputError("input.values is required: an array of numbers") }
        guard let elements = field.arrayValue else { throw JobInputError("input.values must be an array of numbers") }
        guard elements.count <= Self.maxValues else {
            throw JobInputError("input.values must have at most \(Self.maxValues) numbers (it has \(elements.count))")
        }
        var values: [Double] = []
        values.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            // JSON cannot spell infinities or NaN, but a JSONValue built in code can hold them,
            // and NaN has no place in an order.
            guard let value = element.doubleValue, value.isFinite else {
                throw JobInputError("input.values[\(index)] must be a finite number")
            }
            values.append(value)
        }
        switch fields["order"] {
        case nil, .some(.string("asc")): return (values, false)
        case .some(.string("desc")): return (values, true)
        default: throw JobInputError("input.order must be \"asc\" or \"desc\"")
        }
    }
}
