/// The static bound on a graph's work, checked in `prepare` before a job is queued.
///
/// `prepare` sees no parameter set, so the estimate counts the radix blocks of 2-bit messages
/// (`n` = bits / 2, TFHE-rs's message_2_carry_2 sets, which the service's integer keys use).
/// Each operation's bound is a worst case for its width, measured against the engine
/// (`OperationGraphCostTests` checks every bound against the bootstraps the engine performs on
/// the noisiest operands), so the estimate is never below a real run under those parameters.
/// It is a guard against graphs too costly to accept, not a price: the exact count of an
/// accepted graph on its inputs is `PreparedProgram.quote`.
extension OperationGraph {
    /// An upper bound on the bootstraps of one node whose operands have `n` blocks of 2 bits.
    static func bootstrapBound(_ operation: Operation, blocks n: Int, clearOperand: Bool) -> Int {
        let log = Swift.max(1, Int.bitWidth - (n - 1).leadingZeroBitCount)  // ⌈log₂ n⌉, at least 1
        // Cleaning the operands (at most one bootstrap per block) and resolving carries by
        // the parallel prefix (⌈log₂ n⌉ layers of n/2, plus the block sums and the results).
        let addition = 4 * n + n * log + 4
        // A comparison: the operands cleaned, blocks compared pairwise, then a tree reduction.
        let comparison = 5 * n + 2 * log + 4
        // The condition and both branches cleaned, then two bivariate bootstraps per block.
        let select = 4 * n + 2
        switch operation {
        case .add, .sub, .neg: return addition
        case .mul:
            // n² partial products (two digits each), then their compression and one addition.
            return 3 * n * n + addition
        case .div, .rem:
            // Restoring long division: one step per bit (2n), each at most a shift, a
            // subtraction and a select on the partial remainder, which has about half of the
            // blocks on average (measured: 8.3·n² bootstraps for n = 4, 8, 16).
            return 2 * n * addition
        case .eq, .ne, .lt, .le, .gt, .ge: return comparison
        // The operands are cleaned by the comparison and again by the select.
        case .min, .max: return comparison + select + 2 * n
        case .select: return select
        // Both operands cleaned, then one bivariate bootstrap per block.
        case .and, .or, .xor: return 4 * n + 2
        case .not: return 2 * n
        case .shl, .shr:
            // A clear amount: one bivariate bootstrap per block; an encrypted one: a barrel
            // shifter of log₂(2n) stages, each a clean, a shift and a select.
            return clearOperand ? 2 * n + 2 : (log + 1) * (2 * n + 2 + select) + n
        case .cast: return 2 * n
        }
    }

    /// The sum of every node's bound.
    var estimatedBootstraps: Int {
        nodes.reduce(0) { total, node in total + Self.bootstrapBound(for: node) }
    }

    static func bootstrapBound(for node: Node) -> Int {
        // The widest operand or result decides (a cast's cost is that of its wider side).
        let n = Swift.max(1, widestKind(of: node).bitWidth / 2)
        return bootstrapBound(node.operation, blocks: n, clearOperand: node.arguments.contains { $0.source.isConstant })
    }

    private static func widestKind(of node: Node) -> ValueKind {
        (node.arguments.map(\.kind) + [node.kind]).max { $0.bitWidth < $1.bitWidth }!
    }

    /// Refuses a graph whose estimate is above `OperationGraphLimits.maxEstimatedBootstraps`,
    /// naming its costliest node.
    func refuseCostAboveLimit() throws(ProgramError) {
        let limit = OperationGraphLimits.maxEstimatedBootstraps
        let estimate = estimatedBootstraps
        guard estimate > limit else { return }
        let costliest = nodes.max { Self.bootstrapBound(for: $0) < Self.bootstrapBound(for: $1) }!
        throw Self.refusal("the graph's estimated cost of \(estimate) bootstraps is above the limit of \(limit) "
                           + "(its costliest node, \(quotedName(costliest.id)) (\(costliest.operation) on \(Self.widestKind(of: costliest))), alone may take \(Self.bootstrapBound(for: costliest)))")
    }
}
