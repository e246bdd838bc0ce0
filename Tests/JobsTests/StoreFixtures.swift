import Foundation
import JobStorePostgres
import JobStoreSQLite
import Jobs
import Logging
import PostgresNIO

/// The stores every behavioural test runs on. PostgreSQL runs whenever the test command
/// started one (scripts/test always does, so CI always runs it); a missing server under CI is
/// a failure, not a skip.
enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["FHE_JOBS_TEST_POSTGRES_URL"] }

    /// Both stores, always: without a test database the PostgreSQL cases fail with
    /// `MissingTestPostgres` rather than being left out, so a run that did not test the
    /// PostgreSQL store never looks green. (`scripts/test` starts one.)
    static var available: [StoreKind] { allCases }
}

struct MissingTestPostgres: Error, CustomStringConvertible {
    var description: String {
        "FHE_JOBS_TEST_POSTGRES_URL is not set, so the PostgreSQL store was NOT tested: run the tests with scripts/test "
            + "(it starts a throwaway PostgreSQL), or set the variable to a server where the tests may create databases"
    }
}

/// Opens a fresh, migrated store of the given kind for one test (its own SQLite file, or its
/// own PostgreSQL database), runs `body`, and tears it down.
func withStore<R: Sendable>(_ kind: StoreKind, _ body: @Sendable (any JobStore, StoreContext) async throws -> R) async throws -> R {
    switch kind {
    case .sqlite:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteJobStore(path: dir.appendingPathComponent("jobs.sqlite").path)
        try await store.migrate()
        return try await body(store, StoreContext(kind: kind, rateLimiter: LocalRateLimiter(), sqlitePath: dir.appendingPathComponent("jobs.sqlite").path))
    case .postgres:
        guard let url = StoreKind.postgresURL else { throw MissingTestPostgres() }
        let logger = Logger(label: "test.postgres")
        let database = "fhe_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        let admin = PostgresClient(configuration: try PostgresJobStore.configuration(url: url), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
            var configuration = try PostgresJobStore.configuration(url: url)
            configuration.database = database
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let result: Result<R, any Error> = await withTaskGroup(of: Void.self) { inner in
                inner.addTask { await client.run() }
                defer { inner.cancelAll() }
                do {
                    // As the service runs it: every request through the database's breaker, with
                    // a deadline on the wait for a connection (generous, for a loaded machine).
                    let breaker = CircuitBreaker(name: "database")
                    let store = PostgresJobStore(client: client, logger: logger, breaker: breaker, leaseTimeout: .seconds(60),
                                                 queryTimeout: .seconds(60))
                    try await store.migrate()
                    let context = StoreContext(kind: kind, rateLimiter: PostgresRateLimiter(client: client, logger: logger, breaker: breaker,
                                                                                            leaseTimeout: .seconds(60), queryTimeout: .seconds(60)),
                                               postgresURL: StoreContext.url(url, database: database), postgresClient: client)
                    return .success(try await body(store, context))
                } catch { return .failure(error) }
            }
            try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"))
            return try result.get()
        }
    }
}

/// What a test may need besides the store: a rate limiter of the same kind and the address of
/// the database (for tests that start worker processes).
struct StoreContext: Sendable {
    var kind: StoreKind
    var rateLimiter: any RateLimiter
    var sqlitePath: String? = nil
    var postgresURL: String? = nil
    var postgresClient: PostgresClient? = nil
}

extension StoreContext {
    static func url(_ base: String, database: String) -> String {
        guard let slash = base.range(of: "/", options: .backwards) else { return base }
        return String(base[..<slash.lowerBound]) + "/" + database
    }
}

func makeJob(tenant: String = "acme", owner: String = "alice", priority: Priority = .normal, createdAt: Date = Date().addingTimeInterval(-1),
             payload: JSONValue = ["algorithm": "sha256", "input": ["data": "hello"]], maxAttempts: Int = 3, timeout: Int = 60) -> Job {
    Job(tenant: tenant, owner: owner, type: .compute, priority: priority, useFHE: false, payload: payload,
        createdAt: createdAt, maxAttempts: maxAttempts, timeoutSeconds: timeout)
}

let generousQuota = Quota(maxActiveJobs: 1_000_000, maxJobsPerMonth: 1_000_000)

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
                     ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(elements, uniquingKeysWith: { $1 })) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
