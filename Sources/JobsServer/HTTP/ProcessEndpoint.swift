import Foundation
import Hummingbird
import Logging
import Prometheus

/// The operator's listener of a process that serves no HTTP API of its own (`fhe-jobs
/// keyservice`): `GET /metrics`, this process's registry in the Prometheus text format, and
/// `GET /health`, 200 when every check passes and 503 naming the failing ones, for probes and
/// scrapes. Like the API's metrics listener it binds loopback unless told otherwise.
public struct ProcessEndpoint: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let health: HealthChecks

    public init(registry: PrometheusCollectorRegistry, health: HealthChecks) {
        self.registry = registry
        self.health = health
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ -> Response in MetricsEndpoint.exposition(of: registry) }
        router.get("/health") { _, _ -> Response in
            let outcome = await health.run()
            let body: [String: Any] = ["status": outcome.allHealthy ? "ok" : "unavailable", "checks": outcome.results]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(status: outcome.allHealthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }

    public func application(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
