import Foundation
import TFHE

/// `fhe bench --report DIR`: the engine beside the peers and the integer operations by width,
/// measured in one run and written as a Markdown page with SVG charts (`report.md`,
/// `engine.svg`, `integer-bootstraps.svg`, `integer-latency.svg`) and the same figures as JSON
/// (`report.json`), with the machine, the commit and the command.
struct BenchReportRunner {
    let directory: URL
    /// Repetitions of every engine and peer figure; the report gives their median and spread.
    let runs: Int
    let iterations: Int
    /// `../shared/bench/peers.sh` or another script printing one JSON object per peer; nil
    /// when there is none (the report says the peers were not measured).
    let peersScript: String?
    let integerParameters: ParameterSet
    let integerWidths: [Int]
    let timedIntegerOperations: [String]
    let carryPropagation: CarryPlanOption
    let command: String

    struct Spread: Codable, Equatable {
        let median: Double
        let low: Double
        let high: Double
        let runs: Int

        init(_ values: [Double]) {
            let sorted = values.sorted()
            let middle = sorted.count / 2
            median = sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            low = sorted.first ?? 0
            high = sorted.last ?? 0
            runs = sorted.count
        }

        var text: String { runs > 1 ? String(format: "%.2f [%.2f–%.2f]", median, low, high) : String(format: "%.2f", median) }
    }

    struct EngineRow: Codable {
        let operation: String
        let parameters: String
        let ours: Spread
        let oursBatched: Spread
        let peer: String
        let theirs: Spread?
    }

    struct IntegerRow: Codable {
        let operation: String
        let width: Int
        let bootstraps: Int
        let depth: Int
        let milliseconds: Double?
    }

    struct Machine: Codable {
        let cpu: String
        let vectorExtensions: [String]
        let cores: Int
        let caches: String
        let kernels: String
    }

    struct Report: Codable {
        let date: String
        let commit: String
        let command: String
        let machine: Machine
        let engine: [EngineRow]
        let peersNote: String
        let integerParameters: String
        let carryPropagation: String
        let integers: [IntegerRow]
    }

    /// The engine figures and the peer each is compared with (its `peer` and `op` in the
    /// peers script's output).
    private static let engineCases: [(label: String, parameters: String, single: String, batched: String, peer: String, peerOp: String)] = [
        ("KS+PBS, 4-bit table", "concrete_4bit_n807_k2_n1024", "ks+pbs", "ks+pbs-batch", "concrete-python", "ks+pbs"),
        ("NAND gate", "tfhe-rs_boolean_default", "gate", "gate-batch", "openfhe-binfhe", "nand-gate-bootstrap"),
    ]

    func run(log: (String) -> Void) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The engine, `runs` times, alternating with the peers so that both see the same load.
        var ours: [String: [Double]] = [:], oursBatched: [String: [Double]] = [:], theirs: [String: [Double]] = [:]
        var peersNote = "measured by \(peersScript ?? "-") in the same run, one thread each"
        for run in 1...runs {
            log("run \(run) of \(runs): engine")
            for c in Self.engineCases {
                let set = try loadParameters(c.parameters, allowInsecure: true)
                let report = set.torusBits == 32
                    ? try BenchRunner<UInt32>(parameters: set, iterations: iterations, batch: 8).run([c.single, c.batched])
                    : try BenchRunner<UInt64>(parameters: set, iterations: iterations, batch: 8).run([c.single, c.batched])
                ours[c.label, default: []].append(report.results[0].milliseconds)
                oursBatched[c.label, default: []].append(report.results[1].milliseconds)
            }
            guard let peersScript else {
                peersNote = "not measured: no peers script (--peers-script)"
                continue
            }
            log("run \(run) of \(runs): peers (\(peersScript))")
            do {
                for line in try Self.runScript(peersScript).split(separator: "\n") {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          let peer = object["peer"] as? String, let op = object["op"] as? String else { continue }
                    if let ms = object["ms"] as? Double { theirs["\(peer)/\(op)", default: []].append(ms) }
                }
            } catch {
                peersNote = "not measured: \(error)"
            }
        }
        let engine = Self.engineCases.map { c in
            EngineRow(operation: c.label, parameters: c.parameters, ours: Spread(ours[c.label] ?? []),
                      oursBatched: Spread(oursBatched[c.label] ?? []), peer: c.peer,
                      theirs: theirs["\(c.peer)/\(c.peerOp)"].map(Spread.init))
        }
        // Integers: every operation counted, the chosen ones timed.
        log("integer operations")
        let plan = carryPropagation.plan(workers: ProcessInfo.processInfo.activeProcessorCount,
                                         singleToBatchedCost: CarryPlanOption.assumedSingleToBatchedCost)
        let counts = try IntegerBenchRunner.count(IntegerBenchRunner.operations, widths: integerWidths,
                                                  parameters: integerParameters, carryPropagation: plan)
        let timed = try IntegerBenchRunner(parameters: integerParameters, iterations: 1, workers: nil, batchSize: nil,
                                           carryPropagation: carryPropagation).run(timedIntegerOperations, widths: integerWidths, log: log)
        let integers = counts.counts.map { count in
            IntegerRow(operation: count.operation, width: count.width, bootstraps: count.bootstraps, depth: count.depth,
                       milliseconds: timed.results.first { $0.operation == count.operation && $0.width == count.width }?.milliseconds)
        }
        let report = Report(date: ISO8601DateFormatter().string(from: Date()), commit: Self.commit(), command: command,
                            machine: Self.machine(), engine: engine, peersNote: peersNote,
                            integerParameters: integerParameters.name, carryPropagation: carryPropagation.rawValue, integers: integers)
        try write(report)
        log("wrote \(directory.path)/report.md")
    }

    func write(_ report: Report) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: directory.appendingPathComponent("report.json"))
        try Self.engineChart(report).render().write(to: directory.appendingPathComponent("engine.svg"), atomically: true, encoding: .utf8)
        let widths = Array(Set(report.integers.map(\.width))).sorted()
        try Self.integerChart(report, widths: widths, title: "Bootstraps per integer operation", unit: "bootstraps",
                              value: { Double($0.bootstraps) })
            .render().write(to: directory.appendingPathComponent("integer-bootstraps.svg"), atomically: true, encoding: .utf8)
        try Self.integerChart(report, widths: widths, title: "Integer operation latency, all cores", unit: "milliseconds",
                              value: { $0.milliseconds })
            .render().write(to: directory.appendingPathComponent("integer-latency.svg"), atomically: true, encoding: .utf8)
        try Self.markdown(report, widths: widths).write(to: directory.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
    }

    static func engineChart(_ report: Report) -> SVGBarChart {
        SVGBarChart(title: "One bootstrap: this engine against the peers (one thread each)", unit: "milliseconds per operation, median and spread over the runs",
                    groups: report.engine.map { row in
            var bars = [SVGBarChart.Bar(series: "ours, one at a time", value: row.ours.median, spread: row.ours.low...row.ours.high),
                        SVGBarChart.Bar(series: "ours, batch of 8", value: row.oursBatched.median, spread: row.oursBatched.low...row.oursBatched.high)]
            if let theirs = row.theirs {
                bars.append(.init(series: "peer (\(row.peer))", value: theirs.median, spread: theirs.low...theirs.high))
            }
            return SVGBarChart.Group(label: row.operation, bars: bars)
        })
    }

    static func integerChart(_ report: Report, widths: [Int], title: String, unit: String,
                             value: (IntegerRow) -> Double?) -> SVGBarChart {
        let operations = report.integers.map(\.operation).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let groups = operations.compactMap { op -> SVGBarChart.Group? in
            let bars = widths.compactMap { w -> SVGBarChart.Bar? in
                guard let row = report.integers.first(where: { $0.operation == op && $0.width == w }), let v = value(row), v > 0 else { return nil }
                return SVGBarChart.Bar(series: "FheUint\(w)", value: v, spread: nil)
            }
            return bars.isEmpty ? nil : SVGBarChart.Group(label: op, bars: bars)
        }
        return SVGBarChart(title: title, unit: unit, groups: groups, logarithmic: true)
    }

    static func markdown(_ report: Report, widths: [Int]) -> String {
        var md = """
        # Benchmark report

        - Date: \(report.date)
        - Commit: \(report.commit)
        - Command: `\(report.command)`
        - Machine: \(report.machine.cpu); \(report.machine.cores) cores; vector extensions: \(report.machine.vectorExtensions.joined(separator: ", "))
        - Caches: \(report.machine.caches)
        - Kernels: \(report.machine.kernels)

        ## One bootstrap against the peers

        Milliseconds per operation, one thread each, median [lowest–highest] over \(report.engine.first?.ours.runs ?? 0) runs; \
        the peers \(report.peersNote).

        | operation | parameter set | ours, one at a time | ours, batch of 8 (per op) | peer | theirs | ours / theirs (batched) |
        |---|---|---|---|---|---|---|

        """
        for row in report.engine {
            let ratio = row.theirs.map { String(format: "%.2f (%.2f)", row.ours.median / $0.median, row.oursBatched.median / $0.median) } ?? "–"
            md += "| \(row.operation) | \(row.parameters) | \(row.ours.text) | \(row.oursBatched.text) | \(row.peer) | \(row.theirs?.text ?? "not measured") | \(ratio) |\n"
        }
        md += """

        ![One bootstrap against the peers](engine.svg)

        ## Encrypted integers

        \(report.integerParameters), carries: \(report.carryPropagation). Bootstraps (depth) from a \
        metadata-only key, exact; latency on all cores, one run, where timed.

        | operation | \(widths.map { "FheUint\($0) PBS (depth) | ms" }.joined(separator: " | ")) |
        |---|\(widths.map { _ in "---|---|" }.joined())

        """
        let operations = report.integers.map(\.operation).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for op in operations {
            let cells = widths.map { w -> String in
                guard let row = report.integers.first(where: { $0.operation == op && $0.width == w }) else { return "– | –" }
                return "\(row.bootstraps) (\(row.depth)) | " + (row.milliseconds.map { String(format: "%.1f", $0) } ?? "–")
            }
            md += "| \(op) | \(cells.joined(separator: " | ")) |\n"
        }
        md += """

        ![Bootstraps per integer operation](integer-bootstraps.svg)

        ![Integer operation latency](integer-latency.svg)

        The same figures are in `report.json`; `fhe bench --json` prints any one benchmark as JSON alone.

        """
        return md
    }

    static func machine() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let vector = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_fp16"].filter(flags.contains)
        return Machine(cpu: model, vectorExtensions: vector, cores: ProcessInfo.processInfo.activeProcessorCount,
                       caches: CacheSizes.current.description, kernels: EngineKernels.description)
    }

    /// The repository's commit, if the tool runs from a git checkout.
    static func commit() -> String {
        (try? runProcess("/usr/bin/env", ["git", "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines))
            .flatMap { $0.isEmpty ? nil : $0 } ?? "unknown (not run from a git checkout)"
    }

    static func runScript(_ path: String) throws -> String {
        guard FileManager.default.isReadableFile(atPath: path) else { throw CLIError("no peers script at \(path)") }
        return try runProcess("/bin/bash", [path])
    }

    static func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("\(arguments.first ?? executable) exited with \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}
