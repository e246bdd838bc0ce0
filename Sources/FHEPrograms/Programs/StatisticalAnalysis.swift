import Foundation
import TFHE

/// Descriptive statistics of an encrypted vector (`encrypted_statistical_analysis`).
///
/// Input: exactly one value, `data`, a vector of u8, u16 or u32 of 1 to `maximumLength`
/// elements. Parameters (a JSON object; any other field is refused):
/// - `statistics`: names from `sum, count, mean, min, max, variance, count_above, histogram`,
///   each at most once, computed and output in the order given. Default: `sum, count, mean,
///   min, max`, then `variance` if the input has at most 16 bits, then `count_above` if a
///   threshold is given, then `histogram` if edges are given.
/// - `threshold`: a clear integer within the input type, required by (and only allowed with)
///   `count_above`.
/// - `histogram_edges`: 1 to 16 strictly increasing clear integers e₀ < … < e_last within the
///   input type, required by (and only allowed with) `histogram`.
///
/// Outputs, named after the statistics (n is the vector's length, public):
/// - `sum` Σx, exact: u32 for u8 and u16 inputs (Σ < 4096·2¹⁶ = 2²⁸), u64 for u32 inputs (Σ < 2⁴⁴).
/// - `count` n as a u32 *trivial* encryption: the length is public, and so is this value
///   (its mask is zero); it is there so that a result file is self-describing.
/// - `mean` ⌊Σx / n⌋ in the input type (the mean is at most the maximum).
/// - `min`, `max` in the input type.
/// - `variance` the population variance floored, ⌊(n·Σx² − (Σx)²) / n²⌋, as u32; only for
///   inputs of at most 16 bits, for which every intermediate fits u64 (n·Σx² < 2¹²·2¹²·2³² = 2⁵⁶,
///   (Σx)² < 2⁵⁶) and the variance is below 2³⁰.
/// - `count_above` the number of x > threshold, as u32.
/// - `histogram` a vector of len(edges) + 1 u32 counts of the buckets
///   (−∞, e₀), [e₀, e₁), …, [e_last, ∞).
///
/// Nothing branches on encrypted data. Sums of many terms are one carry-save sum
/// (`IntegerServerKey.sum`, logarithmic depth); min and max are tree reductions of depth
/// ⌈log₂ n⌉ that share their first layer of comparisons when both are asked for; counts are
/// sums of comparison booleans. Histogram bucket i is the difference of the counts of x ≥ eᵢ₋₁
/// and x ≥ eᵢ, which never underflows since the first count is at least the second.
public struct StatisticalAnalysis: FHEProgram {
    /// The longest input vector.
    public static let maximumLength = 4096
    /// The most histogram edges.
    public static let maximumEdges = 16

    public enum Statistic: String, CaseIterable, Sendable {
        case sum, count, mean, min, max, variance
        case countAbove = "count_above"
        case histogram
    }

    public init() {}

    public var name: String { "encrypted_statistical_analysis" }

    struct Parameters: Decodable {
        var statistics: [String]?
        var threshold: UInt64?
        var histogramEdges: [UInt64]?

        enum CodingKeys: String, CodingKey {
            case statistics, threshold
            case histogramEdges = "histogram_edges"
        }

        init(from decoder: any Decoder) throws {
            try ProgramParameterReader.refuseUnknownKeys(decoder, known: ["statistics", "threshold", "histogram_edges"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            statistics = try container.decodeIfPresent([String].self, forKey: .statistics)
            threshold = try container.decodeIfPresent(UInt64.self, forKey: .threshold)
            histogramEdges = try container.decodeIfPresent([UInt64].self, forKey: .histogramEdges)
        }
    }

    /// What `prepare` decided; `run` follows it.
    struct Plan: Sendable {
        var kind: ValueKind
        var length: Int
        var statistics: [Statistic]
        var threshold: UInt64?
        var edges: [UInt64]

        var sumKind: ValueKind { kind.bitWidth <= 16 ? .uint32 : .uint64 }

        func shape(of statistic: Statistic) -> ValueShape {
            switch statistic {
            case .sum: .scalar(sumKind)
            case .count, .variance, .countAbove: .scalar(.uint32)
            case .mean, .min, .max: .scalar(kind)
            case .histogram: .vector(.uint32, length: edges.count + 1)
            }
        }
    }

    public func prepare(parameters: Data, inputs: [String: ValueShape]) throws(ProgramError) -> PreparedProgram {
        let plan = try makePlan(parameters: parameters, inputs: inputs)
        return PreparedProgram(algorithm: name, outputs: plan.statistics.map { (name: $0.rawValue, shape: plan.shape(of: $0)) }) { values, key in
            try Self.run(plan, values, key: key)
        }
    }

    func makePlan(parameters: Data, inputs: [String: ValueShape]) throws(ProgramError) -> Plan {
        let p = try ProgramParameterReader.decode(Parameters.self, from: parameters, program: name)
        if let extra = inputs.keys.sorted().first(where: { $0 != "data" }) {
            throw ProgramError(.invalidInput, "\(name) reads one input, \"data\"; \"\(extra.prefix(64))\" is not expected")
        }
        guard let shape = inputs["data"] else { throw ProgramError(.invalidInput, "\(name) needs the input \"data\"") }
        guard let length = shape.length, [.uint8, .uint16, .uint32].contains(shape.kind) else {
            throw ProgramError(.invalidInput, "\"data\" must be a vector of u8, u16 or u32, not \(shape)")
        }
        guard (1...Self.maximumLength).contains(length) else {
            throw ProgramError(.invalidInput, "\"data\" has \(length) elements; 1 to \(Self.maximumLength) are accepted")
        }
        let kind = shape.kind
        let statistics: [Statistic]
        if let names = p.statistics {
            var chosen: [Statistic] = []
            for name in names {
                guard let statistic = Statistic(rawValue: name) else {
                    throw ProgramError(.invalidParameters, "unknown statistic \"\(name.prefix(64))\"; known: \(Statistic.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard !chosen.contains(statistic) else { throw ProgramError(.invalidParameters, "the statistic \(name) is asked for twice") }
                chosen.append(statistic)
            }
            guard !chosen.isEmpty else { throw ProgramError(.invalidParameters, "statistics is empty") }
            statistics = chosen
        } else {
            var chosen: [Statistic] = [.sum, .count, .mean, .min, .max]
            if kind.bitWidth <= 16 { chosen.append(.variance) }
            if p.threshold != nil { chosen.append(.countAbove) }
            if p.histogramEdges != nil { chosen.append(.histogram) }
            statistics = chosen
        }
        if statistics.contains(.variance) && kind.bitWidth > 16 {
            throw ProgramError(.invalidParameters, "variance is computed for inputs of at most 16 bits, not \(kind)")
        }
        switch (statistics.contains(.countAbove), p.threshold) {
        case (true, nil): throw ProgramError(.invalidParameters, "count_above needs a threshold")
        case (false, .some): throw ProgramError(.invalidParameters, "threshold is given but count_above is not asked for")
        case (_, let t?) where t > kind.maximum: throw ProgramError(.invalidParameters, "threshold \(t) is not a \(kind)")
        default: break
        }
        let edges = p.histogramEdges ?? []
        switch (statistics.contains(.histogram), p.histogramEdges) {
        case (true, nil): throw ProgramError(.invalidParameters, "histogram needs histogram_edges")
        case (false, .some): throw ProgramError(.invalidParameters, "histogram_edges are given but histogram is not asked for")
        case (true, .some):
            guard (1...Self.maximumEdges).contains(edges.count) else {
                throw ProgramError(.invalidParameters, "histogram_edges has \(edges.count) edges; 1 to \(Self.maximumEdges) are accepted")
            }
            guard zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw ProgramError(.invalidParameters, "histogram_edges must be strictly increasing")
            }
            guard edges.last! <= kind.maximum else { throw ProgramError(.invalidParameters, "histogram edge \(edges.last!) is not a \(kind)") }
        default: break
        }
        return Plan(kind: kind, length: length, statistics: statistics, threshold: p.threshold, edges: edges)
    }

    // MARK: Evaluation

    typealias Radix = RadixCiphertext<UInt64>

    static func run(_ plan: Plan, _ inputs: EncryptedValues, key: IntegerServerKey<UInt64>) throws -> [(String, EncryptedValue)] {
        guard case .vector(let kind, let elements)? = inputs["data"], kind == plan.kind, elements.count == plan.length else {
            throw ProgramError(.invalidInput, "\"data\" is not the \(ValueShape.vector(plan.kind, length: plan.length)) the job was prepared for")
        }
        let ops = VectorReductions(key: key)
        let xs = elements.map(\.radix)
        let n = UInt64(xs.count)
        let wanted = Set(plan.statistics)
        var sum: Radix?
        if !wanted.isDisjoint(with: [.sum, .mean, .variance]) {
            sum = try ops.sum(xs, as: plan.sumKind)
        }
        var extremes: (min: Radix?, max: Radix?) = (nil, nil)
        if !wanted.isDisjoint(with: [.min, .max]) {
            extremes = try ops.extremes(xs, min: wanted.contains(.min), max: wanted.contains(.max))
        }
        var outputs: [(String, EncryptedValue)] = []
        for statistic in plan.statistics {
            let shape = plan.shape(of: statistic)
            func scalar(_ radix: Radix) -> EncryptedValue { .scalar(EncryptedInteger(kind: shape.kind, radix: radix)) }
            switch statistic {
            case .sum:
                outputs.append((statistic.rawValue, scalar(sum!)))
            case .count:
                let width = try ops.blocks(.uint32)
                outputs.append((statistic.rawValue, scalar(key.trivial(n, blockCount: width))))
            case .mean:
                let mean = try key.cast(try key.scalarDiv(sum!, n), toBlockCount: try ops.blocks(plan.kind))
                outputs.append((statistic.rawValue, scalar(mean)))
            case .min:
                outputs.append((statistic.rawValue, scalar(extremes.min!)))
            case .max:
                outputs.append((statistic.rawValue, scalar(extremes.max!)))
            case .variance:
                let variance = try ops.variance(xs, kind: plan.kind, sum: sum!)
                outputs.append((statistic.rawValue, scalar(variance)))
            case .countAbove:
                let above = try xs.map { try key.scalarGt($0, plan.threshold!) }
                let count = try ops.count(above)
                outputs.append((statistic.rawValue, scalar(count)))
            case .histogram:
                let buckets = try ops.histogram(xs, edges: plan.edges)
                outputs.append((statistic.rawValue, .vector(.uint32, buckets.map { EncryptedInteger(kind: .uint32, radix: $0) })))
            }
        }
        return outputs
    }
}
