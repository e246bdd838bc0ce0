import Foundation
import Jobs
import PostgresNIO

/// Wakes this process's idle workers when any process queues a job: it LISTENs on the
/// channel `PostgresJobStore.insertJob` notifies on commit and signals the `QueueWakeup` per
/// notification. Notifications only shorten the wait; workers still poll, so a notification
/// lost while reconnecting delays a job by at most one poll interval.
///
/// `run()` holds one of the client's connections for as long as it runs (LISTEN belongs to a
/// session), so size the client's pool with one connection to spare.
public final class PostgresQueueListener: Sendable {
    private let client: PostgresClient
    private let wakeup: QueueWakeup
    private let logger: Logger

    /// The client must be running (see `PostgresJobStore`).
    public init(client: PostgresClient, wakeup: QueueWakeup, logger: Logger) {
        self.client = client
        self.wakeup = wakeup
        self.logger = logger
    }

    /// Listens until the calling task is cancelled. If the connection is lost (or cannot be
    /// had), it tries again after a pause that doubles from 100 ms up to 5 s, and starts again
    /// from 100 ms once listening succeeds.
    public func run() async {
        let shortestPause = Duration.milliseconds(100)
        let longestPause = Duration.seconds(5)
        var pause = shortestPause
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: PostgresJobStore.queuedChannel) { notifications in
                        pause = shortestPause
                        // Jobs may have been queued while no connection was listening (at
                        // start, or while reconnecting): have the workers look once.
                        wakeup.signal()
                        // Ends (returns nil) when the task is cancelled; throws if the
                        // connection is lost.
                        for try await _ in notifications { wakeup.signal() }
                    }
                }
                if Task.isCancelled { return }
                logger.warning("queue notifications stopped; listening again")
            } catch {
                if Task.isCancelled { return }
                logger.warning("queue notifications unavailable; retrying",
                               metadata: ["error": "\(String(reflecting: error))", "retryIn": "\(pause)"])
            }
            do { try await Task.sleep(for: pause) } catch { return }
            pause = min(pause * 2, longestPause)
        }
    }
}
