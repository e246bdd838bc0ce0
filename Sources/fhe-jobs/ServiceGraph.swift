import Crypto
import Foundation
import JobStorePostgres
import JobStoreSQLite
import Jobs
import Logging
import PostgresNIO
import ServiceLifecycle

/// The objects the service is made of, built from the command line: the store and the rate
/// limiter that go with the chosen database, and the background services to run with them.
struct ServiceGraph: Sendable {
    let store: any JobStore
    let rateLimiter: any RateLimiter
    let wakeup = QueueWakeup()
    let confirmationWakeup = QueueWakeup()
    /// Database clients and listeners that must run for the store to work.
    var backgroundServices: [any Service] = []
    let isPostgres: Bool

    /// With `breakers`, PostgreSQL requests wait a bounded time for a connection, hold it a
    /// bounded time (so that a database that stops answering cannot hang a request), and go through
    /// one circuit breaker for the database (the store and the rate limiter share it). The
    /// SQLite store has none: it is a file in this process, with no connection to wait for
    /// and no remote side to recover, so its failures (a full disk) are not ones a pause heals.
    static func open(_ options: StorageOptions, breakers: BreakerOptions? = nil, logger: Logger) async throws -> ServiceGraph {
        try createDataDirectory(options)
        if let url = options.databaseURL {
            var configuration = try PostgresJobStore.configuration(url: url)
            configuration.options.maximumConnections = options.poolSize
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let breaker = breakers.map { CircuitBreaker(name: "database", configuration: $0.configuration) }
            let wait = Duration.seconds(breakers?.databaseWaitSeconds ?? 10)
            let use = Duration.seconds(breakers?.databaseQuerySeconds ?? 10)
            var graph = ServiceGraph(store: PostgresJobStore(client: client, logger: logger, breaker: breaker, leaseTimeout: wait, queryTimeout: use),
                                     rateLimiter: PostgresRateLimiter(client: client, logger: logger, breaker: breaker, leaseTimeout: wait,
                                                                      queryTimeout: use),
                                     isPostgres: true)
            graph.backgroundServices = [client, TaskService(PostgresQueueListener(client: client, wakeup: graph.wakeup, logger: logger).run)]
            return graph
        }
        let path = options.dataDirectory.appendingPathComponent("jobs.sqlite").path
        return ServiceGraph(store: try SQLiteJobStore(path: path), rateLimiter: LocalRateLimiter(), isPostgres: false)
    }

    /// The data folder, created (with any missing parents) for its owner alone, mode 0700: it
    /// holds the database, the blobs and the keys. An existing folder keeps its mode.
    static func createDataDirectory(_ options: StorageOptions) throws {
        try FileManager.default.createDirectory(at: options.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    static func plans(_ options: StorageOptions) throws -> TenantPlans {
        guard let file = options.plans else { return TenantPlans() }
        do {
            return try TenantPlans.load(from: URL(fileURLWithPath: file))
        } catch let error as JobServiceError {
            throw StartupError("the plans file \(file): \(error)")
        } catch let error as DecodingError {
            throw StartupError("the plans file \(file) is not {\"default\": PLAN, \"tenants\": {...}}: \(error)")
        } catch {
            throw StartupError("cannot read the plans file \(file): \(error.localizedDescription)")
        }
    }

    /// Waits until the database answers, for at most `timeout` (a database starting beside the
    /// service gets time to come up; a wrong address fails with one clear line, never a hang).
    func waitForDatabase(timeout: Duration, logger: Logger) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            do { return try await store.ping() } catch {
                guard ContinuousClock.now < deadline else {
                    throw StartupError("the database did not answer within \(timeout): \(error)")
                }
                logger.warning("waiting for the database", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The service's Ed25519 signing key: `--signing-key` if given (it must exist), else
    /// `ledger-signing.key` in the data folder, created (mode 0600) on first start if `create`.
    static func signingKey(_ options: StorageOptions, create: Bool = true) throws -> Curve25519.Signing.PrivateKey {
        let file = options.signingKey.map { URL(fileURLWithPath: $0) }
            ?? options.dataDirectory.appendingPathComponent("ledger-signing.key")
        let found: Data?
        do { found = try SecretFile.read(file.path) } catch { throw StartupError("the signing key: \(error)") }
        guard let raw = found else {
            guard create, options.signingKey == nil else { throw StartupError("there is no signing key \(file.path)") }
            let key = Curve25519.Signing.PrivateKey()
            try createDataDirectory(options)
            do { try SecretFile.create(file.path, contents: key.rawRepresentation) } catch { throw StartupError("the signing key: \(error)") }
            return key
        }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw StartupError("the signing key \(file.path) is not 32 raw bytes of an Ed25519 private key")
        }
        return key
    }

    /// Records the key as the service's signing identity, or checks it is the one recorded:
    /// processes that signed with different keys would make a ledger no one can verify.
    func registerSigningKey(_ key: Curve25519.Signing.PublicKey) async throws {
        let mine = key.rawRepresentation.base64EncodedString()
        let recorded = try await store.registerSigningKey(mine, now: Date())
        guard recorded == mine else {
            throw StartupError("this process's signing key (\(mine)) is not the service's (\(recorded)), recorded by its first process: "
                + "give every process the same --signing-key file")
        }
    }
}

/// A long-running async function as a `Service`: graceful shutdown cancels it, and it is
/// expected to wind down (workers release their jobs) before returning.
struct TaskService: Service {
    let body: @Sendable () async -> Void
    init(_ body: @escaping @Sendable () async -> Void) { self.body = body }
    func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}

/// Why the service could not start, as one line for the operator.
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
