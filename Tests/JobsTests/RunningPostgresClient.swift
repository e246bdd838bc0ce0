@testable import JobStorePostgres
import Jobs
import Logging
import PostgresNIO

/// Runs `body` with a `PostgresClient` on `url` whose connection pool is running (the pool only
/// connects while `run()` does), stopping it afterwards.
func withRunningPostgresClient(url: String, label: String, maximumConnections: Int? = nil,
                               _ body: (PostgresClient, Logger) async throws -> Void) async throws {
    let logger = Logger(label: label)
    var configuration = try PostgresJobStore.configuration(url: url)
    if let maximumConnections { configuration.options.maximumConnections = maximumConnections }
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        try await body(client, logger)
    }
}

/// Runs `body` with a pool on the test PostgreSQL (`StoreKind.postgresURL`), behind a breaker
/// of 5 failures and 30 s open, waiting up to 10 s for a connection and holding one at most
/// `useTimeout`.
func withTestPostgresPool(label: String, maximumConnections: Int? = nil, useTimeout: Duration? = nil,
                          _ body: (PostgresPool, PostgresClient, Logger) async throws -> Void) async throws {
    guard let url = StoreKind.postgresURL else { throw MissingTestPostgres() }
    try await withRunningPostgresClient(url: url, label: label, maximumConnections: maximumConnections) { client, logger in
        let breaker = CircuitBreaker(name: "database", configuration: .init(failureThreshold: 5, openInterval: .seconds(30)))
        try await body(PostgresPool(client, breaker: breaker, leaseTimeout: .seconds(10), useTimeout: useTimeout), client, logger)
    }
}
