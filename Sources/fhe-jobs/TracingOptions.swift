import ArgumentParser
import Foundation
import Jobs
import JobsServer
import Logging
import OTel
import ServiceLifecycle

/// Distributed tracing (OpenTelemetry), off unless `--otlp-endpoint` names a collector.
///
/// Spans (JobSpans.swift names them) are exported over OTLP/HTTP to the collector; requests
/// continue a caller's W3C `traceparent`. The standard `OTEL_*` variables (resource
/// attributes, batch sizes and delays, headers) apply on top of these options. Only traces are
/// exported: metrics stay on the Prometheus listener and logs on standard error, where each
/// line carries the trace and span ids beside the request id.
struct TracingOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "Base URL of an OpenTelemetry collector's OTLP/HTTP receiver, e.g. http://otel-collector:4318 (traces go to its /v1/traces); no traces without it (env FHE_JOBS_OTLP_ENDPOINT).")
    var otlpEndpoint: String? = Self.environment["FHE_JOBS_OTLP_ENDPOINT"]

    @Option(help: "OTLP encoding: http/protobuf or http/json (env FHE_JOBS_OTLP_PROTOCOL).")
    var otlpProtocol: String = Self.environment["FHE_JOBS_OTLP_PROTOCOL"] ?? "http/protobuf"

    @Option(help: "Fraction of new traces kept, 0 to 1; a caller's sampled traceparent is always followed (env FHE_JOBS_TRACE_SAMPLE_RATIO).")
    var traceSampleRatio: Double = Self.environment["FHE_JOBS_TRACE_SAMPLE_RATIO"].flatMap(Double.init) ?? 1

    func validate() throws {
        guard (0...1).contains(traceSampleRatio) else { throw ValidationError("--trace-sample-ratio must be 0 to 1") }
        guard Self.encodings[otlpProtocol] != nil else { throw ValidationError("--otlp-protocol must be http/protobuf or http/json") }
        if let otlpEndpoint { _ = try Self.tracesURL(otlpEndpoint) }
    }

    private static let encodings: [String: OTel.Configuration.OTLPExporterConfiguration.`Protocol`] = [
        "http/protobuf": .httpProtobuf, "http/json": .httpJSON,
    ]

    /// The collector's traces URL: the base URL with `/v1/traces`, as OpenTelemetry's
    /// OTEL_EXPORTER_OTLP_ENDPOINT is read.
    static func tracesURL(_ base: String) throws -> String {
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.query == nil, url.user == nil else {
            throw ValidationError("--otlp-endpoint must be an http(s) URL without credentials or query, e.g. http://otel-collector:4318")
        }
        return base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
    }

    /// Log lines on standard error, each with the request id (inside an HTTP handler) and the
    /// current trace and span ids (inside a sampled span).
    static func bootstrapLogging() {
        LoggingSystem.bootstrap({ label, metadata in StreamLogHandler.standardError(label: label, metadataProvider: metadata) },
                                metadataProvider: .multiplex([JobsHTTPServer.requestIDMetadata, OTel.makeLoggingMetadataProvider()]))
    }

    /// Installs the process's tracer and returns the exporter's service, which must run for as
    /// long as the process makes spans (and stop after them, to send its last batch); none when off.
    func bootstrap(serviceName: String, logger: Logger) throws -> [any Service] {
        guard let otlpEndpoint else { return [] }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.propagators = [.traceContext]
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = try Self.tracesURL(otlpEndpoint)
        configuration.traces.otlpExporter.protocol = Self.encodings[otlpProtocol]!
        configuration.traces.sampler = .parentBasedTraceIDRatio(ratio: traceSampleRatio)!
        let service = try OTel.bootstrap(configuration: configuration)
        logger.info("tracing to \(configuration.traces.otlpExporter.endpoint) (\(otlpProtocol), sampling \(traceSampleRatio))")
        return [service]
    }
}
