import Synchronization

/// Deadlines kept in one table and fired by one loop that runs only while some are pending,
/// instead of one `Task.sleep` per deadline: the worker pool's attempt timeouts and heartbeat
/// times, the database pool's waits for a connection and bounds on holding one.
///
/// Why: on Linux a `Task.sleep` that is cancelled still holds its task and a Dispatch timer
/// until its deadline passes (about 740 bytes each, measured). Nearly every deadline here is
/// cancelled (the job ends within its timeout, the statement within its bound), so one sleep
/// each held about 70 MB in a server taking 300 sha256 jobs a second with 300 s timeouts
/// (`scripts/soak`, BENCHMARKS.md), and a task and a timer per database request besides. An
/// entry here is removed the moment it is cancelled, and nothing of it outlives its owner.
///
/// A deadline fires at most `resolution` late: the loop wakes once per `resolution` while any
/// entry is pending and stops when none is (its own sleeps are never cancelled, so they leave
/// nothing behind either).
public final class Deadlines: Sendable {
    /// An entry's handle, for `cancel`.
    public struct Ticket: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let action: @Sendable () -> Void
    }
    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var ticking = false
    }
    private let state = Mutex(State())
    public let resolution: Duration
    /// Whether the loop starts itself; false leaves firing to `fireDue` (tests that step time).
    private let selfTicking: Bool

    public init(resolution: Duration, selfTicking: Bool = true) {
        precondition(resolution > .zero, "a deadline table needs a positive resolution")
        self.resolution = resolution
        self.selfTicking = selfTicking
    }

    /// Runs `action` once `deadline` has passed, unless cancelled first. `action` runs on the
    /// table's loop: it must be quick and must not block (start a task for slow work).
    @discardableResult
    public func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Ticket {
        let (id, startLoop) = state.withLock { s -> (UInt64, Bool) in
            s.nextID += 1
            s.entries[s.nextID] = Entry(deadline: deadline, action: action)
            let start = selfTicking && !s.ticking
            if start { s.ticking = true }
            return (s.nextID, start)
        }
        if startLoop { Task.detached { await self.tick() } }
        return Ticket(id: id)
    }

    /// Removes the entry; true if it had not fired yet (its action will never run).
    @discardableResult
    public func cancel(_ ticket: Ticket) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: ticket.id) } != nil
    }

    /// Waits until `deadline` has passed and been fired (true), or until the task is cancelled
    /// (false, at once).
    public func sleep(until deadline: ContinuousClock.Instant) async -> Bool {
        let sleeper = Sleeper()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ticket = schedule(at: deadline) { sleeper.finish(true) }
                // Cancelled before the ticket was known to the handler: withdraw it here.
                if sleeper.wait(continuation, ticket: ticket), cancel(ticket) { sleeper.finish(false) }
            }
        } onCancel: {
            if let ticket = sleeper.markCancelled(), cancel(ticket) { sleeper.finish(false) }
        }
    }

    /// Fires every entry whose deadline is at or before `now`.
    public func fireDue(now: ContinuousClock.Instant = .now) {
        let due = state.withLock { s -> [Entry] in
            let due = s.entries.filter { $0.value.deadline <= now }
            for id in due.keys { s.entries.removeValue(forKey: id) }
            return Array(due.values)
        }
        for entry in due { entry.action() }
    }

    /// Entries not yet fired or cancelled.
    public var pendingCount: Int { state.withLock { $0.entries.count } }

    /// Whether the loop is running (it stops once nothing is pending).
    public var isTicking: Bool { state.withLock { $0.ticking } }

    private func tick() async {
        while true {
            try? await Task.sleep(for: resolution)
            fireDue()
            let stop = state.withLock { s -> Bool in
                if s.entries.isEmpty { s.ticking = false }
                return !s.ticking
            }
            if stop { return }
        }
    }
}

/// One `Deadlines.sleep`: its continuation, resumed once by whichever comes first (the deadline
/// firing, or the task's cancellation withdrawing the entry), in whatever order the firing,
/// the cancellation and the registration of the continuation happen.
private final class Sleeper: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Bool, Never>?
        var ticket: Deadlines.Ticket?
        var outcome: Bool?
        var cancelled = false
        var resumed = false
    }
    private let state = Mutex(State())

    /// Registers the continuation and its entry; true if the task was cancelled before that
    /// (the caller withdraws the entry then).
    func wait(_ continuation: CheckedContinuation<Bool, Never>, ticket: Deadlines.Ticket) -> Bool {
        let (resume, cancelled) = state.withLock { s -> (Bool?, Bool) in
            s.ticket = ticket
            if let outcome = s.outcome, !s.resumed { s.resumed = true; return (outcome, s.cancelled) }
            s.continuation = continuation
            return (nil, s.cancelled)
        }
        if let resume { continuation.resume(returning: resume) }
        return cancelled
    }

    /// Marks the task cancelled; the entry to withdraw, if it is registered yet.
    func markCancelled() -> Deadlines.Ticket? {
        state.withLock { s in s.cancelled = true; return s.ticket }
    }

    /// Resumes the waiter with `outcome` unless it was resumed already.
    func finish(_ outcome: Bool) {
        let continuation = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            guard let c = s.continuation, !s.resumed else { return nil }
            s.resumed = true; s.continuation = nil
            return c
        }
        continuation?.resume(returning: outcome)
    }
}
