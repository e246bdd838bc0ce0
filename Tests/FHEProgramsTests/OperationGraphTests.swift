import FHEPrograms
import Foundation
import Testing
import TFHE

/// The `program` algorithm run encrypted against the same graph run in the clear.
@Suite("OperationGraph: encrypted evaluation equals the clear one")
struct OperationGraphTests {
    let keys = OperationGraphTestKeys.shared

    /// The example of the format's documentation, on values either side of the constant.
    @Test(arguments: [(UInt64(400), UInt64(500)), (700, 500), (65535, 2)])
    func documentedExample(a: UInt64, b: UInt64) throws {
        let spec = OperationGraphSpec(
            inputs: [("a", .uint16), ("b", .uint16), ("flag", .bool)],
            constants: [("limit", .uint16, 1000)],
            nodes: [.init(id: "s", op: "add", args: ["a", "b"]),
                    .init(id: "c", op: "lt", args: ["s", "limit"]),
                    .init(id: "r", op: "select", args: ["c", "s", "limit"]),
                    .init(id: "w", op: "cast", args: ["r"], to: .uint32)],
            outputs: ["r", "c"])
        let values = ["a": a, "b": b, "flag": 1]
        let run = try keys.run(spec, values)
        #expect(run.names == ["r", "c"])
        #expect(run.outputs == spec.evaluate(values))
        let sum = (a + b) & 0xFFFF
        #expect(run.outputs["r"] == (sum < 1000 ? sum : 1000))
    }

    /// Twenty random graphs of 3 to 6 nodes over u8 and bool inputs, with constants on either
    /// side, zero divisors and casts to u16, every node an output.
    @Test(arguments: 0..<20)
    func randomGraph(seed: Int) throws {
        let (spec, values) = OperationGraphRandomGraphs.make(seed: UInt64(seed))
        let run = try keys.run(spec, values)
        let expected = spec.evaluate(values)
        #expect(run.names == spec.outputs)
        #expect(run.outputs == expected, "seed \(seed): \(String(decoding: spec.json, as: UTF8.self)) on \(values)")
    }

    /// The cases a random graph may miss: constants first, zero divisors, encrypted shifts,
    /// booleans through every boolean operation, an input passed through.
    @Test func edgeCases() throws {
        let spec = OperationGraphSpec(
            inputs: [("x", .uint8), ("zero", .uint8), ("p", .bool), ("q", .bool)],
            constants: [("k", .uint8, 200), ("z", .uint8, 0), ("s", .uint16, 11), ("t", .bool, 1)],
            nodes: [.init(id: "kMinusX", op: "sub", args: ["k", "x"]),
                    .init(id: "kDivX", op: "div", args: ["k", "x"]),
                    .init(id: "kRemX", op: "rem", args: ["k", "x"]),
                    .init(id: "xDivZero", op: "div", args: ["x", "zero"]),
                    .init(id: "xRemZero", op: "rem", args: ["x", "zero"]),
                    .init(id: "xDivZ", op: "div", args: ["x", "z"]),
                    .init(id: "xRemZ", op: "rem", args: ["x", "z"]),
                    .init(id: "kLtX", op: "lt", args: ["k", "x"]),
                    .init(id: "kGeX", op: "ge", args: ["k", "x"]),
                    .init(id: "xShlS", op: "shl", args: ["x", "s"]),
                    .init(id: "kShrX", op: "shr", args: ["k", "x"]),
                    .init(id: "xShlX", op: "shl", args: ["x", "x"]),
                    .init(id: "pAndQ", op: "and", args: ["p", "q"]),
                    .init(id: "pOrT", op: "or", args: ["p", "t"]),
                    .init(id: "tXorQ", op: "xor", args: ["t", "q"]),
                    .init(id: "pEqQ", op: "eq", args: ["p", "q"]),
                    .init(id: "notP", op: "not", args: ["p"]),
                    .init(id: "pick", op: "select", args: ["p", "q", "t"]),
                    .init(id: "pickK", op: "select", args: ["q", "k", "z"]),
                    .init(id: "pickAnd", op: "and", args: ["pick", "kLtX"]),
                    .init(id: "pickWide", op: "cast", args: ["pick"], to: .uint16),
                    .init(id: "wide", op: "cast", args: ["p"], to: .uint64),
                    .init(id: "narrow", op: "cast", args: ["xShlS"], to: .uint8),
                    .init(id: "minK", op: "min", args: ["k", "x"]),
                    .init(id: "negX", op: "neg", args: ["x"])],
            outputs: ["kMinusX", "kDivX", "kRemX", "xDivZero", "xRemZero", "xDivZ", "xRemZ", "kLtX", "kGeX",
                      "xShlS", "kShrX", "xShlX", "pAndQ", "pOrT", "tXorQ", "pEqQ", "notP", "pick", "pickK",
                      "pickAnd", "pickWide",
                      "wide", "narrow", "minK", "negX", "x"])
        for values in [["x": 13, "zero": 0, "p": 1, "q": 0], ["x": 0, "zero": 0, "p": 0, "q": 0]] as [[String: UInt64]] {
            let run = try keys.run(spec, values)
            #expect(run.outputs == spec.evaluate(values), "on \(values)")
        }
    }

    /// The outputs' shapes announced by `prepare` are those of the result file.
    @Test func outputShapes() throws {
        let spec = OperationGraphSpec(inputs: [("a", .uint8)],
                                      nodes: [.init(id: "c", op: "eq", args: ["a", "a"]),
                                              .init(id: "w", op: "cast", args: ["a"], to: .uint32)],
                                      outputs: ["w", "c", "a"])
        let prepared = try OperationGraphProgram().prepare(parameters: spec.json, inputs: spec.inputShapes)
        #expect(prepared.algorithm == "program")
        #expect(prepared.outputs.map(\.name) == ["w", "c", "a"])
        #expect(prepared.outputs.map(\.shape) == [.scalar(.uint32), .scalar(.bool), .scalar(.uint8)])
        let result = try prepared.run(try keys.encrypt([("a", .uint8, 9)]), key: try keys.server())
        #expect(result.shapes == ["w": .scalar(.uint32), "c": .scalar(.bool), "a": .scalar(.uint8)])
        #expect(result.keySetID == OperationGraphTestKeys.keySetID)
    }
}

/// Random graphs from a seed: every operation, operands drawn by kind from the inputs, the
/// constants and the earlier nodes, never a node of constants only.
enum OperationGraphRandomGraphs {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Entry { var name: String; var kind: ValueKind; var constant: Bool }

    static let ops = ["add", "sub", "mul", "div", "rem", "neg", "eq", "ne", "lt", "le", "gt", "ge",
                      "min", "max", "select", "and", "or", "xor", "not", "shl", "shr", "cast"]

    static func make(seed: UInt64) -> (OperationGraphSpec, [String: UInt64]) {
        var rng = Generator(state: seed &* 0x1000_0001 &+ 17)
        func value(_ kind: ValueKind) -> UInt64 {
            if kind == .bool { return UInt64.random(in: 0...1, using: &rng) }
            return Int.random(in: 0..<4, using: &rng) == 0 ? 0 : UInt64.random(in: 0...kind.maximum, using: &rng)
        }
        let inputs: [(String, ValueKind)] = [("a", .uint8), ("b", .uint8), ("f", .bool)]
        let constants: [(String, ValueKind, UInt64)] = [("k", .uint8, value(.uint8)), ("z", .uint8, 0),
                                                        ("t", .bool, value(.bool)), ("sh", .uint8, UInt64.random(in: 0...20, using: &rng))]
        var pool = inputs.map { Entry(name: $0.0, kind: $0.1, constant: false) }
            + constants.map { Entry(name: $0.0, kind: $0.1, constant: true) }

        func pick(_ filter: (Entry) -> Bool) -> Entry? { pool.filter(filter).randomElement(using: &rng) }
        func encrypted(_ kind: ValueKind?) -> Entry {
            pick { !$0.constant && (kind == nil ? $0.kind != .bool : $0.kind == kind) }!
        }
        /// An encrypted operand and a second of its kind (possibly constant), in random order.
        func pair(_ kind: ValueKind?) -> [String] {
            let first = encrypted(kind)
            let second = pick { $0.kind == first.kind }!
            return Bool.random(using: &rng) ? [first.name, second.name] : [second.name, first.name]
        }

        var nodes: [OperationGraphSpec.Node] = []
        for i in 0..<Int.random(in: 3...6, using: &rng) {
            let op = ops.randomElement(using: &rng)!
            var node = OperationGraphSpec.Node(id: "n\(i)", op: op, args: [])
            let onBool = Bool.random(using: &rng)
            switch op {
            case "eq", "ne", "and", "or", "xor": node.args = pair(onBool ? .bool : nil)
            case "not": node.args = [encrypted(onBool ? .bool : nil).name]
            case "neg": node.args = [encrypted(nil).name]
            case "select":
                let kind = pick { _ in true }!.kind
                node.args = [encrypted(.bool).name, pick { $0.kind == kind }!.name, pick { $0.kind == kind }!.name]
            case "shl", "shr":
                if Bool.random(using: &rng) {
                    node.args = [encrypted(nil).name, pick { $0.constant && $0.kind != .bool }!.name]
                } else {
                    let amount = encrypted(nil)
                    node.args = [pick { $0.kind == amount.kind }!.name, amount.name]
                }
            case "cast":
                node.args = [encrypted(onBool ? .bool : nil).name]
                node.to = Bool.random(using: &rng) ? .uint8 : .uint16
            default: node.args = pair(nil)
            }
            nodes.append(node)
            let kind: ValueKind = switch op {
            case "eq", "ne", "lt", "le", "gt", "ge": .bool
            case "cast": node.to!
            case "select": pool.first { $0.name == node.args[1] }!.kind
            default: pool.first { $0.name == node.args[0] }!.kind
            }
            pool.append(Entry(name: node.id, kind: kind, constant: false))
        }
        let spec = OperationGraphSpec(inputs: inputs, constants: constants, nodes: nodes, outputs: nodes.map(\.id))
        return (spec, Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, value($0.1)) }))
    }
}
