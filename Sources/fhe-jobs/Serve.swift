import ArgumentParser
import ComputeJobs
import Crypto
import FHEJobs
import Foundation
import Hummingbird
import Jobs
import JobsServer
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `fhe-jobs serve`: the REST API, and (unless --workers 0) workers and the confirmer in the
/// same process. With SQLite this is the whole service; with --database-url several of these
/// and of `fhe-jobs worker` share one PostgreSQL.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the REST API (and, by default, workers) until SIGINT/SIGTERM.")

    @OptionGroup var storage: StorageOptions
    @OptionGroup var chain: ChainOptions
    @OptionGroup var tokens: TokenOptions
    @OptionGroup var fhe: FHEOptions
    @OptionGroup var keyService: KeyServiceClientOptions
    @OptionGroup var breakers: BreakerOptions
    @OptionGroup var webhooks: WebhookOptions
    @OptionGroup var tracing: TracingOptions

    @Option(help: "Address to listen on (env FHE_JOBS_HOST).")
    var host: String = ProcessInfo.processInfo.environment["FHE_JOBS_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on (env FHE_JOBS_PORT).")
    var port: Int = ProcessInfo.processInfo.environment["FHE_JOBS_PORT"].flatMap(Int.init) ?? 8080

    @Option(help: "Address of the operator's /metrics listener; loopback unless the scraper is elsewhere (env FHE_JOBS_METRICS_HOST).")
    var metricsHost: String = ProcessInfo.processInfo.environment["FHE_JOBS_METRICS_HOST"] ?? "127.0.0.1"

    @Option(help: "Port of the operator's /metrics listener; 0 serves no metrics (env FHE_JOBS_METRICS_PORT).")
    var metricsPort: Int = ProcessInfo.processInfo.environment["FHE_JOBS_METRICS_PORT"].flatMap(Int.init) ?? 9464

    @Option(help: "Jobs run at once in this process; 0 runs the API only (env FHE_JOBS_WORKERS).")
    var workers: Int = ProcessInfo.processInfo.environment["FHE_JOBS_WORKERS"].flatMap(Int.init)
        ?? ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Submissions are refused (503 QUEUE_FULL, with Retry-After) while this many jobs are queued, counted across replicas once a second (env FHE_JOBS_MAX_QUEUED_JOBS).")
    var maxQueuedJobs: Int = ProcessInfo.processInfo.environment["FHE_JOBS_MAX_QUEUED_JOBS"].flatMap(Int.init) ?? 100_000

    @Option(help: "A JWKS file of the public keys (RS256/ES256) that sign access tokens (env FHE_JOBS_JWKS). Without it the service runs in dev mode: HS256 tokens from `fhe-jobs token`.")
    var jwks: String? = ProcessInfo.processInfo.environment["FHE_JOBS_JWKS"]

    @Option(help: "An external issuer's JWKS URL (https), e.g. https://issuer/.well-known/jwks.json (env FHE_JOBS_JWKS_URL): keys fetched at start, cached per Cache-Control (1 minute to 1 day), refetched for an unknown kid at most every 30 s, kept 6 hours past their lifetime while the issuer is unreachable. Give --issuer and --audience to match its tokens.")
    var jwksURL: String? = ProcessInfo.processInfo.environment["FHE_JOBS_JWKS_URL"]

    @Flag(help: "Also accept dev-mode tokens when a JWKS file or URL is given.")
    var devAuth = false

    @Option(help: "Swagger UI's files (swagger-ui-dist), served at /docs; scripts/serve installs them (env FHE_JOBS_DOCS_ASSETS).")
    var docsAssets: String = ProcessInfo.processInfo.environment["FHE_JOBS_DOCS_ASSETS"] ?? ".build-docs/swagger-ui"

    @Option(help: "The API description served at /openapi.yml and /docs: the repository's openapi.yml (env FHE_JOBS_OPENAPI_FILE).")
    var openapiFile: String = ProcessInfo.processInfo.environment["FHE_JOBS_OPENAPI_FILE"] ?? "openapi.yml"

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
        guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0 to 65535") }
        guard metricsPort == 0 || metricsPort != port || metricsHost != host else { throw ValidationError("--metrics-port must differ from --port") }
        guard workers >= 0 else { throw ValidationError("--workers must be 0 or more") }
        guard maxQueuedJobs >= 1 else { throw ValidationError("--max-queued-jobs must be 1 or more") }
    }

    func run() async throws {
        TracingOptions.bootstrapLogging()
        let logger = Logger(label: "fhe-jobs")
        let traceExporter = try tracing.bootstrap(serviceName: "fhe-jobs", logger: logger)
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        metricsFactory.valueHistogramBuckets[SubmissionBatchMetric.label] = SubmissionBatchMetric.buckets
        MetricsSystem.bootstrap(metricsFactory)

        let graph = try await ServiceGraph.open(storage, breakers: breakers, logger: logger)
        let devMode = (jwks == nil && jwksURL == nil) || devAuth
        if jwks == nil && jwksURL == nil { logger.warning("no --jwks or --jwks-url: dev mode, accepting HS256 tokens minted by `fhe-jobs token`") }
        let devSecret = devMode ? try AuthKeys.devSecret(inDataDirectory: storage.dataDirectory) : nil
        var issuerKeys: RemoteJWKS?
        if let text = jwksURL {
            guard let url = URL(string: text) else { throw StartupError("--jwks-url \(text) is not a URL") }
            do {
                let remote = try RemoteJWKS(configuration: .init(url: url), logger: logger)
                try await remote.load()
                issuerKeys = remote
            } catch {
                throw StartupError("--jwks-url \(text): \(error)")
            }
        }
        let authKeys = try await AuthKeys.load(jwksFile: jwks.map { URL(fileURLWithPath: $0) }, jwksURL: issuerKeys, devSecret: devSecret)

        var serviceConfiguration = JobService.Configuration()
        serviceConfiguration.plans = try ServiceGraph.plans(storage)
        serviceConfiguration.maxQueuedJobs = maxQueuedJobs
        let executors = ExecutorRegistry(ComputeAlgorithms.all())
        // The API makes owners' key sets on first use and opens results for them: with the
        // embedded key service it needs the key-encryption key; with --key-service it must not
        // have one, since keeping the key out of API processes is the point.
        let kek: KeyEncryptionKey?
        if let remote = keyService.keyService {
            guard !fhe.kekGiven else {
                throw StartupError("--kek-file (or FHE_JOBS_KEK_FILE, FHE_JOBS_KEK) and --key-service \(remote) exclude each other: "
                                   + "the key-encryption key belongs to `fhe-jobs keyservice` alone")
            }
            kek = nil
        } else {
            kek = try fhe.keyEncryptionKey(dataDirectory: storage.dataDirectory, allowGenerated: !graph.isPostgres, logger: logger)
        }
        let signingKey = try ServiceGraph.signingKey(storage)
        let confidential = try fhe.confidentialJobs(store: graph.store, dataDirectory: storage.dataDirectory, kek: kek, keyService: keyService,
                                                    signingKey: signingKey, breakers: breakers.configuration, logger: logger)
        let webhookTransport = webhooks.transport
        let service = JobService(store: graph.store, executors: executors, confidential: confidential, webhooks: webhookTransport,
                                 configuration: serviceConfiguration, wakeup: graph.wakeup, logger: logger)
        // Signed with the service's key, which clients already pin (GET /v1/fhe/keys).
        let dispatcher = webhookTransport.map {
            webhooks.dispatcher(store: graph.store, transport: $0, signingKey: signingKey, logger: logger)
        }
        var workerConfiguration = WorkerPool.Configuration()
        workerConfiguration.concurrency = max(1, workers)
        workerConfiguration.fheConcurrency = fhe.fheConcurrency
        let pool = workers > 0
            ? WorkerPool(store: graph.store, executors: executors, confidential: confidential, configuration: workerConfiguration,
                         wakeup: graph.wakeup, confirmationWakeup: graph.confirmationWakeup, logger: logger)
            : nil
        let confirmer = ConfirmationService(
            store: graph.store, confirmer: try await chain.confirmer(store: graph.store, signingKey: signingKey, breaker: breakers.configuration, logger: logger),
            wakeup: graph.confirmationWakeup, logger: logger)

        var checks = [HealthChecks.database(graph.store)]
        if let pool { checks.append(("workers", { pool.isHealthy ? nil : "the worker loop has stalled" })) }
        var http = JobsHTTPServer.Configuration()
        http.host = host; http.port = port
        http.tokenIssuer = tokens.issuer; http.tokenAudience = tokens.audience
        // Dev tokens are minted with the service's own secret: whoever holds it runs the service.
        http.operatorIssuers = Set(tokens.operatorIssuers + (devMode ? [tokens.issuer] : []))
        http.maxUploadBytes = fhe.fheMaxInputMB << 20
        http.maxServerKeyBytes = fhe.fheMaxServerKeyMB << 20
        http.ledger = LocalLedger(store: graph.store, signingKey: signingKey)
        http.docs.assetsDirectory = URL(fileURLWithPath: docsAssets, isDirectory: true)
        http.docs.specFile = URL(fileURLWithPath: openapiFile)
        // Dev mode's identity provider also renews sessions (POST /v1/auth/token).
        http.tokenEndpoint = TokenEndpoint(issuer: devSecret.map { secret in
            DevTokenIssuer(secret: secret, store: graph.store, configuration: tokens.devIssuerConfiguration,
                           audit: { await service.record($0) }, logger: logger)
        })
        let server = JobsHTTPServer(configuration: http, service: service, authKeys: authKeys, rateLimiter: graph.rateLimiter,
                                    registry: registry, health: HealthChecks(checks), logger: logger)
        let app = try server.application()
        let metricsApp = metricsPort == 0 ? nil : server.metrics.application(host: metricsHost, port: metricsPort, logger: logger)

        var runner = Runner(graph: graph, logger: logger) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService() }
                if let metricsApp { group.addTask { try await metricsApp.runService() } }
                if let pool { group.addTask { await cancelWhenGracefulShutdown { await pool.run() } } }
                group.addTask { await cancelWhenGracefulShutdown { await confirmer.run() } }
                if let dispatcher { group.addTask { await cancelWhenGracefulShutdown { await dispatcher.run() } } }
                group.addTask { await cancelWhenGracefulShutdown { await confidential.sweepBlobs() } }
                group.addTask { await confidential.calibrate() }
                try await group.waitForAll()
            }
        }
        // A wrong key-encryption key stops the start with one line, not the first retrieval.
        // So does a signing key other than the service's.
        runner.before = {
            try await graph.registerSigningKey(signingKey.publicKey)
            // The key service of another process checks its own key as it starts.
            if let local = confidential.localKeys { try await local.checkKeyEncryptionKey() }
        }
        // Services stop in reverse order: the exporter last, so the final spans are sent.
        let group = ServiceGroup(configuration: .init(services: traceExporter + graph.backgroundServices + [runner],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Waits for the database and applies the migrations (the database client is running by
/// then), then runs the service.
struct Runner: Service {
    let graph: ServiceGraph
    let logger: Logger
    let body: @Sendable () async throws -> Void

    init(graph: ServiceGraph, logger: Logger, body: @escaping @Sendable () async throws -> Void) {
        self.graph = graph; self.logger = logger; self.body = body
    }

    var before: @Sendable () async throws -> Void = {}

    func run() async throws {
        try await graph.waitForDatabase(timeout: .seconds(30), logger: logger)
        try await graph.store.migrate()
        try await before()
        try await body()
    }
}
