import Jobs

/// `matrix_multiply`: the product of two matrices of up to 256 x 256.
///
/// Input `{"a": [[1, 2], [3, 4]], "b": [[5], [6]]}`: rectangular arrays of rows, a's column
/// count equal to b's row count. Output `{"product": [[17], [39]], "rows": 2, "columns": 1}`.
public struct MatrixMultiplyExecutor: JobExecutor {
    public static let maxDimension = 256

    public let algorithm = "matrix_multiply"

    public init() {}

    public func validate(input: JSONValue) throws(JobInputError) {
        _ = try parse(input)
    }

    public func run(input: JSONValue) async throws -> JSONValue {
        let (a, b) = try parse(input)
        let product = try Matrix.product(a, b)
        if let index = product.elements.firstIndex(where: { !$0.isFinite }) {
            throw JobInputError("the product overflows: entry [\(index / product.columns)][\(index % product.columns)] is beyond the range of a double")
        }
        let rows = (0..<product.rows).map { row in
            JSONValue.array(product.elements[row * product.columns ..< (row + 1) * product.columns].map(JSONValue.number))
        }
        return .object([
            "product": .array(rows),
            "rows": .number(Double(product.rows)),
            "columns": .number(Double(product.columns)),
        ])
    }

    func parse(_ input: JSONValue) throws(JobInputError) -> (a: Matrix, b: Matrix) {
        let fields = try InputFields(input, algorithm: algorithm, known: ["a", "b"])
        let a = try matrix(fields["a"], name: "a")
        let b = try matrix(fields["b"], name: "b")
        guard a.columns == b.rows else {
            throw JobInputError("input.a has \(a.columns) columns but input.b has \(b.rows) rows: a x b needs them equal")
        }
        return (a, b)
    }

    private func matrix(_ value: JSONValue?, name: String) throws(JobInputError) -> Matrix {
        let range = "1 to \(Self.maxDimension)"
        guard let value else { throw JobInputError("input.\(name) is required: a matrix as an array of rows of numbers") }
        guard let rows = value.arrayValue else {
            throw JobInputError("input.\(name) must be an array of rows, each an array of numbers")
        }
        guard (1...Self.maxDimension).contains(rows.count) else {
            throw JobInputError("input.\(name) must have \(range) rows (it has \(rows.count))")
        }
        var columns = 0
        var elements: [Double] = []
        for (i, row) in rows.enumerated() {
            guard let entries = row.arrayValue else { throw JobInputError("input.\(name)[\(i)] must be an array of numbers") }
            if i == 0 {
                guard (1...Self.maxDimension).contains(entries.count) else {
                    throw JobInputError("input.\(name) must have \(range) columns (row 0 has \(entries.count))")
                }
                columns = entries.count
                elements.reserveCapacity(rows.count * columns)
            } else if entries.count != columns {
                throw JobInputError("input.\(name) must be rectangular: row \(i) has \(entries.count) entries, row 0 has \(columns)")
            }
            for (j, entry) in entries.enumerated() {
                guard let number = entry.doubleValue, number.isFinite else {
                    throw JobInputError("input.\(name)[\(i)][\(j)] must be a finite number")
                }
                elements.append(number)
            }
        }
        return Matrix(rows: rows.count, columns: columns, elements: elements)
    }
}

/// A dense matrix of doubles in row-major order.
struct Matrix: Equatable {
    let rows: Int
    let columns: Int
    var elements: [Double]

    /// a x b, with the loops in i-k-j order: the innermost loop runs along a row of b and a row
    /// of the result, both contiguous, instead of down a column of b (i-j-k), which touches a
    /// new cache line on every step once b is larger than a few rows. Each entry still sums
    /// its terms in k order, as the textbook formula does. Checks for cancellation per row.
    static func product(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        precondition(a.columns == b.rows, "inner dimensions differ")
        let (n, inner, m) = (a.rows, a.columns, b.columns)
        var result = [Double](repeating: 0, count: n * m)
        try a.elements.withUnsafeBufferPointer { a in
            try b.elements.withUnsafeBufferPointer { b in
                try result.withUnsafeMutableBufferPointer { c in
                    for i in 0..<n {
                        try Task.checkCancellation()
                        let cRow = i * m
                        for k in 0..<inner {
                            let aik = a[i * inner + k]
                            let bRow = k * m
                            for j in 0..<m {
                                c[cRow + j] += aik * b[bRow + j]
                            }
                        }
                    }
                }
            }
        }
        return Matrix(rows: n, columns: m, elements: result)
    }
}
