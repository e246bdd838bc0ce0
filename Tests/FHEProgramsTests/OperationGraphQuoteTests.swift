import FHEPrograms
import Foundation
import Testing
import TFHE

/// `PreparedProgram.quote` over a metadata-only key counts exactly the bootstraps a real run
/// performs, since the evaluation never branches on encrypted data.
@Suite("OperationGraph: the quote equals the bootstraps of a run")
struct OperationGraphQuoteTests {
    let keys = OperationGraphTestKeys.shared

    func checkQuote(_ spec: OperationGraphSpec, _ values: [String: UInt64]) throws {
        let prepared = try OperationGraphProgram().prepare(parameters: spec.json, inputs: spec.inputShapes)
        let inputs = try keys.encrypt(spec.inputs.map { ($0.0, $0.1, values[$0.0]!) })
        let key = try keys.server()
        _ = try prepared.run(inputs, key: key)
        let quote = try prepared.quote(inputs, parameters: keys.parameters)
        #expect(quote == key.bootstrapCount, "\(String(decoding: spec.json, as: UTF8.self))")
        #expect(quote > 0)
    }

    @Test(arguments: 0..<10)
    func randomGraph(seed: Int) throws {
        let (spec, values) = OperationGraphRandomGraphs.make(seed: UInt64(100 + seed))
        try checkQuote(spec, values)
    }

    /// Every operation once, with constants on either side.
    @Test func everyOperation() throws {
        let spec = OperationGraphSpec(
            inputs: [("a", .uint16), ("b", .uint16), ("f", .bool)],
            constants: [("k", .uint16, 1000), ("t", .bool, 0)],
            nodes: ["add", "sub", "mul", "div", "rem", "min", "max", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor", "shl", "shr"]
                .flatMap { op in [OperationGraphSpec.Node(id: op, op: op, args: ["a", "b"]), .init(id: op + "K", op: op, args: ["k", "b"])] }
                + [.init(id: "neg", op: "neg", args: ["a"]), .init(id: "not", op: "not", args: ["a"]),
                   .init(id: "sel", op: "select", args: ["f", "a", "k"]), .init(id: "band", op: "and", args: ["f", "t"]),
                   .init(id: "cast", op: "cast", args: ["f"], to: .uint32), .init(id: "cast8", op: "cast", args: ["a"], to: .uint8)],
            outputs: ["add", "divK", "sel", "cast"])
        try checkQuote(spec, ["a": 40000, "b": 7, "f": 1])
    }
}
