import ArgumentParser
import Foundation
import Jobs

/// The circuit breakers' settings, one set for every dependency's breaker: the database pool,
/// the chain node, and each allowed host of `encrypted_data_url`. A breaker opens after
/// `--breaker-failures` failures in a row, refuses calls (503 with `Retry-After` over the API)
/// for `--breaker-open-seconds`, then lets `--breaker-probes` calls through and closes when they
/// all succeed.
struct BreakerOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "Failures in a row that open a dependency's circuit breaker (env FHE_JOBS_BREAKER_FAILURES).")
    var breakerFailures: Int = Self.environment["FHE_JOBS_BREAKER_FAILURES"].flatMap(Int.init) ?? 5

    @Option(help: "Seconds an open breaker refuses calls before it lets a probe through (env FHE_JOBS_BREAKER_OPEN_SECONDS).")
    var breakerOpenSeconds: Int = Self.environment["FHE_JOBS_BREAKER_OPEN_SECONDS"].flatMap(Int.init) ?? 30

    @Option(help: "Probes a half-open breaker lets through, all of which must succeed to close it (env FHE_JOBS_BREAKER_PROBES).")
    var breakerProbes: Int = Self.environment["FHE_JOBS_BREAKER_PROBES"].flatMap(Int.init) ?? 1

    @Option(help: "Seconds a PostgreSQL request waits for a connection before it fails and counts against the database's breaker (env FHE_JOBS_DATABASE_WAIT_SECONDS).")
    var databaseWaitSeconds: Int = Self.environment["FHE_JOBS_DATABASE_WAIT_SECONDS"].flatMap(Int.init) ?? 10

    @Option(help: "Seconds a PostgreSQL request may hold its connection (its statement, or a transaction's) before the connection is closed, failing the request and counting against the database's breaker (env FHE_JOBS_DATABASE_QUERY_SECONDS).")
    var databaseQuerySeconds: Int = Self.environment["FHE_JOBS_DATABASE_QUERY_SECONDS"].flatMap(Int.init) ?? 10

    var configuration: CircuitBreaker.Configuration {
        CircuitBreaker.Configuration(failureThreshold: breakerFailures, openInterval: .seconds(breakerOpenSeconds), halfOpenProbes: breakerProbes)
    }

    func validate() throws {
        do { try configuration.validate() } catch {
            if case .invalidConfiguration(let message) = error { throw ValidationError(message) }
            throw ValidationError("\(error)")
        }
        guard (1...600).contains(databaseWaitSeconds) else { throw ValidationError("--database-wait-seconds must be 1 to 600") }
        guard (1...3600).contains(databaseQuerySeconds) else { throw ValidationError("--database-query-seconds must be 1 to 3600") }
    }
}
