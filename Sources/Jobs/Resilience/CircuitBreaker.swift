import Foundation
import Metrics
import Synchronization

/// A circuit breaker around one downstream dependency (M. Nygard, "Release It!", 2nd ed.,
/// chapter 5, "Circuit Breaker"): while the dependency keeps failing, calls fail at once with
/// ``CircuitOpenError`` (the API answers 503 with `Retry-After`) instead of each waiting for a
/// timeout of its own and piling up connections, threads and requests.
///
/// - closed: calls pass; `failureThreshold` failures in a row open the breaker.
/// - open: calls are refused for `openInterval`, then the breaker is half-open.
/// - half-open: up to `halfOpenProbes` calls pass as probes; when that many have succeeded the
///   breaker closes, and the first probe that fails opens it again for a full interval. Calls
///   beyond the probes are refused while the probes run.
///
/// Which errors are failures of the dependency is the caller's call (`isFailure`): a refusal
/// the dependency answered on purpose (a revert, a 404, a constraint violation) proves it is
/// up. Time comes from `now`, so tests drive the state machine without sleeping.
public final class CircuitBreaker: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Failures in a row that open a closed breaker.
        public var failureThreshold: Int
        /// How long an open breaker refuses calls before it lets probes through.
        public var openInterval: Duration
        /// Probes a half-open breaker lets through, all of which must succeed to close it.
        public var halfOpenProbes: Int

        /// Five failures in a row, 30 s open, one probe: a dependency that is down costs each
        /// process five timeouts per 30 s, and one that is back is used again within 30 s.
        public init(failureThreshold: Int = 5, openInterval: Duration = .seconds(30), halfOpenProbes: Int = 1) {
            self.failureThreshold = failureThreshold; self.openInterval = openInterval; self.halfOpenProbes = halfOpenProbes
        }

        public static let limits = (failureThreshold: 1...1_000, openSeconds: 1...3_600, halfOpenProbes: 1...100)

        public func validate() throws(JobServiceError) {
            guard Self.limits.failureThreshold.contains(failureThreshold) else {
                throw .invalidConfiguration("the breaker's failure threshold must be 1 to 1000, not \(failureThreshold)")
            }
            guard openInterval >= .seconds(Self.limits.openSeconds.lowerBound), openInterval <= .seconds(Self.limits.openSeconds.upperBound) else {
                throw .invalidConfiguration("the breaker's open interval must be 1 to 3600 seconds, not \(openInterval)")
            }
            guard Self.limits.halfOpenProbes.contains(halfOpenProbes) else {
                throw .invalidConfiguration("the breaker's half-open probes must be 1 to 100, not \(halfOpenProbes)")
            }
        }
    }

    public enum State: String, Sendable, CaseIterable {
        case closed, open, halfOpen = "half_open"
    }

    /// Names the dependency in errors, logs and the metrics' `dependency` label.
    public let name: String
    public let configuration: Configuration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let metrics: BreakerMetrics
    private let machine: Mutex<Machine>

    public init(name: String, configuration: Configuration = .init(),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
                metricsFactory: (any MetricsFactory)? = nil) {
        self.name = name; self.configuration = configuration; self.now = now
        metrics = BreakerMetrics(dependency: name, factory: metricsFactory)
        machine = Mutex(Machine())
        metrics.show(.closed)
    }

    public var state: State { machine.withLock { $0.state } }

    /// Runs `operation` if the breaker admits it, and counts its outcome: an error for which
    /// `isFailure` is true is a failure of the dependency, anything else a success. The
    /// operation's own error is rethrown unchanged.
    public func run<T>(isFailure: (any Error) -> Bool = { _ in true }, _ operation: () async throws -> T) async throws -> T {
        let permit = try admit()
        let result: T
        do {
            result = try await operation()
        } catch {
            record(permit, error: error, isFailure: isFailure)
            throw error
        }
        record(permit, failed: false)
        return result
    }

    /// The outcome of an admitted call that ended with `error`, nil for a success. A caller
    /// that gave up (its task was cancelled) says nothing about the dependency.
    public func record(_ permit: Permit, error: (any Error)?, isFailure: (any Error) -> Bool) {
        guard let error else { return record(permit, failed: false) }
        if error is CancellationError || Task.isCancelled { release(permit) } else { record(permit, failed: isFailure(error)) }
    }

    /// Asks to make one call. The permit must be handed back to ``record(_:failed:)`` or
    /// ``release(_:)`` (``run(isFailure:_:)`` does both).
    public func admit() throws(CircuitOpenError) -> Permit {
        let at = now()
        let (outcome, transition) = machine.withLock { $0.admit(at: at, configuration: configuration) }
        if let transition { metrics.record(transition) }
        switch outcome {
        case .admitted(let permit): return permit
        case .refused(let retryAfter):
            metrics.rejections.increment()
            throw CircuitOpenError(dependency: name, retryAfter: retryAfter)
        }
    }

    /// The outcome of an admitted call.
    public func record(_ permit: Permit, failed: Bool) {
        let at = now()
        let transition = machine.withLock { $0.record(permit, failed: failed, at: at, configuration: configuration) }
        if let transition { metrics.record(transition) }
    }

    /// An admitted call that ended without saying anything of the dependency (cancelled):
    /// a half-open breaker's probe slot is freed for the next caller.
    public func release(_ permit: Permit) {
        machine.withLock { $0.release(permit) }
    }

    /// How long until an open breaker lets a probe through; nil unless open.
    public var remainingOpenTime: Duration? {
        let at = now()
        return machine.withLock { machine in
            guard case .open(let until) = machine.phase, until > at else { return nil }
            return at.duration(to: until)
        }
    }

    /// A call the breaker let through. The generation ties it to the state it was admitted in,
    /// so a slow call that ends after the breaker moved on (closed calls finishing after it
    /// opened, say) is not counted against the new state.
    public struct Permit: Sendable {
        let generation: Int
        let isProbe: Bool
    }

    struct Transition: Sendable, Equatable {
        let from: State, to: State
    }

    /// The state machine alone, under the breaker's lock.
    struct Machine {
        enum Phase {
            case closed(failures: Int)
            case open(until: ContinuousClock.Instant)
            case halfOpen(inFlight: Int, succeeded: Int)
        }

        enum Admission { case admitted(Permit), refused(retryAfter: Duration) }

        var phase = Phase.closed(failures: 0)
        /// Moves on at every transition; permits of an older generation are ignored.
        var generation = 0

        var state: State {
            switch phase {
            case .closed: .closed
            case .open: .open
            case .halfOpen: .halfOpen
            }
        }

        /// A half-open breaker refuses callers beyond its probes for this long: a probe
        /// decides within one call, and a client that waits so long asks again then.
        static let probeWait: Duration = .seconds(1)

        mutating func admit(at now: ContinuousClock.Instant, configuration: Configuration) -> (Admission, Transition?) {
            var transition: Transition?
            if case .open(let until) = phase {
                guard now >= until else { return (.refused(retryAfter: now.duration(to: until)), nil) }
                transition = move(to: .halfOpen(inFlight: 0, succeeded: 0))
            }
            switch phase {
            case .closed:
                return (.admitted(Permit(generation: generation, isProbe: false)), transition)
            case .halfOpen(let inFlight, let succeeded):
                guard inFlight + succeeded < configuration.halfOpenProbes else { return (.refused(retryAfter: Self.probeWait), transition) }
                phase = .halfOpen(inFlight: inFlight + 1, succeeded: succeeded)
                return (.admitted(Permit(generation: generation, isProbe: true)), transition)
            case .open:
                preconditionFailure("an open breaker past its interval is half-open")
            }
        }

        mutating func record(_ permit: Permit, failed: Bool, at now: ContinuousClock.Instant, configuration: Configuration) -> Transition? {
            guard permit.generation == generation else { return nil }
            switch phase {
            case .closed(let failures):
                guard failed else { phase = .closed(failures: 0); return nil }
                guard failures + 1 >= configuration.failureThreshold else { phase = .closed(failures: failures + 1); return nil }
                return move(to: .open(until: now + configuration.openInterval))
            case .halfOpen(let inFlight, let succeeded):
                guard permit.isProbe else { return nil }
                if failed { return move(to: .open(until: now + configuration.openInterval)) }
                guard succeeded + 1 >= configuration.halfOpenProbes else {
                    phase = .halfOpen(inFlight: inFlight - 1, succeeded: succeeded + 1)
                    return nil
                }
                return move(to: .closed(failures: 0))
            case .open:
                return nil
            }
        }

        mutating func release(_ permit: Permit) {
            guard permit.generation == generation, permit.isProbe, case .halfOpen(let inFlight, let succeeded) = phase else { return }
            phase = .halfOpen(inFlight: max(0, inFlight - 1), succeeded: succeeded)
        }

        private mutating func move(to next: Phase) -> Transition {
            let from = state
            phase = next
            generation += 1
            return Transition(from: from, to: state)
        }
    }
}

/// A call refused because the dependency's breaker is open: the dependency failed
/// `failureThreshold` times in a row and is left alone until `retryAfter` has passed.
public struct CircuitOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    public let dependency: String
    public let retryAfter: Duration

    public init(dependency: String, retryAfter: Duration) { self.dependency = dependency; self.retryAfter = retryAfter }

    /// Whole seconds for `Retry-After` (RFC 9110 section 10.2.3), rounded up and at least 1,
    /// so a client that waits that long finds the breaker ready for a probe.
    public var retryAfterSeconds: Int { max(1, Int(retryAfter.seconds.rounded(.up))) }

    public var description: String {
        "\(dependency) is unavailable (it failed repeatedly); retry in \(retryAfterSeconds) s"
    }
}

/// A call to a dependency failed in a way its breaker counts (no connection, no answer in
/// time), while the breaker was still closed: the dependency is down or unreachable, which a
/// retry after a while may find mended. `reason` is for the logs; it may name addresses.
public struct DependencyUnavailable: Error, Sendable, CustomStringConvertible {
    public let dependency: String
    public let reason: String

    public init(dependency: String, reason: String) { self.dependency = dependency; self.reason = reason }

    public var description: String { "\(dependency) is unavailable: \(reason)" }
}

/// The breaker's metrics, through swift-metrics as the rest of the service records them:
/// `fhe_jobs_circuit_breaker_state{dependency, state}` is 1 for the current state and 0 for
/// the others, `fhe_jobs_circuit_breaker_transitions_total{dependency, from, to}` counts the
/// moves, and `fhe_jobs_circuit_breaker_rejections_total{dependency}` the calls refused.
struct BreakerMetrics: Sendable {
    let dependency: String
    let factory: (any MetricsFactory)?
    let rejections: Counter

    init(dependency: String, factory: (any MetricsFactory)?) {
        self.dependency = dependency; self.factory = factory
        rejections = factory.map { Counter(label: "fhe_jobs_circuit_breaker_rejections_total", dimensions: [("dependency", dependency)], factory: $0) }
            ?? Counter(label: "fhe_jobs_circuit_breaker_rejections_total", dimensions: [("dependency", dependency)])
    }

    func show(_ current: CircuitBreaker.State) {
        for state in CircuitBreaker.State.allCases {
            let dimensions = [("dependency", dependency), ("state", state.rawValue)]
            let gauge = factory.map { Gauge(label: "fhe_jobs_circuit_breaker_state", dimensions: dimensions, factory: $0) }
                ?? Gauge(label: "fhe_jobs_circuit_breaker_state", dimensions: dimensions)
            gauge.record(state == current ? 1.0 : 0.0)
        }
    }

    func record(_ transition: CircuitBreaker.Transition) {
        let dimensions = [("dependency", dependency), ("from", transition.from.rawValue), ("to", transition.to.rawValue)]
        let counter = factory.map { Counter(label: "fhe_jobs_circuit_breaker_transitions_total", dimensions: dimensions, factory: $0) }
            ?? Counter(label: "fhe_jobs_circuit_breaker_transitions_total", dimensions: dimensions)
        counter.increment()
        show(transition.to)
    }
}
