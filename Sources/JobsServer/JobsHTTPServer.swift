import Foundation
import Hummingbird
import Jobs
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus

/// Builds the HTTP side of the service: the router with its middleware chain and the
/// handlers generated from openapi.yml. The executable and the tests build the same router.
public struct JobsHTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Largest request body accepted (the seed's payload limit; sha256 inputs go to 1 MiB).
        public var maxBodyBytes = 2 * 1024 * 1024
        public var tokenIssuer = "fhe-jobs"
        public var tokenAudience = "fhe-jobs-api"
        public var tokenLeeway: TimeInterval = 30
        /// Issuers whose tokens may carry the cross-tenant `operator` role.
        public var operatorIssuers: Set<String> = []
        /// Largest encrypted-values upload (`POST /v1/fhe/ciphertexts`, streamed to the blob store).
        public var maxUploadBytes = 64 * 1024 * 1024
        /// Largest compressed server key upload (`POST /v1/fhe/server-keys`, client-key mode).
        public var maxServerKeyBytes = 256 * 1024 * 1024
        /// The local ledger, signed with the service's key: `GET /v1/ledger/...` serve it and
        /// `GET /v1/fhe/keys` publishes its public key.
        public var ledger: LocalLedger?
        /// `GET /openapi.yml` and `GET /docs`: where the spec and Swagger UI's files are.
        public var docs = APIDocs.Configuration()
        /// `POST /v1/auth/token`: the dev issuer (nil outside dev mode) and its rate limit.
        public var tokenEndpoint = TokenEndpoint(issuer: nil)
        public init() {}
    }

    public let configuration: Configuration
    public let service: JobService
    public let authKeys: AuthKeys
    public let rateLimiter: any RateLimiter
    public let registry: PrometheusCollectorRegistry
    public let health: HealthChecks
    public let logger: Logger

    public init(configuration: Configuration, service: JobService, authKeys: AuthKeys, rateLimiter: any RateLimiter,
                registry: PrometheusCollectorRegistry, health: HealthChecks, logger: Logger = Logger(label: "fhe-jobs.http")) {
        self.configuration = configuration; self.service = service; self.authKeys = authKeys; self.rateLimiter = rateLimiter
        self.registry = registry; self.health = health; self.logger = logger
    }

    /// Middleware, outermost first: the request's trace span, request id and problem answers,
    /// request metrics, authentication, rate limit, body limit, audit, then the generated
    /// handlers (and, for a request no route matches, the 405 check).
    public func router() throws -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let responder = ProblemResponder(logger: logger)
        // Outermost, so the span ends with the status the client got (problem answers too),
        // and continues a caller's trace (W3C traceparent). A no-op until a tracer is bootstrapped.
        router.middlewares.add(TracingMiddleware(recordingHeaders: [.xRequestID]))
        router.middlewares.add(RequestIDMiddleware(responder: responder))
        router.middlewares.add(MetricsMiddleware())
        // Authentication and the rate limit come before the body is read, so an anonymous or
        // throttled client cannot make the server buffer bodies.
        router.middlewares.add(AuthMiddleware(verifier: TokenVerifier(
            keys: authKeys,
            configuration: .init(issuer: configuration.tokenIssuer, audience: configuration.tokenAudience, leeway: configuration.tokenLeeway,
                                 operatorIssuers: configuration.operatorIssuers))))
        router.middlewares.add(RateLimitMiddleware(limiter: rateLimiter, plans: service.configuration.plans, responder: responder))
        router.middlewares.add(BodyLimitMiddleware(maxBytes: configuration.maxBodyBytes,
                                                   streamed: ["/v1/fhe/ciphertexts": configuration.maxUploadBytes,
                                                              "/v1/fhe/server-keys": configuration.maxServerKeyBytes]))
        router.middlewares.add(AuditMiddleware(service: service, responder: responder))
        APIDocs(configuration.docs).register(on: router)
        // Compact JSON: pretty-printing costs bytes and time on every answer.
        try JobsAPI(service: service, health: health, ledger: configuration.ledger,
                    maxUploadBytes: configuration.maxUploadBytes, maxServerKeyBytes: configuration.maxServerKeyBytes,
                    tokens: configuration.tokenEndpoint, rateLimiter: rateLimiter)
            .registerHandlers(on: router, configuration: OpenAPIRuntime.Configuration(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]))
        // After the routes: it wraps only the not-found answer (405 for a served path).
        router.middlewares.add(MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }

    /// Adds the request id to every log line written while a request is handled, whichever
    /// component writes it (bootstrap the logging system with it).
    public static let requestIDMetadata = Logger.MetadataProvider {
        let id = RequestScope.requestID
        return id == "-" ? [:] : ["requestId": .string(id)]
    }

    /// The operator's `/metrics`, served on its own listener.
    public var metrics: MetricsEndpoint { MetricsEndpoint(store: service.store, registry: registry) }

    public func application() throws -> some ApplicationProtocol {
        Application(router: try router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
                    logger: logger)
    }
}
