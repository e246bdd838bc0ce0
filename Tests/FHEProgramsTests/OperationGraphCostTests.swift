import FHEPrograms
import Foundation
import Testing
import TFHE

/// The static estimate `prepare` enforces is an upper bound: for every operation and width,
/// on fresh operands and on operands that are results of other operations, the bootstraps the
/// engine performs for the node are at most the node's estimate.
@Suite("OperationGraph: the static cost estimate bounds the engine's bootstraps")
struct OperationGraphCostTests {
    let keys = OperationGraphTestKeys.shared

    /// One node of `op` on kind `kind`, after the nodes that make its operands.
    struct Case: CustomTestStringConvertible, Sendable {
        var op: String
        var kind: ValueKind
        /// The second operand is a constant.
        var clear: Bool
        var operands: Operands
        var testDescription: String { "\(op) \(kind)\(clear ? " by a constant" : "") on \(operands)" }

        func graphs() -> (preparation: OperationGraphSpec, full: OperationGraphSpec) {
            let computed = operands != .inputs
            let x = computed ? "x" : "a", y = computed ? "y" : "b", g = computed ? "g" : "f"
            let second = clear ? "k" : y
            // A divisor that is neither 0 nor a power of two, so that the long division runs.
            let constant = kind.maximum / 3
            let args: [String] = switch op {
            case "neg": [x]
            case "not": kind == .bool ? [g] : [x]
            case "select": [g, x, second]
            case "cast": [x]
            default: kind == .bool ? [g, clear ? "t" : "f"] : [x, second]
            }
            let integer: ValueKind = kind == .bool ? .uint8 : kind
            let preparation = OperationGraphSpec(
                inputs: [("a", integer), ("b", integer), ("f", .bool)],
                constants: [("k", integer, constant), ("t", .bool, 1)],
                nodes: operands == .bootstrapped
                    ? [.init(id: "x", op: "add", args: ["a", "b"]), .init(id: "y", op: "sub", args: ["a", "b"]),
                       .init(id: "g", op: "lt", args: ["a", "b"])]
                    : [.init(id: "x", op: "select", args: ["f", "a", "b"]), .init(id: "y", op: "select", args: ["f", "b", "a"]),
                       .init(id: "g", op: "not", args: ["f"])],
                outputs: ["x", "y", "g"])
            var full = preparation
            full.nodes.append(.init(id: "n", op: op, args: args, to: op == "cast" ? (integer == .uint64 ? .uint8 : .uint64) : nil))
            full.outputs = ["n"]
            return (preparation, full)
        }
    }

    /// Where the operands come from: fresh encryptions; results of bootstraps (add, sub, lt);
    /// or linear combinations of them, of higher noise (select's sum of two parts, a boolean's
    /// negation), which the next operation must clean.
    enum Operands: String, CaseIterable, Sendable { case inputs, bootstrapped, linear }

    static func cases(_ kinds: [ValueKind]) -> [Case] {
        var all: [Case] = []
        for kind in kinds {
            for operands in Operands.allCases {
                for op in ["add", "sub", "mul", "div", "rem", "min", "max", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor", "shl", "shr", "select"] {
                    for clear in [false, true] { all.append(Case(op: op, kind: kind, clear: clear, operands: operands)) }
                }
                for op in ["neg", "not", "cast"] { all.append(Case(op: op, kind: kind, clear: false, operands: operands)) }
            }
        }
        for operands in [Operands.bootstrapped, .linear] {
            for op in ["and", "or", "xor", "eq", "ne"] { for clear in [false, true] { all.append(Case(op: op, kind: .bool, clear: clear, operands: operands)) } }
            all.append(Case(op: "not", kind: .bool, clear: false, operands: operands))
        }
        return all
    }

    func check(_ testCase: Case) throws {
        let (preparation, full) = testCase.graphs()
        let program = OperationGraphProgram()
        let values = ["a": testCase.kind == .bool ? 77 : testCase.kind.maximum / 5 * 4, "b": 3, "f": 1] as [String: UInt64]
        let measured = try keys.run(full, values).bootstraps - keys.run(preparation, values).bootstraps
        let estimate = try program.estimatedBootstraps(parameters: full.json) - program.estimatedBootstraps(parameters: preparation.json)
        print("cost \(testCase.testDescription): \(measured) bootstraps, estimate \(estimate)")
        #expect(measured <= estimate, "\(testCase.testDescription): \(measured) bootstraps, estimated \(estimate)")
    }

    @Test(arguments: cases([.uint8, .uint16, .uint32]))
    func boundHolds(_ testCase: Case) throws { try check(testCase) }
}
