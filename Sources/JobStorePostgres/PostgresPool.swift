import Jobs
import PostgresNIO
import Synchronization

/// The stores' way to the database: PostgresClient's connection pool with a deadline on
/// waiting for a connection and one on using it, behind a circuit breaker.
///
/// The pool keeps a request waiting for as long as it cannot connect (it retries and never
/// fails the request), so while the database is down every API request and worker would hang
/// until its own client gave up, holding memory and a task each. Here a request waits at most
/// `leaseTimeout` for a connection; once the breaker's threshold of requests in a row failed
/// that way (or lost their connection), requests are refused at once with `CircuitOpenError`
/// (503 and `Retry-After` over HTTP) until the breaker lets a probe through. SQL errors
/// (constraints, serialization failures) are the database answering, and do not count.
///
/// A request also holds its connection at most `useTimeout` (`--database-query-seconds`):
/// a statement sent on a connection the server has just closed never ends (postgres-nio drops
/// it, see `bounded`), nor does one the server never answers, so its request would go
/// unanswered and the graceful shutdown waiting for it would never end: what `scripts/drill
/// pg-outage` saw, which DatabaseHangTests reproduces. Past the deadline the request is
/// answered with a failure the breaker counts, and the connection is closed.
struct PostgresPool: Sendable {
    /// The pool itself, for what must not be refused by a breaker (migrations at start, the
    /// queue listener's long-held connection).
    let unguarded: PostgresClient
    let breaker: CircuitBreaker?
    /// The longest a request waits for a connection; nil waits as long as the pool does.
    let leaseTimeout: Duration?
    /// The longest a request holds its connection (its statement, or all of a transaction's):
    /// past it the request fails and the connection is closed; nil for no bound.
    let useTimeout: Duration?

    /// Every pool's waits for a connection and bounds on holding one, fired at most 50 ms late;
    /// one table rather than a sleeping task per request (see `Deadlines`).
    static let deadlines = Deadlines(resolution: .milliseconds(50))

    init(_ client: PostgresClient, breaker: CircuitBreaker?, leaseTimeout: Duration?, useTimeout: Duration? = nil) {
        unguarded = client; self.breaker = breaker; self.leaseTimeout = leaseTimeout; self.useTimeout = useTimeout
    }

    /// Runs `body` on a leased connection. With a breaker, a failure it counts is thrown as
    /// `DependencyUnavailable` (503 over the API, like the open breaker that may follow), or,
    /// once the breaker is open (this failure opened it, or one beside it did), as
    /// `CircuitOpenError`: then when to ask again is known, and the caller gets it (503 with
    /// `Retry-After`; a worker sleeps that long), as the open breaker's refusals do.
    func withConnection<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        let useTimeout = useTimeout
        return try await guarded { connection in try await Self.bounded(connection, by: useTimeout, body) }
    }

    /// `withConnection` for a body that cannot escape (it calls a closure of its caller's):
    /// it runs in the caller's task, so it cannot be given up on; at the deadline the
    /// connection is closed, which fails a statement that postgres-nio still tracks (one the
    /// server does not answer), though not one it dropped (see `bounded`). Prefer `withConnection`.
    func withConnectionInCallerTask<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        let useTimeout = useTimeout
        return try await guarded { connection in try await Self.closing(connection, after: useTimeout, body) }
    }

    /// Runs `run` on a leased connection, behind the breaker.
    private func guarded<R: Sendable>(_ run: (PostgresConnection) async throws -> R) async throws -> R {
        guard let breaker else { return try await leased(run) }
        do {
            return try await breaker.run(isFailure: Self.isDatabaseFailure) { try await leased(run) }
        } catch let error where Self.isDatabaseFailure(error) {
            if let wait = breaker.remainingOpenTime { throw CircuitOpenError(dependency: breaker.name, retryAfter: wait) }
            throw DependencyUnavailable(dependency: breaker.name, reason: "\(error)")
        }
    }

    /// The same pool, waiting at most `wait` for a connection (where waits are bounded at all):
    /// for a call whose failure costs nothing lasting, so that a database that does not answer
    /// does not hold its caller for the full lease timeout once more.
    func waitingAtMost(_ wait: Duration) -> PostgresPool {
        PostgresPool(unguarded, breaker: breaker, leaseTimeout: leaseTimeout.map { min($0, wait) }, useTimeout: useTimeout)
    }

    /// The same pool, its connection held as long as the caller needs: for a lock held across
    /// work of the caller's own (the chain confirmer's round), where closing the connection at
    /// a deadline would end the lock while that work goes on.
    var withoutUseTimeout: PostgresPool {
        PostgresPool(unguarded, breaker: breaker, leaseTimeout: leaseTimeout, useTimeout: nil)
    }

    /// Runs `body` in a transaction on a leased connection (see `PostgresConnection.transaction`).
    func transaction<R: Sendable>(logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        try await withConnection { connection in try await connection.transaction(logger: logger, body) }
    }

    /// All rows of a query run on a connection leased for it alone (no transaction).
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await withConnection { connection in try await connection.rows(query, logger: logger) }
    }

    /// Runs a statement whose rows are not wanted.
    func query(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await rows(query, logger: logger)
    }

    /// Whether an error says the database is unreachable or lost the connection: what the
    /// breaker counts. That includes the server ending a session because it is going away
    /// (SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, of class
    /// 57, operator intervention): what a statement in flight gets when the database is stopped.
    static func isDatabaseFailure(_ error: any Error) -> Bool {
        if error is PostgresUnreachableError || error is PostgresStatementTimeoutError { return true }
        guard let error = error as? PSQLError else { return false }
        // clientClosedConnection: a statement on a connection closed on this side after the server
        // failed it (a FATAL), or by a deadline (`bounded`), handed out before the pool knew.
        if [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed].contains(error.code) {
            return true
        }
        return error.code == .server && error.serverInfo?[.sqlState]?.hasPrefix("57P") == true
    }

    /// Leases a connection for `body`, waiting at most `leaseTimeout` for it.
    ///
    /// The lease is held by an unstructured task, not a child task, so that this caller never
    /// waits for the lease's own bookkeeping. A task group would have to wait for its lease
    /// child to end, and that child may never end: postgres-nio 1.33.2 loses a cancellation
    /// that lands between its `Task.isCancelled` check and the queueing of the request (the
    /// request then stays queued while no connection can be made), and the client retries
    /// connecting without end while the database is down. The caller instead waits only for
    /// the handoff, which its own cancellation, the lease deadline or the lease's failure
    /// ends. A connection that comes after the caller gave up is returned to the pool at once
    /// (`LeaseHandoff.offer`); one that was handed over is held until `body` is done, so it
    /// never goes back to the pool while in use.
    private func leased<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        guard let leaseTimeout else { return try await unguarded.withConnection { connection in try await body(connection) } }
        let handoff = LeaseHandoff()
        let client = unguarded
        let lease = Task {
            do {
                try await client.withConnection { connection in
                    guard handoff.offer(connection) else { return }
                    await handoff.waitForRelease()
                }
            } catch {
                handoff.fail(error)
            }
        }
        let deadline = Self.deadlines.schedule(at: .now + leaseTimeout) {
            handoff.fail(PostgresUnreachableError(timeout: leaseTimeout))
        }
        defer {
            handoff.release()
            Self.deadlines.cancel(deadline)
        }
        let connection: PostgresConnection
        do {
            connection = try await withTaskCancellationHandler {
                try await handoff.connection()
            } onCancel: {
                handoff.fail(CancellationError())
            }
        } catch {
            // Withdraws the request from the pool (if postgres-nio loses this, the connection
            // it gets later is given back at once, and nobody waits for it meanwhile).
            lease.cancel()
            throw error
        }
        Self.deadlines.cancel(deadline)
        return try await body(connection)
    }

    /// Runs `body` on `connection`, giving up on it once `timeout` has passed.
    ///
    /// A statement may never end, whatever the database does later: postgres-nio 1.33.2 writes
    /// a statement to its channel with no promise for the write (`PostgresConnection.query`),
    /// so a statement sent on a connection the server has just closed (a stop cuts every
    /// session) is dropped by the closed channel and its result never comes, not even an
    /// error. A statement the server never answers (stopped, hung, cut off) waits as long, and
    /// postgres-nio's queries ignore task cancellation. So `body` runs in a task of its own,
    /// and at the deadline the connection is closed (failing a statement still tracked at
    /// once) and the caller is answered `PostgresStatementTimeoutError`, a database failure
    /// the breaker counts, whether or not `body` ever ends. The connection is closed before
    /// the caller goes on to release it, so the pool drops it rather than hand it out again
    /// while the abandoned `body` may still hold it.
    static func bounded<R: Sendable>(_ connection: PostgresConnection, by timeout: Duration?,
                                     _ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        guard let timeout else { return try await body(connection) }
        let outcome = FirstOutcome<R>(), expired = Flag()
        let work = Task {
            do {
                outcome.finish(.success(try await body(connection)))
            } catch {
                // The statement the deadline's close failed reports the deadline.
                outcome.finish(.failure(expired.isSet ? PostgresStatementTimeoutError(timeout: timeout) : error))
            }
        }
        let deadline = deadlines.schedule(at: .now + timeout) {
            expired.set()
            // Closed before the caller is answered (and so releases it): see above.
            Task {
                try? await connection.close()
                outcome.finish(.failure(PostgresStatementTimeoutError(timeout: timeout)))
            }
        }
        defer { deadlines.cancel(deadline) }
        // The caller's cancellation reaches `body` as it did when `body` ran in the caller's task.
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            work.cancel()
        }
    }
}

extension PostgresPool {
    /// Runs `body` on `connection` in the caller's task, closing the connection once `timeout`
    /// has passed (for `withConnectionInCallerTask`).
    nonisolated(nonsending) static func closing<R: Sendable>(_ connection: PostgresConnection, after timeout: Duration?,
                                                             _ body: (PostgresConnection) async throws -> R) async throws -> R {
        guard let timeout else { return try await body(connection) }
        let expired = Flag()
        let deadline = deadlines.schedule(at: .now + timeout) {
            expired.set()
            Task { try? await connection.close() }
        }
        defer { deadlines.cancel(deadline) }
        do {
            return try await body(connection)
        } catch {
            if expired.isSet { throw PostgresStatementTimeoutError(timeout: timeout) }
            throw error
        }
    }
}

/// A flag set once, from one task, read from another.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}

/// The first of several outcomes (a body's result, a deadline), for the one task waiting.
final class FirstOutcome<R: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<R, any Error>?)
        case finished(Result<R, any Error>)
        case taken
    }

    private let state = Mutex(State.waiting(nil))

    /// Records `result` unless one came first.
    func finish(_ result: Result<R, any Error>) {
        state.withLock { state in
            switch state {
            case .waiting(let waiting?):
                state = .taken
                waiting.resume(with: result)
            case .waiting(nil):
                state = .finished(result)
            case .finished, .taken:
                break
            }
        }
    }

    /// The first outcome, once there is one (for one caller).
    func value() async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            state.withLock { state in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                case .finished(let result):
                    state = .taken
                    continuation.resume(with: result)
                case .taken:
                    preconditionFailure("FirstOutcome.value() is for one caller")
                }
            }
        }
    }
}

/// A request's use of a connection outlasted `--database-query-seconds`: the connection was
/// closed, failing its statement. A database failure (the breaker counts it), since a healthy
/// database finishes the store's statements far sooner.
public struct PostgresStatementTimeoutError: Error, CustomStringConvertible {
    public var timeout: Duration
    public var description: String { "PostgreSQL did not finish the request's statements within \(timeout) (the connection was closed)" }
}

/// A connection handed from the task that leased it to the task that uses it, and the
/// signal back that it may be returned to the pool. A connection offered after the user gave
/// up is returned at once; once handed over, it is held until `release` whatever cancellation
/// reaches the leasing task, so it never goes back to the pool while in use.
final class LeaseHandoff: Sendable {
    private enum Handover {
        case pending(CheckedContinuation<PostgresConnection, any Error>?)
        case offered(PostgresConnection)
        case delivered
        case failed(any Error)
    }

    private enum Return {
        case held(CheckedContinuation<Void, Never>?)
        case released
    }

    private let handover = Mutex(Handover.pending(nil))
    private let giveBack = Mutex(Return.held(nil))

    /// The leasing task's offer; false if the user already gave up (return the connection).
    func offer(_ connection: PostgresConnection) -> Bool {
        handover.withLock { state in
            switch state {
            case .pending(let waiting?):
                state = .delivered
                waiting.resume(returning: connection)
                return true
            case .pending(nil):
                state = .offered(connection)
                return true
            case .offered, .delivered, .failed:
                return false
            }
        }
    }

    /// No connection is coming (the lease failed, or the wait timed out); a no-op once one was offered.
    func fail(_ error: any Error) {
        handover.withLock { state in
            switch state {
            case .pending(let waiting):
                state = .failed(error)
                waiting?.resume(throwing: error)
            case .offered, .delivered, .failed:
                break
            }
        }
    }

    /// The user's wait for the connection.
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            handover.withLock { state in
                switch state {
                case .pending:
                    state = .pending(continuation)
                case .offered(let connection):
                    state = .delivered
                    continuation.resume(returning: connection)
                case .failed(let error):
                    continuation.resume(throwing: error)
                case .delivered:
                    continuation.resume(throwing: PostgresUnreachableError(timeout: .zero))
                }
            }
        }
    }

    /// The leasing task's wait until the user is done with the connection.
    func waitForRelease() async {
        await withCheckedContinuation { continuation in
            giveBack.withLock { state in
                switch state {
                case .held: state = .held(continuation)
                case .released: continuation.resume()
                }
            }
        }
    }

    /// The user is done (or never got the connection): the lease may end.
    func release() {
        giveBack.withLock { state in
            if case .held(let waiting) = state { waiting?.resume() }
            state = .released
        }
    }
}
