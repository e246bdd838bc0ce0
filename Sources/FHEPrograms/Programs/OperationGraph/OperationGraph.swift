/// The parameters of the `program` algorithm once read and checked: a typed, acyclic graph of
/// operations on encrypted integers and booleans (see `OperationGraphProgram` for the JSON).
///
/// Every fact a run depends on is settled here, before any ciphertext is touched: each node's
/// operation, the kind of each operand and of the result, whether an operand is encrypted or
/// a clear constant (which picks the engine's scalar variant), and which earlier value it
/// reads. Evaluation therefore never fails on the graph itself, only on inputs that do not
/// match it or on the engine.
struct OperationGraph: Sendable {
    /// The encrypted inputs the file must hold, each a single value of its kind.
    let inputs: [String: ValueKind]
    /// In evaluation order: a node only reads inputs, constants and nodes before it.
    let nodes: [Node]
    /// The values written to the result file, in its order.
    let outputs: [Output]

    /// One operation and its result.
    struct Node: Sendable {
        /// The node's name: the output's name when it is listed in `outputs`.
        let id: String
        let operation: Operation
        let arguments: [Operand]
        /// The kind of the result (a comparison gives `.bool`; `cast` gives its target).
        let kind: ValueKind
    }

    /// A value a node reads, with its kind.
    struct Operand: Sendable {
        let source: Source
        let kind: ValueKind
    }

    enum Source: Sendable, Equatable {
        /// An encrypted input of the file, by name.
        case input(String)
        /// A public constant (0 or 1 for a boolean), already checked to fit its kind.
        case constant(UInt64)
        /// The result of `nodes[index]`, with index below the reading node's.
        case node(Int)

        var isConstant: Bool { if case .constant = self { true } else { false } }
    }

    /// One value of the result file: a node's result or an input passed through.
    struct Output: Sendable {
        let name: String
        let operand: Operand
    }

    /// The operations of the JSON's `op` field (TFHE-rs's operators on FheUint and FheBool).
    enum Operation: String, Sendable, CaseIterable {
        case add, sub, mul, div, rem, neg
        case eq, ne, lt, le, gt, ge
        case min, max, select
        case and, or, xor, not
        case shl, shr
        case cast

        /// Whether a key that defers propagation leaves this operation's result with carries
        /// (`IntegerServerKey.deferringPropagation`): the additions and products.
        var defersPropagation: Bool { [.add, .sub, .mul, .neg].contains(self) }

        /// The number of arguments the operation takes.
        var arity: Int {
            switch self {
            case .neg, .not, .cast: 1
            case .select: 3
            default: 2
            }
        }
    }
}

/// The bounds on a graph, each checked before anything it bounds is allocated or run.
enum OperationGraphLimits {
    /// Bytes of the parameters' JSON: far more than the largest graph the other limits allow
    /// (256 nodes of three 64-character arguments are about 60 KiB), so that the decoder's
    /// memory is bounded by the input's size.
    static let maxParameterBytes = 128 * 1024
    static let maxInputs = 16
    static let maxConstants = 64
    static let maxNodes = 256
    static let maxOutputs = 32
    /// Characters of a name (input, constant or node), each of [A-Za-z0-9_].
    static let maxNameLength = 64
    /// The static estimate of a graph's bootstraps (`OperationGraph.estimatedBootstraps`)
    /// must not exceed this: about 53 divisions of u64 by u64, or 7,500 additions of u32
    /// (minutes of work on one machine under secure parameters). The exact count of an
    /// accepted graph is its quote.
    static let maxEstimatedBootstraps = 1_000_000
}
