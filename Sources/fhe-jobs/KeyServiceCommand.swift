import ArgumentParser
import FHEJobs
import Foundation
import Hummingbird
import Jobs
import JobsServer
import Logging
import Metrics
import NIOSSL
import Prometheus
import ServiceLifecycle
import Synchronization

/// `fhe-jobs keyservice`: the key service as a process of its own, the only one that holds the
/// key-encryption key. API processes reach it with `serve --key-service` over a Unix socket
/// (peers checked by user id) or mutual TLS (peers checked by the CA that signed their
/// certificate); it reads and writes key sets in the service's database and their public parts
/// and the results it opens in the blob store (the data folder's or S3, as `serve` is given), as
/// the embedded key service does.
struct KeyServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyservice",
        abstract: "Run the key service on its own (it holds the key-encryption key) until SIGINT/SIGTERM.")

    private static let environment = ProcessInfo.processInfo.environment

    @OptionGroup var storage: StorageOptions
    @OptionGroup var fhe: FHEOptions
    @OptionGroup var breakers: BreakerOptions

    @Option(help: "Serve on a Unix socket at this path (env FHE_JOBS_KEYSERVICE_SOCKET).")
    var unixSocket: String? = Self.environment["FHE_JOBS_KEYSERVICE_SOCKET"]

    @Option(help: "The socket's mode: 600 (this user only) or 660 (its group may connect) (env FHE_JOBS_KEYSERVICE_SOCKET_MODE).")
    var socketMode: String = Self.environment["FHE_JOBS_KEYSERVICE_SOCKET_MODE"] ?? "600"

    @Option(help: "A user id, besides this process's own, whose processes may use the socket; repeat for more (env FHE_JOBS_KEYSERVICE_ALLOW_UIDS, comma-separated).")
    var allowPeerUid: [UInt32] = Self.environment["FHE_JOBS_KEYSERVICE_ALLOW_UIDS"].map { $0.split(separator: ",").compactMap { UInt32($0) } } ?? []

    @Option(help: "Address for mutual TLS (env FHE_JOBS_KEYSERVICE_HOST).")
    var tlsHost: String = Self.environment["FHE_JOBS_KEYSERVICE_HOST"] ?? "127.0.0.1"

    @Option(help: "Serve mutual TLS on this TCP port (env FHE_JOBS_KEYSERVICE_PORT).")
    var tlsPort: Int? = Self.environment["FHE_JOBS_KEYSERVICE_PORT"].flatMap(Int.init)

    @Option(help: "The key service's certificate chain, PEM (env FHE_JOBS_KEYSERVICE_TLS_CERTIFICATE).")
    var tlsCertificate: String? = Self.environment["FHE_JOBS_KEYSERVICE_TLS_CERTIFICATE"]

    @Option(help: "Its private key, PEM, mode 0600 (env FHE_JOBS_KEYSERVICE_TLS_KEY).")
    var tlsKey: String? = Self.environment["FHE_JOBS_KEYSERVICE_TLS_KEY"]

    @Option(help: "The CA certificate(s), PEM, that sign the clients' certificates: only their holders are answered (env FHE_JOBS_KEYSERVICE_TLS_CLIENT_CA).")
    var tlsClientCa: String? = Self.environment["FHE_JOBS_KEYSERVICE_TLS_CLIENT_CA"]

    @Option(help: "Address of the operator's listener, GET /metrics and GET /health (env FHE_JOBS_KEYSERVICE_METRICS_HOST).")
    var metricsHost: String = Self.environment["FHE_JOBS_KEYSERVICE_METRICS_HOST"] ?? "127.0.0.1"

    @Option(help: "Its port; 0 serves none (env FHE_JOBS_KEYSERVICE_METRICS_PORT).")
    var metricsPort: Int = Self.environment["FHE_JOBS_KEYSERVICE_METRICS_PORT"].flatMap(Int.init) ?? 0

    func validate() throws {
        guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0 to 65535") }
        if let tlsPort, metricsPort == tlsPort { throw ValidationError("--metrics-port must differ from --tls-port") }
        guard unixSocket != nil || tlsPort != nil else {
            throw ValidationError("give --unix-socket PATH, --tls-port PORT, or both")
        }
        guard socketMode == "600" || socketMode == "660" else { throw ValidationError("--socket-mode must be 600 or 660") }
        if let tlsPort {
            guard (1...65535).contains(tlsPort) else { throw ValidationError("--tls-port must be 1 to 65535") }
            guard tlsCertificate != nil, tlsKey != nil, tlsClientCa != nil else {
                throw ValidationError("--tls-port needs --tls-certificate, --tls-key and --tls-client-ca")
            }
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        let logger = Logger(label: "fhe-jobs.keyservice")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let graph = try await ServiceGraph.open(storage, breakers: breakers, logger: logger)
        let kek = try fhe.keyEncryptionKey(dataDirectory: storage.dataDirectory, allowGenerated: !graph.isPostgres, logger: logger)
        let (parameters, _) = try fhe.parameterSet()
        let blobs = FHEBlobs(try fhe.blobs.makeStore(dataDirectory: storage.dataDirectory, breakers: breakers.configuration, logger: logger))
        let keys = fhe.localKeyService(store: graph.store, blobs: blobs, parameters: parameters, kek: kek, logger: logger)
        // The TLS files are read now, so that a wrong one stops the start with one line.
        var tls: NIOSSLContext?
        if tlsPort != nil, let certificate = tlsCertificate, let key = tlsKey, let ca = tlsClientCa {
            do { tls = try KeyServiceTLSFiles(certificate: certificate, privateKey: key, trustedCA: ca).serverContext() } catch {
                throw StartupError("\(error)")
            }
        }
        let server = KeyServiceServer(keys: keys, logger: logger)
        let (socket, mode, allowed, host, port) = (unixSocket, mode_t(socketMode == "660" ? 0o660 : 0o600), Set(allowPeerUid).union([getuid()]), tlsHost, tlsPort)
        let context = tls

        // Healthy once its listeners are bound and while its database answers.
        let serving = ServingFlag()
        let health = HealthChecks([
            ("keyService", { serving.isSet ? nil : "not listening yet" }),
            HealthChecks.database(graph.store),
        ])
        let operatorApp = metricsPort == 0 ? nil
            : ProcessEndpoint(registry: registry, health: health).application(host: metricsHost, port: metricsPort, logger: logger)

        var runner = Runner(graph: graph, logger: logger) {
            var listeners: [KeyServiceServer.Listener] = []
            if let socket { listeners.append(try await server.listen(unixSocket: socket, mode: mode, allowedUserIDs: allowed)) }
            if let port, let context { listeners.append(try await server.listen(host: host, port: port, tls: context)) }
            serving.set()
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let operatorApp { group.addTask { try await operatorApp.runService() } }
                for listener in listeners {
                    group.addTask { try await cancelWhenGracefulShutdown { try await server.serve(listener) } }
                }
                try await group.waitForAll()
            }
        }
        // A wrong key-encryption key stops the start with one line, not the first retrieval.
        runner.before = { try await keys.checkKeyEncryptionKey() }
        try await ServiceGroup(configuration: .init(services: graph.backgroundServices + [runner],
                                                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}

/// Set once, read by the health check from another task.
private final class ServingFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
