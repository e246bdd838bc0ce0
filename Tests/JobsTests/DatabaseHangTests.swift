import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import JobStorePostgres
import Jobs
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import Testing

/// A database that stops answering: every call still ends within a bound. Found by
/// `scripts/drill pg-outage`: in 2 of 6 runs a submission that reached an API as PostgreSQL was
/// stopped never got an answer, and that process then would not stop on SIGTERM (its graceful
/// shutdown waits for the request). The likeliest cause, reproduced here on a real server: a
/// statement sent on a connection the server has just ended is dropped by postgres-nio 1.33.2
/// and never ends; a statement the server never answers waits as long, and postgres-nio's
/// queries ignore cancellation; and the pool's lease ran in a child task the caller waited for.
///
/// Besides a real PostgreSQL (a session ended, a backend SIGSTOPped), the database here is a
/// fake on loopback (`SilentPostgres`): it takes connections and then answers nothing, or
/// answers the startup and then no statement, as a server does that is stopped, hung, or cut
/// off mid-statement.
@Suite("Database that stops answering") struct DatabaseHangTests {
    /// A store on a `SilentPostgres` of `mode`, behind `breaker`.
    func withSilentDatabase(_ mode: SilentPostgres.Mode, breaker: CircuitBreaker, leaseTimeout: Duration,
                            queryTimeout: Duration = .seconds(10),
                            _ body: (PostgresJobStore, PostgresClient) async throws -> Void) async throws {
        let server = try await SilentPostgres(mode)
        try await withRunningPostgresClient(url: "postgres://nobody@127.0.0.1:\(server.port)/none?sslmode=disable",
                                            label: "test.silent-postgres") { client, logger in
            try await body(PostgresJobStore(client: client, logger: logger, breaker: breaker, leaseTimeout: leaseTimeout,
                                            queryTimeout: queryTimeout), client)
        }
        await server.close()
    }

    /// The readiness check (and the wait for the database at start) on a database that takes
    /// the connection and then never answers `SELECT 1`: it fails after its 5 s, where before
    /// it waited for the hung statement for good (its task group waited for the query's child).
    @Test func aReadinessCheckOnAHungDatabaseIsAnswered() async throws {
        let breaker = CircuitBreaker(name: "database")
        try await withSilentDatabase(.answersStartupOnly, breaker: breaker, leaseTimeout: .seconds(10)) { store, _ in
            let started = ContinuousClock.now
            let outcome = await within(.seconds(20)) { try await store.ping() }
            guard let outcome else { Issue.record("the readiness check did not end within 20 s"); return }
            #expect(throws: PostgresStatementTimeoutError.self) { try outcome.get() }
            #expect(ContinuousClock.now - started >= PostgresJobStore.pingTimeout)
        }
    }

    /// An API request whose statement the database never answers: 503, retryable, once the
    /// query deadline has passed, and counted by the breaker. Before, no answer ever came.
    @Test func aRequestWhoseStatementIsNeverAnsweredGets503() async throws {
        let breaker = CircuitBreaker(name: "database", configuration: .init(failureThreshold: 1, openInterval: .seconds(30)))
        let deadline = Duration.seconds(1)
        try await withSilentDatabase(.answersStartupOnly, breaker: breaker, leaseTimeout: .seconds(10), queryTimeout: deadline) { store, _ in
            let h = try await ServiceHarness(store: store, context: StoreContext(kind: .postgres, rateLimiter: LocalRateLimiter()))
            let token = try await h.token()
            let started = ContinuousClock.now
            let outcome = await within(.seconds(30)) {
                try await h.test { client in
                    let answer = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(token))
                    return (answer.status, answer.problemCode, answer.json["retryable"] as? Bool)
                }
            }
            guard let outcome else { Issue.record("the request got no answer within 30 s"); return }
            let (status, code, retryable) = try outcome.get()
            let took = ContinuousClock.now - started
            #expect(status == .serviceUnavailable && code == "SERVICE_UNAVAILABLE", "\(status) \(String(describing: code))")
            #expect(retryable == true)
            #expect(took >= deadline, "answered after \(took), before the statement's deadline")
            #expect(breaker.state == .open, "the hung statement counts against the breaker (a threshold of 1 here)")
        }
    }

    /// A real PostgreSQL whose backend is stopped (SIGSTOP) before the statement: the statement
    /// fails once the deadline has passed, as a database failure (503 over the API), and the
    /// pool goes on with a new connection once the backend is gone.
    @Test func aStatementOnAStoppedBackendFailsAtItsDeadline() async throws {
        let deadline = Duration.seconds(2)
        try await withTestPostgresPool(label: "test.stopped-backend", maximumConnections: 2, useTimeout: deadline) { pool, _, logger in
            let stopped = StoppedBackend()
            defer { stopped.resume() }
            let started = ContinuousClock.now
            let outcome = await within(.seconds(30)) {
                try await pool.withConnection { connection in
                    var pid: Int32 = 0
                    for try await value in try await connection.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
                    #expect(stopped.stop(pid_t(pid)), "the test runs as root or as the server's user")
                    _ = try await connection.query("SELECT 1", logger: logger).collect()
                }
            }
            guard let outcome else { Issue.record("the statement on a stopped backend did not end within 30 s"); return }
            #expect(throws: DependencyUnavailable.self) { try outcome.get() }
            #expect(ContinuousClock.now - started >= deadline)
            stopped.resume()
            // The pool goes on with a new connection (a request may first be handed the closed
            // one, if it comes before the pool has seen the close: a database failure, 503).
            var answered = false
            for _ in 0..<5 where !answered {
                do {
                    answered = try await pool.rows("SELECT 1", logger: logger).count == 1
                } catch {
                    #expect(error is DependencyUnavailable, "\(String(reflecting: error))")
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            #expect(answered, "the pool did not go on with a new connection")
        }
    }

    /// A statement sent on a connection the server has just ended (as `pg_ctl stop -m fast`
    /// ends every session) never ends in postgres-nio 1.33.2: it writes the statement to the
    /// closed channel with no promise for the write, so the statement is dropped and its
    /// result never comes, not even an error. The request is answered at the deadline all
    /// the same (503, counted by the breaker); before, it waited for good, and so did the
    /// process's graceful shutdown (`scripts/drill pg-outage`).
    @Test func aStatementOnAConnectionTheServerEndedIsAnswered() async throws {
        let deadline = Duration.seconds(2)
        try await withTestPostgresPool(label: "test.ended-session", useTimeout: deadline) { pool, client, logger in
            let started = ContinuousClock.now
            let outcome = await within(.seconds(30)) {
                try await pool.withConnection { connection in
                    var pid: Int32 = 0
                    for try await value in try await connection.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
                    _ = try await client.query("SELECT pg_terminate_backend(\(pid))", logger: logger).collect()
                    try await connection.closeFuture.get()
                    _ = try await connection.query("SELECT 1", logger: logger).collect()
                }
            }
            guard let outcome else { Issue.record("the statement on an ended session did not end within 30 s"); return }
            let took = ContinuousClock.now - started
            #expect(throws: DependencyUnavailable.self) { try outcome.get() }
            print("statement on an ended session: \(outcome) after \(took)")
        }
    }

    /// A database that takes connections and never answers their startup: a caller cancelled
    /// while it waits for a connection returns at once, not after the lease's 30 s; the
    /// connection request is withdrawn without the caller waiting on it.
    @Test func aCallerWaitingForAConnectionEndsWhenCancelled() async throws {
        let breaker = CircuitBreaker(name: "database", configuration: .init(failureThreshold: 1, openInterval: .seconds(30)))
        try await withSilentDatabase(.silent, breaker: breaker, leaseTimeout: .seconds(30)) { store, _ in
            let call = Task { try await store.job(id: UUID(), tenant: nil) }
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = ContinuousClock.now
            call.cancel()
            let outcome = await within(.seconds(20)) { try await call.value }
            guard let outcome else { Issue.record("the cancelled call did not end within 20 s"); return }
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(ContinuousClock.now - cancelled < .seconds(5), "the cancelled call waited \(ContinuousClock.now - cancelled)")
            #expect(breaker.state == .closed, "a caller that gave up is not the database failing (a threshold of 1 here)")
        }
    }
}

/// The outcome of `body` if it ends within `limit`; nil if it does not (then it is left
/// running: a hung call cannot be stopped, and the test must not hang with it).
func within<R: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> R) async -> Result<R, any Error>? {
    let first = EarliestOutcome<Result<R, any Error>?>()
    return await withCheckedContinuation { continuation in
        first.wait(continuation)
        Task {
            do { first.finish(.success(try await body())) } catch { first.finish(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: limit)
            first.finish(nil)
        }
    }
}

/// A PostgreSQL backend process the test stopped (SIGSTOP), let go again by `resume`.
final class StoppedBackend: Sendable {
    private let pid = Mutex<pid_t>(0)
    func stop(_ backend: pid_t) -> Bool {
        pid.withLock { $0 = backend }
        return kill(backend, SIGSTOP) == 0
    }
    func resume() {
        pid.withLock { pid in
            if pid > 0 { kill(pid, SIGCONT) }
            pid = 0
        }
    }
}

/// A continuation resumed with whichever outcome comes first.
final class EarliestOutcome<T: Sendable>: Sendable {
    private let waiting = Mutex<CheckedContinuation<T, Never>?>(nil)
    func wait(_ continuation: CheckedContinuation<T, Never>) { waiting.withLock { $0 = continuation } }
    func finish(_ outcome: T) {
        waiting.withLock { continuation in
            continuation?.resume(returning: outcome)
            continuation = nil
        }
    }
}

/// A PostgreSQL server on 127.0.0.1 (a random port) that stops answering: `.silent` takes
/// connections and never says a word; `.answersStartupOnly` completes the startup (trust
/// authentication) and then answers no statement, as a server hung mid-statement.
final class SilentPostgres: Sendable {
    enum Mode: Sendable { case silent, answersStartupOnly }

    private let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init(_ mode: Mode) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(mode: mode)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let mode: Mode
        var startup = ByteBuffer()
        var answered = false

        init(mode: Mode) { self.mode = mode }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard mode == .answersStartupOnly, !answered else { return }
            var bytes = unwrapInboundIn(data)
            startup.writeBuffer(&bytes)
            // The startup message: its length (Int32, itself included), then its body.
            guard let length = startup.getInteger(at: startup.readerIndex, as: Int32.self),
                  startup.readableBytes >= Int(length) else { return }
            answered = true
            var reply = context.channel.allocator.buffer(capacity: 32)
            reply.writeInteger(UInt8(ascii: "R")); reply.writeInteger(Int32(8)); reply.writeInteger(Int32(0))  // AuthenticationOk
            reply.writeInteger(UInt8(ascii: "K")); reply.writeInteger(Int32(12))                                // BackendKeyData
            reply.writeInteger(Int32(4242)); reply.writeInteger(Int32(1))
            reply.writeInteger(UInt8(ascii: "Z")); reply.writeInteger(Int32(5)); reply.writeInteger(UInt8(ascii: "I"))  // ReadyForQuery
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        }
    }
}
