/// The test polynomial of a programmable bootstrap (CGGI 2020 §4; TFHE-rs's "accumulator"):
/// N torus values such that blind rotation by the phase φ̃ ∈ Z_2N brings the value for φ̃
/// to the constant coefficient.
public struct LookupTable<T: TorusScalar>: Sendable, Hashable {
    public let coefficients: [T]
    /// Functions evaluated by one blind rotation of this table (many-LUT bootstrapping, see
    /// `ServerKey.lookupTable(functions:)`): output j is the coefficient j·outputSpacing of the
    /// rotated table. 1 for an ordinary table.
    public let outputCount: Int
    /// Coefficients between two outputs' positions (0 for an ordinary table).
    public let outputSpacing: Int

    /// A table given coefficient by coefficient.
    public init(coefficients: [T]) { self.init(coefficients: coefficients, outputCount: 1, outputSpacing: 0) }

    /// A table of several functions laid out `outputSpacing` coefficients apart.
    public init(coefficients: [T], outputCount: Int, outputSpacing: Int) {
        precondition(outputCount >= 1 && (outputCount - 1) * outputSpacing < coefficients.count, "outputs inside the table")
        self.coefficients = coefficients
        self.outputCount = outputCount
        self.outputSpacing = outputSpacing
    }

    /// The constant table: every phase in [0, 1/2) maps to `value`, every phase in [1/2, 1)
    /// to -`value` (the negacyclic wrap). Gate bootstrapping's sign function.
    public init(polynomialSize n: Int, constant value: T) {
        self.init(coefficients: [T](repeating: value, count: n))
    }

    /// A table from one output per box of N/boxCount coefficients. The input's phase for box
    /// i is centred on i·N/boxCount, so the polynomial is rotated by half a box: the first half
    /// box moves, negated, to the end (X^N = -1), where noise that makes a phase slightly
    /// negative lands on the right value.
    public init(polynomialSize n: Int, boxValues: [T], outputCount: Int = 1, outputSpacing: Int = 0) {
        let boxSize = n / boxValues.count
        var table = [T](repeating: 0, count: n)
        for (box, value) in boxValues.enumerated() {
            for j in 0..<boxSize { table[box * boxSize + j] = value }
        }
        let half = boxSize / 2
        var rotated = [T](repeating: 0, count: n)
        for j in 0..<n {
            rotated[j] = j + half < n ? table[j + half] : (0 &- table[j + half - n])
        }
        self.init(coefficients: rotated, outputCount: outputCount, outputSpacing: outputSpacing)
    }

    /// Where each table's outputs begin when the outputs of several bootstraps are laid out
    /// one after the other (the batch's and the pool's order), and their total at the end.
    static func outputStarts(_ tables: [LookupTable<T>]) -> [Int] {
        tables.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.outputCount) }
    }
}
