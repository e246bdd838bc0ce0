import Hummingbird
import Jobs
import Logging
import Prometheus

/// `GET /metrics` in the Prometheus text format, on the operator's listener
/// (`--metrics-host`/`--metrics-port`, loopback by default) rather than the public API: the
/// request latency histograms, job durations, retries and confirmations that this process
/// recorded, the jobs in each non-terminal state and the webhook deliveries pending, read from the store at scrape time (so
/// every replica reports the same queue) through the states' partial indexes.
public struct MetricsEndpoint: Sendable {
    public let store: any JobStore
    public let registry: PrometheusCollectorRegistry

    public init(store: any JobStore, registry: PrometheusCollectorRegistry) { self.store = store; self.registry = registry }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ -> Response in
            if let counts = try? await store.countNonTerminalJobs() {
                for status in JobStatus.nonTerminal {
                    registry.makeGauge(name: "fhe_jobs_jobs", labels: [("status", status.rawValue)]).set(Double(counts[status] ?? 0))
                }
            }
            // Read at scrape time too, so every replica reports the same backlog; one count
            // over the pending deliveries' partial index.
            if let pending = try? await store.countPendingWebhookDeliveries() {
                registry.makeGauge(name: "fhe_jobs_webhook_deliveries_pending").set(Double(pending))
            }
            return Self.exposition(of: registry)
        }
        return router
    }

    /// The registry's metrics in the Prometheus text format (version 0.0.4), as a response.
    static func exposition(of registry: PrometheusCollectorRegistry) -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    public func application(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
