import Foundation
import TFHE

/// The `program` algorithm: a client-written graph of operations on encrypted integers and
/// booleans (TFHE-rs's FheUint8..FheUint64 and FheBool operators), run on the job's inputs.
///
/// ## Parameters
///
/// A JSON object with exactly these fields (any other field, at any level, is refused):
///
/// ```json
/// {"inputs":    {"a": "u16", "b": "u16", "flag": "bool"},
///  "constants": {"limit": {"type": "u16", "value": 1000}},
///  "nodes": [{"id": "s", "op": "add",    "args": ["a", "b"]},
///            {"id": "c", "op": "lt",     "args": ["s", "limit"]},
///            {"id": "r", "op": "select", "args": ["c", "s", "limit"]},
///            {"id": "w", "op": "cast",   "args": ["r"], "to": "u32"}],
///  "outputs": ["r", "c"]}
/// ```
///
/// - `inputs` (required): the encrypted values the input file must hold, name → kind, one of
///   `bool`, `u8`, `u16`, `u32`, `u64`. The file must hold exactly these names, each a single
///   value (not a vector) of its kind; otherwise the job is refused with `INVALID_FHE_INPUT`.
///   At most 16.
/// - `constants` (optional): public values, name → `{"type": kind, "value": v}`, where `v` is
///   `true` or `false` for a `bool` and an integer from 0 to the kind's maximum otherwise
///   (a larger value is refused, not wrapped). At most 64.
/// - `nodes` (required): at most 256 operations, evaluated in order. `id` names the result;
///   `op` is one of the operations below; `args` names its operands, each an input, a
///   constant or an earlier node (so the graph is acyclic: a reference to a later node or to
///   the node itself is refused); `to` is the target kind of `cast` and of no other operation.
/// - `outputs` (required): 1 to 32 distinct names of nodes or inputs, written to the result
///   file in this order, each a single encrypted value of its kind under its own name.
///
/// Every name (input, constant, node id) is 1 to 64 characters of `A-Z a-z 0-9 _`, and unique
/// across inputs, constants and nodes.
///
/// ## Operations and their types
///
/// `K` is an integer kind (`u8` … `u64`); `T` is any kind, `bool` included. Two-operand
/// operations need operands of the same kind.
///
/// | op | arguments | result | semantics |
/// |----|-----------|--------|-----------|
/// | `add`, `sub`, `mul` | K, K | K | wrapping modulo 2^bits (Swift's `&+`, `&-`, `&*`) |
/// | `div`, `rem` | K, K | K | unsigned; x / 0 = K's maximum, x % 0 = x (TFHE-rs's) |
/// | `neg` | K | K | 0 &- x |
/// | `min`, `max` | K, K | K | |
/// | `eq`, `ne` | T, T | bool | |
/// | `lt`, `le`, `gt`, `ge` | K, K | bool | unsigned order |
/// | `and`, `or`, `xor` | T, T | T | bitwise on integers, logical on booleans |
/// | `not` | T | T | bitwise complement on integers, negation on booleans |
/// | `select` | bool, T, T | T | the condition's value ? second : third; the condition is encrypted |
/// | `shl`, `shr` | K, amount | K | the amount is a constant of any integer kind or an encrypted K, taken modulo K's bit count (Swift's `&<<`, `&>>`) |
/// | `cast` | T | `to` | to an integer kind: truncates or zero-extends; a bool gives 0 or 1 |
///
/// One operand may be a constant; the engine's scalar form then runs where it has one
/// (`add`, `sub`, `mul`, `div` and `rem` by a constant, comparisons, bitwise operations on
/// integers, shifts by a constant amount), and the constant is otherwise a trivial (public,
/// noiseless) encryption. A node whose every argument is a constant is refused: its value is
/// public, and the client computes it.
///
/// ## Cost
///
/// `prepare` refuses a graph whose static estimate (`OperationGraph.estimatedBootstraps`, a
/// per-operation worst case for 2-bit blocks, summed over the nodes) is above 1,000,000
/// bootstraps: about 53 divisions of u64 by u64, or 7,500 additions of u32. The exact count on
/// the job's inputs is `PreparedProgram.quote`.
///
/// Every refusal of the parameters is `INVALID_PARAMETERS`, with a message naming the node,
/// input, constant, output or field at fault.
public struct OperationGraphProgram: FHEProgram {
    public init() {}

    public var name: String { "program" }

    public func prepare(parameters: Data, inputs: [String: ValueShape]) throws(ProgramError) -> PreparedProgram {
        let graph = try OperationGraph(parsing: parameters)
        try graph.check(inputs)
        return PreparedProgram(algorithm: name,
                               outputs: graph.outputs.map { (name: $0.name, shape: .scalar($0.operand.kind)) }) { values, key in
            try graph.evaluate(values, key: key)
        }
    }

    /// The static upper estimate of a graph's bootstraps that `prepare` holds against its
    /// limit (see Cost above), for a client to see how far a graph is from it.
    public func estimatedBootstraps(parameters: Data) throws(ProgramError) -> Int {
        try OperationGraph(parsing: parameters, enforcingCostLimit: false).estimatedBootstraps
    }
}
