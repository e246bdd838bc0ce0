import Foundation
import FHEPrograms

extension FuzzTarget {
    /// An `fhe_compute` job's `payload.parameters`, as each standard program reads them: the
    /// operation graph of `program` (decoded, names resolved, kinds inferred, cost estimated),
    /// the statistics' and the transfers' settings. Every program is given the bytes with the
    /// input shapes it expects, so its reading of the parameters is reached whatever they say.
    /// A refusal is a `ProgramError` by the programs' typed throws; a crash or hang is the bug.
    static let programParameters = FuzzTarget(name: "program-parameters", maximumInputLength: 8192, run: { data in
        for (program, shapes) in programInputs {
            _ = try? program.prepare(parameters: data, inputs: shapes)
        }
        _ = try? OperationGraphProgram().estimatedBootstraps(parameters: data)
    }, seeds: {
        [
            #"{"inputs": {"a": "u16", "b": "u16", "flag": "bool"}, "constants": {"limit": {"type": "u16", "value": 1000}}, "nodes": [{"id": "s", "op": "add", "args": ["a", "b"]}, {"id": "c", "op": "lt", "args": ["s", "limit"]}, {"id": "r", "op": "select", "args": ["c", "s", "limit"]}, {"id": "w", "op": "cast", "args": ["r"], "to": "u32"}], "outputs": ["r", "c"]}"#,
            #"{"inputs": {"x": "u64", "y": "u64"}, "nodes": [{"id": "q", "op": "div", "args": ["x", "y"]}, {"id": "m", "op": "rem", "args": ["x", "y"]}, {"id": "p", "op": "mul", "args": ["q", "m"]}, {"id": "n", "op": "neg", "args": ["p"]}, {"id": "k", "op": "shl", "args": ["n", "y"]}, {"id": "e", "op": "eq", "args": ["k", "x"]}], "outputs": ["k", "e"]}"#,
            #"{"inputs": {"a": "u8", "t": "bool"}, "constants": {"one": {"type": "u8", "value": 1}, "yes": {"type": "bool", "value": true}}, "nodes": [{"id": "s", "op": "shr", "args": ["a", "one"]}, {"id": "x", "op": "xor", "args": ["t", "yes"]}, {"id": "o", "op": "not", "args": ["s"]}, {"id": "h", "op": "max", "args": ["o", "a"]}, {"id": "b", "op": "cast", "args": ["x"], "to": "u8"}], "outputs": ["h", "b", "a"]}"#,
            #"{"statistics": ["sum", "mean", "min", "max", "count_above"], "threshold": 100}"#,
            #"{"threshold": 5, "histogram_edges": [1, 2, 40]}"#,
            #"{}"#,
            #"{"transfers": [{"from": 0, "to": 1}, {"from": 2, "to": 0}]}"#,
        ].map { Data($0.utf8) }
    })

    /// Each program with the shapes of the inputs it reads.
    private static let programInputs: [(any FHEProgram, [String: ValueShape])] = [
        (OperationGraphProgram(), ["a": .scalar(.uint16), "b": .scalar(.uint16), "flag": .scalar(.bool)]),
        (StatisticalAnalysis(), ["data": .vector(.uint32, length: 3)]),
        (ConfidentialTransfer(), ["balances": .vector(.uint32, length: 3), "amounts": .vector(.uint32, length: 2)]),
    ]
}
