import Foundation
import Testing
@testable import FHEPrograms
import TFHE

@Suite("encrypted_statistical_analysis")
struct StatisticalAnalysisTests {
    let program = StatisticalAnalysis()

    /// The plaintext statistics, as the program documents them.
    func expected(_ xs: [UInt64], kind: ValueKind, statistics: [String], threshold: UInt64?, edges: [UInt64]) -> [String: ClearValue] {
        let n = UInt64(xs.count)
        let sum = xs.reduce(0, +)
        var result: [String: ClearValue] = [:]
        for statistic in statistics {
            switch statistic {
            case "sum": result[statistic] = .uint(sum)
            case "count": result[statistic] = .uint(n)
            case "mean": result[statistic] = .uint(sum / n)
            case "min": result[statistic] = .uint(xs.min()!)
            case "max": result[statistic] = .uint(xs.max()!)
            case "variance":
                let squares = xs.reduce(0) { $0 + $1 * $1 }
                result[statistic] = .uint((n * squares - sum * sum) / (n * n))
            case "count_above": result[statistic] = .uint(UInt64(xs.filter { $0 > threshold! }.count))
            case "histogram":
                var buckets = [UInt64](repeating: 0, count: edges.count + 1)
                for x in xs { buckets[edges.filter { $0 <= x }.count] += 1 }
                result[statistic] = uintVector(buckets)
            default: Issue.record("unknown statistic \(statistic)")
            }
        }
        return result
    }

    func check(_ xs: [UInt64], kind: ValueKind, parameters: String = "{}", threshold: UInt64? = nil, edges: [UInt64] = [],
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let inputs = try ProgramTestKeys.shared.inputs([("data", .vector(kind, length: xs.count), uintVector(xs))])
        let prepared = try program.prepare(parameters: Data(parameters.utf8), inputs: inputs.shapes)
        let outputs = try runChecked(prepared, inputs, sourceLocation: sourceLocation)
        let names = prepared.outputs.map(\.name)
        let want = expected(xs, kind: kind, statistics: names, threshold: threshold, edges: edges)
        for name in names {
            #expect(outputs[name] == want[name], "\(name) of \(kind) \(xs)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [ValueKind.uint8, .uint16, .uint32])
    func randomData(kind: ValueKind) throws {
        var rng = SplitMix(UInt64(kind.bitWidth))
        let xs = (0..<5).map { _ in UInt64.random(in: 0...kind.maximum, using: &rng) }
        let threshold = kind.maximum / 3, edges = [kind.maximum / 4, kind.maximum / 2, kind.maximum - 1]
        let statistics = kind == .uint32 ? "" : #""variance","#
        try check(xs, kind: kind, parameters: """
            {"statistics": ["sum", "count", "mean", "min", "max", \(statistics) "count_above", "histogram"],
             "threshold": \(threshold), "histogram_edges": \(edges)}
            """, threshold: threshold, edges: edges)
    }

    /// All zeros, all maxima, a single element: the defaults (variance where it applies).
    @Test(arguments: [ValueKind.uint8, .uint16, .uint32])
    func edgeCases(kind: ValueKind) throws {
        try check([0, 0, 0, 0], kind: kind)
        try check([UInt64](repeating: kind.maximum, count: 3), kind: kind, parameters: #"{"threshold": \#(kind.maximum - 1)}"#,
                  threshold: kind.maximum - 1)
        try check([kind.maximum / 7], kind: kind, parameters: #"{"histogram_edges": [0, \#(kind.maximum / 7), \#(kind.maximum)]}"#,
                  edges: [0, kind.maximum / 7, kind.maximum])
    }

    /// One longer vector, to exercise the trees and the carry-save sums at depth.
    @Test func longerVector() throws {
        var rng = SplitMix(64)
        let xs = (0..<40).map { _ in UInt64.random(in: 0...255, using: &rng) }
        try check(xs, kind: .uint8, parameters: #"{"statistics": ["sum", "mean", "min", "max", "count_above"], "threshold": 100}"#,
                  threshold: 100)
    }

    /// The longest documented input, all at the maximum of u16: the sum's documented width
    /// (u32 for at most 16-bit inputs, 4096·(2¹⁶−1) < 2²⁸) holds it without overflow.
    @Test func longestVector() throws {
        let xs = [UInt64](repeating: ValueKind.uint16.maximum, count: StatisticalAnalysis.maximumLength)
        try check(xs, kind: .uint16, parameters: #"{"statistics": ["sum", "mean"]}"#)
    }

    @Test func defaultsFollowTheDocumentation() throws {
        func names(_ kind: ValueKind, _ parameters: String) throws -> [String] {
            try program.prepare(parameters: Data(parameters.utf8), inputs: ["data": .vector(kind, length: 3)]).outputs.map(\.name)
        }
        #expect(try names(.uint8, "{}") == ["sum", "count", "mean", "min", "max", "variance"])
        #expect(try names(.uint32, "") == ["sum", "count", "mean", "min", "max"])
        #expect(try names(.uint32, #"{"threshold": 5, "histogram_edges": [1]}"#) == ["sum", "count", "mean", "min", "max", "count_above", "histogram"])
        let shapes = try program.prepare(parameters: Data(#"{"histogram_edges": [1, 2]}"#.utf8), inputs: ["data": .vector(.uint32, length: 3)]).outputs
        #expect(shapes.first { $0.name == "sum" }?.shape == .scalar(.uint64))
        #expect(shapes.first { $0.name == "histogram" }?.shape == .vector(.uint32, length: 3))
        #expect(program.name == "encrypted_statistical_analysis")
    }

    @Test func refusesBadParametersAndInputs() {
        let data: [String: ValueShape] = ["data": .vector(.uint8, length: 3)]
        let badParameters = [
            #"{"unknown": 1}"#, #"{"statistics": ["median"]}"#, #"{"statistics": []}"#, #"{"statistics": ["sum", "sum"]}"#,
            #"{"statistics": ["count_above"]}"#, #"{"threshold": 256}"#, #"{"threshold": -1}"#, #"{"threshold": 1.5}"#,
            #"{"statistics": ["sum"], "threshold": 3}"#, #"{"statistics": ["histogram"]}"#, #"{"histogram_edges": []}"#,
            #"{"histogram_edges": [3, 3]}"#, #"{"histogram_edges": [4, 2]}"#, #"{"histogram_edges": [1, 300]}"#,
            #"{"histogram_edges": [\#((1...17).map(String.init).joined(separator: ","))]}"#, "[]", "not json", #"{"statistics": "sum"}"#,
        ]
        for parameters in badParameters {
            #expect(throws: ProgramError.self, "\(parameters)") {
                do { _ = try program.prepare(parameters: Data(parameters.utf8), inputs: data) } catch let error as ProgramError {
                    #expect(error.code == .invalidParameters, "\(parameters): \(error)")
                    throw error
                }
            }
        }
        #expect(throws: ProgramError(.invalidParameters, "variance is computed for inputs of at most 16 bits, not u32")) {
            _ = try program.prepare(parameters: Data(#"{"statistics": ["variance"]}"#.utf8), inputs: ["data": .vector(.uint32, length: 3)])
        }
        let badInputs: [[String: ValueShape]] = [
            [:], ["data": .scalar(.uint8)], ["data": .vector(.uint64, length: 3)], ["data": .vector(.bool, length: 3)],
            ["data": .vector(.uint8, length: 0)], ["data": .vector(.uint8, length: 4097)],
            ["data": .vector(.uint8, length: 3), "other": .scalar(.uint8)],
        ]
        for inputs in badInputs {
            #expect(throws: ProgramError.self, "\(inputs)") {
                do { _ = try program.prepare(parameters: Data("{}".utf8), inputs: inputs) } catch let error as ProgramError {
                    #expect(error.code == .invalidInput, "\(inputs): \(error)")
                    throw error
                }
            }
        }
    }

    /// `run` refuses inputs of another shape than the ones prepared for.
    @Test func runRefusesOtherShapes() throws {
        let keys = ProgramTestKeys.shared
        let prepared = try program.prepare(parameters: Data(#"{"statistics": ["sum"]}"#.utf8), inputs: ["data": .vector(.uint8, length: 2)])
        let other = try keys.inputs([("data", .vector(.uint8, length: 3), uintVector([1, 2, 3]))])
        #expect(throws: ProgramError.self) { try prepared.run(other, key: keys.server) }
    }

    /// A quote needs no real key and no run: 64 comparisons and their count cost more than 64.
    @Test func quoteWithoutRunning() throws {
        let keys = ProgramTestKeys.shared
        let prepared = try program.prepare(parameters: Data(#"{"statistics": ["sum", "count_above"], "threshold": 9}"#.utf8),
                                           inputs: ["data": .vector(.uint8, length: 64)])
        let inputs = try keys.inputs([("data", .vector(.uint8, length: 64), uintVector((0..<64).map { UInt64($0) }))])
        let quote = try prepared.quote(inputs, parameters: keys.parameters)
        #expect(quote > 64)
    }
}
