import FHEPrograms
import Foundation
import Testing
import TFHE

/// Every refusal of `prepare`, each with the code and the part of the message that names the
/// fault.
@Suite("OperationGraph: validation of the parameters and inputs")
struct OperationGraphValidationTests {
    static let inputs: [String: ValueShape] = ["a": .scalar(.uint8), "b": .scalar(.uint8), "f": .scalar(.bool)]
    static let declared = #""inputs": {"a": "u8", "b": "u8", "f": "bool"}"#

    /// A document with the usual inputs, the given constants and nodes, and outputs.
    static func graph(_ nodes: String, constants: String? = nil, outputs: String = #"["n"]"#) -> String {
        "{\(declared), " + (constants.map { #""constants": \#($0), "# } ?? "") + #""nodes": [\#(nodes)], "outputs": \#(outputs)}"#
    }

    static func prepare(_ json: String, inputs: [String: ValueShape] = Self.inputs) throws(ProgramError) -> PreparedProgram {
        try OperationGraphProgram().prepare(parameters: Data(json.utf8), inputs: inputs)
    }

    /// (case, document, a part of the message)
    static let refusedParameters: [(String, String, String)] = [
        ("not JSON", "{", "not valid JSON"),
        ("not an object", "[]", "the parameters"),
        ("empty object", "{}", "inputs: the field is required"),
        ("unknown top-level field", "{\(declared), \"nodes\": [], \"outputs\": [\"a\"], \"extra\": 1}", "unknown field \"extra\""),
        ("unknown node field", graph(#"{"id": "n", "op": "neg", "args": ["a"], "arg": []}"#), "unknown field \"arg\""),
        ("unknown constant field", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u8", "value": 1, "v": 2}}"#), "unknown field \"v\""),
        ("args not an array", graph(#"{"id": "n", "op": "neg", "args": "a"}"#), "nodes[0].args: expected an array"),
        ("id not a string", graph(#"{"id": 5, "op": "neg", "args": ["a"]}"#), "nodes[0].id: expected a string"),
        ("unknown op", graph(#"{"id": "n", "op": "pow", "args": ["a", "b"]}"#), "node \"n\": unknown op \"pow\""),
        ("wrong arity", graph(#"{"id": "n", "op": "add", "args": ["a"]}"#), "node \"n\": add takes 2 arguments, not 1"),
        ("wrong arity of select", graph(#"{"id": "n", "op": "select", "args": ["f", "a"]}"#), "node \"n\": select takes 3"),
        ("kinds differ", graph(#"{"id": "w", "op": "cast", "args": ["a"], "to": "u16"}, {"id": "n", "op": "add", "args": ["a", "w"]}"#), "node \"n\": add of (u8, u16)"),
        ("arithmetic on bool", graph(#"{"id": "n", "op": "add", "args": ["f", "f"]}"#), "node \"n\": add of (bool, bool): needs two integers"),
        ("order on bool", graph(#"{"id": "n", "op": "lt", "args": ["f", "f"]}"#), "node \"n\": lt of (bool, bool)"),
        ("select on an integer condition", graph(#"{"id": "n", "op": "select", "args": ["a", "a", "b"]}"#), "node \"n\": select of (u8, u8, u8): the condition"),
        ("select branches differ", graph(#"{"id": "n", "op": "select", "args": ["f", "a", "f"]}"#), "the two branches"),
        ("select on a clear condition", graph(#"{"id": "n", "op": "select", "args": ["t", "a", "b"]}"#, constants: #"{"t": {"type": "bool", "value": true}}"#), "the condition must be encrypted"),
        ("shift by a bool", graph(#"{"id": "n", "op": "shl", "args": ["a", "f"]}"#), "node \"n\": shl of (u8, bool)"),
        ("encrypted shift of another kind", graph(#"{"id": "w", "op": "cast", "args": ["a"], "to": "u16"}, {"id": "n", "op": "shr", "args": ["w", "a"]}"#), "an encrypted shift amount must be of the shifted value's kind"),
        ("cast without to", graph(#"{"id": "n", "op": "cast", "args": ["a"]}"#), "node \"n\": cast needs the field \"to\""),
        ("cast to bool", graph(#"{"id": "n", "op": "cast", "args": ["a"], "to": "bool"}"#), "node \"n\": cannot cast to \"bool\""),
        ("to on another op", graph(#"{"id": "n", "op": "neg", "args": ["a"], "to": "u16"}"#), "node \"n\": the field \"to\" is only for cast"),
        ("all constants", graph(#"{"id": "n", "op": "add", "args": ["k", "k"]}"#, constants: #"{"k": {"type": "u8", "value": 3}}"#), "node \"n\": every argument of add is a constant"),
        ("unary of a constant", graph(#"{"id": "n", "op": "not", "args": ["k"]}"#, constants: #"{"k": {"type": "u8", "value": 3}}"#), "every argument of not"),
        ("constant of the wrong kind", graph(#"{"id": "n", "op": "add", "args": ["a", "k"]}"#, constants: #"{"k": {"type": "u16", "value": 3}}"#), "node \"n\": add of (u8, u16)"),
        ("unknown reference", graph(#"{"id": "n", "op": "neg", "args": ["nope"]}"#), "node \"n\": unknown argument \"nope\""),
        ("forward reference", graph(#"{"id": "m", "op": "neg", "args": ["n"]}, {"id": "n", "op": "neg", "args": ["a"]}"#), "node \"m\": the argument \"n\" is a later node"),
        ("cycle", graph(#"{"id": "m", "op": "add", "args": ["a", "n"]}, {"id": "n", "op": "add", "args": ["a", "m"]}"#), "node \"m\": the argument \"n\" is a later node"),
        ("self reference", graph(#"{"id": "n", "op": "neg", "args": ["n"]}"#), "node \"n\": an argument refers to the node itself"),
        ("duplicate id", graph(#"{"id": "n", "op": "neg", "args": ["a"]}, {"id": "n", "op": "neg", "args": ["b"]}"#), "node \"n\": the id is already used by an earlier node"),
        ("id of an input", graph(#"{"id": "a", "op": "neg", "args": ["b"]}"#, outputs: #"["a"]"#), "node \"a\": the id is already used by an input"),
        ("constant named as an input", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"a": {"type": "u8", "value": 3}}"#), "the constant \"a\" has the name of an input"),
        ("empty id", graph(#"{"id": "", "op": "neg", "args": ["a"]}"#), "nodes[0]: the id \"\" is not a name"),
        ("id with a dash", graph(#"{"id": "n-1", "op": "neg", "args": ["a"]}"#), "nodes[0]: the id \"n-1\" is not a name"),
        ("id of 65 characters", graph(#"{"id": "\#(String(repeating: "x", count: 65))", "op": "neg", "args": ["a"]}"#), "is not a name of 1 to 64 characters"),
        ("non-ASCII id", graph(#"{"id": "né", "op": "neg", "args": ["a"]}"#), "is not a name"),
        ("unknown input type", #"{"inputs": {"a": "u128"}, "nodes": [], "outputs": ["a"]}"#, "the input \"a\" has the unknown type \"u128\""),
        ("vector input type", #"{"inputs": {"a": "u8[4]"}, "nodes": [], "outputs": ["a"]}"#, "the input \"a\" has the unknown type"),
        ("unknown constant type", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "i8", "value": 3}}"#), "constants.k.type: unknown type \"i8\""),
        ("constant too large", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u8", "value": 256}}"#), "the constant \"k\" is 256, more than the largest u8 (255)"),
        ("negative constant", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u8", "value": -1}}"#), "constants.k.value: expected an integer from 0 to 255"),
        ("fractional constant", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u8", "value": 1.5}}"#), "constants.k.value: expected an integer from 0 to 255"),
        ("constant beyond u64", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u64", "value": 18446744073709551616}}"#), "constants.k.value: expected an integer from 0 to 18446744073709551615"),
        ("number for a bool constant", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"t": {"type": "bool", "value": 1}}"#), "constants.t.value: expected true or false"),
        ("bool for an integer constant", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u8", "value": true}}"#), "constants.k.value: expected an integer from 0 to 255"),
        ("unknown output", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, outputs: #"["m"]"#), "the output \"m\" is not an input or a node"),
        ("constant output", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: #"{"k": {"type": "u8", "value": 3}}"#, outputs: #"["k"]"#), "the output \"k\" is a constant"),
        ("output twice", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, outputs: #"["n", "n"]"#), "the output \"n\" is listed twice"),
        ("no output", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, outputs: "[]"), "at least one output"),
        ("257 nodes", graph((0..<257).map { #"{"id": "n\#($0)", "op": "not", "args": ["a"]}"# }.joined(separator: ",")), "257 nodes, more than the limit of 256"),
        ("33 outputs", graph((0..<33).map { #"{"id": "n\#($0)", "op": "not", "args": ["a"]}"# }.joined(separator: ","),
                             outputs: "[" + (0..<33).map { "\"n\($0)\"" }.joined(separator: ",") + "]"), "33 outputs, more than the limit of 32"),
        ("17 inputs", #"{"inputs": {"# + (0..<17).map { "\"i\($0)\": \"u8\"" }.joined(separator: ",") + #"}, "nodes": [], "outputs": ["i0"]}"#, "17 inputs, more than the limit of 16"),
        ("65 constants", graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#, constants: "{" + (0..<65).map { "\"c\($0)\": {\"type\": \"u8\", \"value\": 1}" }.joined(separator: ",") + "}"), "65 constants, more than the limit of 64"),
        ("too costly", #"{"inputs": {"x": "u64"}, "nodes": ["# + (0..<60).map { #"{"id": "d\#($0)", "op": "div", "args": ["x", "x"]}"# }.joined(separator: ",") + #"], "outputs": ["d0"]}"#,
         "bootstraps is above the limit of 1000000 (its costliest node, \"d0\" (div on u64), alone may take 18688)"),
        // Refused by the decoder's depth limit, not a stack overflow.
        ("deeply nested", "{\"pad\": " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "}", "not valid JSON"),
        ("too large", "{\"inputs\": {}, \"nodes\": [], \"outputs\": [], \"pad\": \"" + String(repeating: " ", count: 200_000) + "\"}", "more than the limit of 131072"),
    ]

    @Test(arguments: refusedParameters)
    func refusesParameters(_ name: String, _ json: String, _ expected: String) {
        do {
            _ = try Self.prepare(json, inputs: [:])
            Issue.record("\(name): accepted")
        } catch {
            #expect(error.code == .invalidParameters, "\(name)")
            #expect(error.message.contains(expected), "\(name): \(error.message)")
        }
    }

    /// (case, the file's input shapes, a part of the message)
    static let refusedInputs: [(String, [String: ValueShape], String)] = [
        ("missing", ["a": .scalar(.uint8), "b": .scalar(.uint8)], "the input \"f\" (bool) is missing"),
        ("extra", inputs.merging(["g": .scalar(.uint8)]) { $1 }, "the input \"g\" is not one of the program's inputs"),
        ("wrong kind", inputs.merging(["b": .scalar(.uint16)]) { $1 }, "the input \"b\" is u16, the program declares u8"),
        ("vector", inputs.merging(["a": .vector(.uint8, length: 3)]) { $1 }, "the input \"a\" is u8[3], the program declares u8"),
    ]

    @Test(arguments: refusedInputs)
    func refusesInputs(_ name: String, _ shapes: [String: ValueShape], _ expected: String) {
        do {
            _ = try Self.prepare(Self.graph(#"{"id": "n", "op": "neg", "args": ["a"]}"#), inputs: shapes)
            Issue.record("\(name): accepted")
        } catch {
            #expect(error.code == .invalidInput, "\(name)")
            #expect(error.message.contains(expected), "\(name): \(error.message)")
        }
    }

    /// Limits are inclusive: exactly 256 nodes, 16 inputs, 32 outputs and 64-character names
    /// are accepted.
    @Test func acceptsTheLimits() throws {
        let name = String(repeating: "x", count: 64)
        let nodes = [#"{"id": "\#(name)", "op": "not", "args": ["a"]}"#] + (1..<256).map { #"{"id": "n\#($0)", "op": "not", "args": ["a"]}"# }
        _ = try Self.prepare(Self.graph(nodes.joined(separator: ","), outputs: "[" + (1...32).map { "\"n\($0)\"" }.joined(separator: ",") + "]"))
        let inputs = Dictionary(uniqueKeysWithValues: (0..<16).map { ("i\($0)", ValueShape.scalar(.uint64)) })
        _ = try Self.prepare(#"{"inputs": {"# + (0..<16).map { "\"i\($0)\": \"u64\"" }.joined(separator: ",") + #"}, "nodes": [], "outputs": ["i0"]}"#, inputs: inputs)
        _ = try Self.prepare(Self.graph(#"{"id": "n", "op": "add", "args": ["a", "k"]}"#, constants: #"{"k": {"type": "u64", "value": 18446744073709551615}}"#).replacingOccurrences(of: "\"u8\", \"b\"", with: "\"u64\", \"b\""),
                             inputs: ["a": .scalar(.uint64), "b": .scalar(.uint8), "f": .scalar(.bool)])
    }

    /// The estimate grows with the graph and is what the limit is held against.
    @Test func estimate() throws {
        let one = try OperationGraphProgram().estimatedBootstraps(parameters: Data(Self.graph(#"{"id": "n", "op": "div", "args": ["a", "b"]}"#).utf8))
        let two = try OperationGraphProgram().estimatedBootstraps(parameters: Data(Self.graph(#"{"id": "n", "op": "div", "args": ["a", "b"]}, {"id": "m", "op": "div", "args": ["n", "b"]}"#).utf8))
        #expect(one > 0)
        #expect(two == 2 * one)
        let tooMany = #"{"inputs": {"x": "u64"}, "nodes": ["# + (0..<60).map { #"{"id": "d\#($0)", "op": "div", "args": ["x", "x"]}"# }.joined(separator: ",") + #"], "outputs": ["d0"]}"#
        #expect(try OperationGraphProgram().estimatedBootstraps(parameters: Data(tooMany.utf8)) > 1_000_000)
    }

    /// A run refuses inputs whose blocks do not match their kind under the key's parameters
    /// (`prepare` saw only their shapes).
    @Test func runRefusesWrongBlockCount() throws {
        let keys = OperationGraphTestKeys.shared
        let prepared = try Self.prepare(#"{"inputs": {"a": "u8"}, "nodes": [{"id": "n", "op": "neg", "args": ["a"]}], "outputs": ["n"]}"#,
                                        inputs: ["a": .scalar(.uint8)])
        let radix = try keys.client.encryptRadix(3, blockCount: 2)
        let values = try EncryptedValues(keySetID: OperationGraphTestKeys.keySetID, [("a", .scalar(EncryptedInteger(kind: .uint8, radix: radix)))])
        do {
            _ = try prepared.run(values, key: try keys.server())
            Issue.record("a u8 of 2 blocks was accepted")
        } catch let error as ProgramError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("has 2 blocks; a u8 has 4"), "\(error.message)")
        }
    }
}
