import Foundation
import HTTPTypes
import Jobs
import Testing

/// The built `fhe-jobs worker` with `--otlp-endpoint`: its spans reach an OTLP/HTTP receiver
/// (a real HTTP server standing in for an OpenTelemetry collector), carrying the job's id and
/// the service's name, and the last batch is sent when the process is stopped.
@Suite("Trace export") struct TraceExportTests {
    @Test func aWorkersSpansReachTheCollector() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: WorkerCrashTests.executable.path), "build fhe-jobs first (scripts/test does)")
        let collector = ScriptedServer([ScriptedServer.Answer(status: .ok, headers: [.contentType: "application/json"], body: Data("{}".utf8))])
        try await collector.run { port in
            try await withStore(.sqlite) { store, context in
                let dataDir = URL(fileURLWithPath: try #require(context.sqlitePath)).deletingLastPathComponent().path
                let h = try await ServiceHarness(store: store, context: context)
                let job = try await h.service.submit(JobSubmission(type: .compute, payload: ["algorithm": "sha256", "input": ["data": "abc"]]),
                                                     by: Principal(subject: "alice", tenant: "acme", role: .developer), idempotencyKey: nil).job

                let worker = Process()
                worker.executableURL = WorkerCrashTests.executable
                worker.arguments = ["worker", "--workers", "1", "--data-dir", dataDir,
                                    "--otlp-endpoint", "http://127.0.0.1:\(port)", "--otlp-protocol", "http/json"]
                // OpenTelemetry's own variable for the batch delay: export within a fifth of a second.
                worker.environment = ProcessInfo.processInfo.environment.merging(["OTEL_BSP_SCHEDULE_DELAY": "200"]) { $1 }
                worker.standardOutput = FileHandle.nullDevice
                worker.standardError = FileHandle.nullDevice
                try worker.run()
                defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }

                let deadline = ContinuousClock.now + .seconds(60)
                while try await store.job(id: job.id)?.status != .confirmed && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(try await store.job(id: job.id)?.status == .confirmed)
                // SIGTERM: a graceful stop, which sends what the exporter still holds.
                worker.terminate()
                worker.waitUntilExit()
                #expect(worker.terminationReason == .exit && worker.terminationStatus == 0)

                let exports = collector.requests.filter { $0.method == .post && $0.path == "/v1/traces" }
                #expect(!exports.isEmpty, "no OTLP export arrived")
                #expect(exports.allSatisfy { $0.headers[.contentType]?.hasPrefix("application/json") == true })
                let spans = try exports.flatMap { try Self.spans(in: $0.body) }
                let id = job.id.uuidString.lowercased()
                let names = Set(spans.filter { $0.attributes[JobSpans.jobID] == id }.map(\.name))
                #expect(names.isSuperset(of: [JobSpans.job]), "spans with the job's id: \(names)")
                let attempt = try #require(spans.first { $0.name == JobSpans.job && $0.attributes[JobSpans.jobID] == id })
                #expect(spans.contains { $0.name == JobSpans.execute && $0.parentSpanID == attempt.spanID })
                #expect(spans.contains { $0.name == JobSpans.queueWait && $0.parentSpanID == attempt.spanID })
                #expect(attempt.service == "fhe-jobs-worker")
            }
        }
    }

    struct ExportedSpan {
        var name: String
        var spanID: String
        var parentSpanID: String?
        var service: String?
        var attributes: [String: String]
    }

    /// The spans of an OTLP/JSON ExportTraceServiceRequest (opentelemetry-proto's
    /// trace_service.proto in protobuf's JSON mapping): string attributes only.
    static func spans(in body: Data) throws -> [ExportedSpan] {
        func strings(_ list: Any?) -> [String: String] {
            var out: [String: String] = [:]
            for attribute in list as? [[String: Any]] ?? [] {
                if let key = attribute["key"] as? String, let value = (attribute["value"] as? [String: Any])?["stringValue"] as? String {
                    out[key] = value
                }
            }
            return out
        }
        let root = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        var spans: [ExportedSpan] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let service = strings((resource["resource"] as? [String: Any])?["attributes"])["service.name"]
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    let parent = span["parentSpanId"] as? String
                    spans.append(ExportedSpan(name: span["name"] as? String ?? "", spanID: span["spanId"] as? String ?? "",
                                              parentSpanID: parent?.isEmpty == false ? parent : nil, service: service,
                                              attributes: strings(span["attributes"])))
                }
            }
        }
        return spans
    }
}
