import ArgumentParser
import ComputeJobs
import Crypto
import FHEJobs
import FHEPrograms
import Foundation
import JobStoreSQLite
import Jobs
import Logging
import TFHE

/// `fhe-jobs fhe bench`: confidential jobs end to end on this machine, in one process playing
/// every role (a key service and API side with the key-encryption key, a worker side without
/// it and with its own key cache, the ledger confirmer) on SQLite in a scratch folder.
///
/// For each job it splits the time into submission (the `JobService.submit` call: payload
/// checks, the input into the blob store, every ciphertext checked, the quote, the insert),
/// queue wait (from the submission's answer to the start), compute (started to finished, of which the encrypted
/// evaluation and the server key's expansion are reported apart) and confirmation (finished
/// to confirmed), and sets the compute phase against the engine's own figures measured in the
/// same run: max(depth x one bootstrap's latency, bootstraps x the batched per-bootstrap cost
/// on one core / cores). The process's resident memory (all roles) is read after every job.
/// Then each job's result is retrieved (`RetrievalBench`), and the key service's steps timed.
struct FHEBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time confidential jobs end to end on this machine (see BENCHMARKS.md).")

    @OptionGroup var fhe: FHEOptions

    @Option(help: "Which jobs: statistics, transfer, program, or a comma-separated list.")
    var algorithms: String = "statistics"

    @Option(help: "Elements of the statistics input vector (1 to 4096).")
    var length: Int = 64

    @Option(help: "Bits of each element: 8, 16 or 32.")
    var width: Int = 16

    @Option(help: "The statistics computed, comma-separated (default: all that apply to the width).")
    var statistics: String?

    @Option(help: "Times each job is run one after another (memory is read after each).")
    var repeats: Int = 1

    @Option(help: "Result retrievals per finished job and suite (P-256 and X-Wing), timed step by step (0 for none).")
    var retrievals: Int = 20

    @Option(help: "Scratch folder for the database and blobs (default: a new temporary folder, removed afterwards).")
    var scratch: String?

    func validate() throws {
        guard (1...StatisticalAnalysis.maximumLength).contains(length) else { throw ValidationError("--length must be 1 to 4096") }
        guard [8, 16, 32].contains(width) else { throw ValidationError("--width must be 8, 16 or 32") }
        guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be 1 to 1000") }
        guard (0...ConfidentialJobsService.maximumRetrievalsPerJob / 2).contains(retrievals) else {
            throw ValidationError("--retrievals must be 0 to \(ConfidentialJobsService.maximumRetrievalsPerJob / 2)")
        }
        for name in algorithmList where BenchCase.Kind(rawValue: name) == nil {
            throw ValidationError("--algorithms: \(name) is not statistics, transfer or program")
        }
    }

    var algorithmList: [String] { algorithms.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let folder = scratch.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if scratch == nil { try? FileManager.default.removeItem(at: folder) } }
        let kind = ValueKind(bitWidth: width)!
        let cases = algorithmList.compactMap(BenchCase.Kind.init(rawValue:)).map {
            BenchCase(kind: $0, length: length, valueKind: kind, statistics: statistics)
        }
        let bench = try await ConfidentialBench(fhe: fhe, folder: folder)
        try await bench.run(cases, repeats: repeats, retrievals: retrievals)
    }
}

/// One benchmarked job: its algorithm, its inputs (random, from a fixed seed) and parameters.
struct BenchCase {
    enum Kind: String { case statistics, transfer, program }
    let kind: Kind
    let length: Int
    let valueKind: ValueKind
    let statistics: String?

    var algorithm: String {
        switch kind {
        case .statistics: "encrypted_statistical_analysis"
        case .transfer: "confidential_transfer"
        case .program: "program"
        }
    }

    /// What the table calls it.
    var label: String {
        switch kind {
        case .statistics: "statistics, \(length) x \(valueKind) (\(statistics ?? "all"))"
        case .transfer: "transfer, 8 transfers among 16 u16 accounts"
        case .program: "program, (a x b + c) min limit and a < b, u16"
        }
    }

    func inputs(_ random: inout some RandomNumberGenerator) -> [(String, ValueShape, ClearValue)] {
        switch kind {
        case .statistics:
            let values = (0..<length).map { _ in ClearValue.uint(UInt64.random(in: 0...valueKind.maximum, using: &random)) }
            return [("data", .vector(valueKind, length: length), .vector(values))]
        case .transfer:
            let balances = (0..<16).map { _ in ClearValue.uint(UInt64.random(in: 0...30000, using: &random)) }
            let amounts = (0..<8).map { _ in ClearValue.uint(UInt64.random(in: 0...20000, using: &random)) }
            return [("balances", .vector(.uint16, length: 16), .vector(balances)), ("amounts", .vector(.uint16, length: 8), .vector(amounts))]
        case .program:
            return ["a", "b", "c"].map { ($0, .scalar(.uint16), .uint(UInt64.random(in: 0...255, using: &random))) }
        }
    }

    var parameters: JSONValue {
        func strings(_ names: [String]) -> JSONValue { .array(names.map(JSONValue.string)) }
        switch kind {
        case .statistics:
            guard let statistics else { return .object([:]) }
            return .object(["statistics": strings(statistics.split(separator: ",").map(String.init))])
        case .transfer:
            return .object(["transfers": .array((0..<8).map { i in
                .object(["from": .number(Double(i)), "to": .number(Double((i * 5 + 3) % 16))])
            })])
        case .program:
            func node(_ id: String, _ op: String, _ args: [String]) -> JSONValue {
                .object(["id": .string(id), "op": .string(op), "args": strings(args)])
            }
            return .object([
                "inputs": .object(["a": .string("u16"), "b": .string("u16"), "c": .string("u16")]),
                "constants": .object(["limit": .object(["type": .string("u16"), "value": .number(60000)])]),
                "nodes": .array([node("p", "mul", ["a", "b"]), node("s", "add", ["p", "c"]), node("m", "min", ["s", "limit"]),
                                 node("l", "lt", ["a", "b"])]),
                "outputs": strings(["m", "l"]),
            ])
        }
    }
}
