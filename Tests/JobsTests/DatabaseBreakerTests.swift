import Foundation
import HTTPTypes
import HummingbirdTesting
import JobStorePostgres
import Jobs
import Logging
import PostgresNIO
import Testing

/// The database's circuit breaker against a PostgreSQL that is not there (a closed port on
/// loopback). Without it the pool keeps every request waiting while it cannot connect; with
/// it a request waits at most the lease timeout, and once the breaker is open requests fail
/// at once, over HTTP as 503 SERVICE_UNAVAILABLE with Retry-After. Found by `scripts/drill
/// pg-outage`: a failure that opened the breaker still answered without Retry-After.
@Suite("Database circuit breaker") struct DatabaseBreakerTests {
    @Test func anUnreachableDatabaseFailsFastOnceItsBreakerIsOpen() async throws {
        let logger = Logger(label: "test.unreachable-postgres")
        let client = PostgresClient(configuration: try PostgresJobStore.configuration(url: "postgres://nobody@127.0.0.1:9/none?sslmode=disable"),
                                    backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let breaker = CircuitBreaker(name: "database", configuration: .init(failureThreshold: 2, openInterval: .seconds(30)))
            let store = PostgresJobStore(client: client, logger: logger, breaker: breaker, leaseTimeout: .milliseconds(300))
            let started = ContinuousClock.now
            do {
                _ = try await store.job(id: UUID(), tenant: nil)
                Issue.record("a database that is not there answered")
            } catch {
                #expect(error is DependencyUnavailable, "\(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(10), "the wait for a connection is bounded")
            #expect(breaker.state == .closed)

            let h = try await ServiceHarness(store: store, context: StoreContext(kind: .postgres, rateLimiter: LocalRateLimiter()))
            let token = try await h.token()
            try await h.test { client in
                // The second failure, over the API, opens the breaker: 503, retryable, and since
                // the breaker now says when a probe goes through, with that as Retry-After.
                let failed = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(token))
                #expect(failed.status == .serviceUnavailable && failed.problemCode == "SERVICE_UNAVAILABLE", "\(failed.json)")
                #expect(failed.json["retryable"] as? Bool == true)
                #expect(failed.headers[.retryAfter].flatMap(Int.init).map { (29...30).contains($0) } == true, "\(failed.headers)")
                #expect(breaker.state == .open)

                // Open: refused at once, with the breaker's time left.
                let started = ContinuousClock.now
                let refused = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(token))
                #expect(ContinuousClock.now - started < .milliseconds(300), "refused without waiting for the pool")
                #expect(refused.status == .serviceUnavailable && refused.problemCode == "SERVICE_UNAVAILABLE", "\(refused.json)")
                #expect(refused.json["retryable"] as? Bool == true)
                #expect(refused.headers[.retryAfter].flatMap(Int.init).map { (29...30).contains($0) } == true)
            }
            await #expect(throws: CircuitOpenError.self) { _ = try await store.job(id: UUID(), tenant: nil) }
        }
    }

}
