import Foundation
import Jobs
import Prometheus
import Synchronization
import Testing

/// The breaker's state machine, driven by a clock the test moves (no sleeps), with its
/// metrics read back from a real Prometheus registry.
@Suite("Circuit breaker") struct CircuitBreakerTests {
    /// A clock that stands still until the test moves it.
    final class ManualClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex<Duration>(.zero)
        func advance(_ by: Duration) { offset.withLock { $0 += by } }
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    }

    /// Counts the calls that reached the dependency.
    final class Calls: Sendable {
        private let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    struct Down: Error {}
    struct Refused: Error {}

    let clock = ManualClock()
    let registry = PrometheusCollectorRegistry()

    func breaker(threshold: Int = 3, open: Duration = .seconds(10), probes: Int = 2) -> CircuitBreaker {
        let clock = clock
        return CircuitBreaker(name: "test-db", configuration: .init(failureThreshold: threshold, openInterval: open, halfOpenProbes: probes),
                              now: { clock.now }, metricsFactory: PrometheusMetricsFactory(registry: registry))
    }

    func fail(_ breaker: CircuitBreaker) async {
        await #expect(throws: Down.self) { try await breaker.run { () async throws -> Int in throw Down() } }
    }

    func succeed(_ breaker: CircuitBreaker) async throws {
        #expect(try await breaker.run { 7 } == 7)
    }

    func metrics() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func failuresInARowOpenItAndASuccessResetsTheCount() async throws {
        let breaker = breaker()
        await fail(breaker); await fail(breaker)
        try await succeed(breaker)
        await fail(breaker); await fail(breaker)
        #expect(breaker.state == .closed, "a success between failures starts the count again")
        await fail(breaker)
        #expect(breaker.state == .open)
        #expect(breaker.remainingOpenTime == .seconds(10))
    }

    @Test func anOpenBreakerFailsFastWithTheTimeLeftWithoutCallingTheDependency() async throws {
        let breaker = breaker(threshold: 1)
        await fail(breaker)
        clock.advance(.seconds(4))
        let calls = Calls()
        do {
            try await breaker.run { calls.add() }
            Issue.record("an open breaker let a call through")
        } catch let error as CircuitOpenError {
            #expect(error == CircuitOpenError(dependency: "test-db", retryAfter: .seconds(6)))
            #expect(error.retryAfterSeconds == 6)
        }
        #expect(calls.value == 0)
        clock.advance(.milliseconds(5_500))
        #expect(throws: CircuitOpenError.self) { try breaker.admit() }
        #expect((try? breaker.admit()) == nil)
        #expect(CircuitOpenError(dependency: "x", retryAfter: .milliseconds(400)).retryAfterSeconds == 1, "Retry-After rounds up, at least 1 s")
    }

    @Test func halfOpenLetsTheProbesThroughAndClosesWhenAllSucceed() async throws {
        let breaker = breaker(threshold: 1, probes: 2)
        await fail(breaker)
        clock.advance(.seconds(10))
        #expect(breaker.state == .open, "the state moves on at the next call")
        let first = try breaker.admit()
        #expect(breaker.state == .halfOpen)
        let second = try breaker.admit()
        #expect(throws: CircuitOpenError(dependency: "test-db", retryAfter: .seconds(1))) { try breaker.admit() }
        breaker.record(first, failed: false)
        #expect(breaker.state == .halfOpen, "one of two probes succeeded")
        breaker.record(second, failed: false)
        #expect(breaker.state == .closed)
        try await succeed(breaker)
    }

    @Test func aFailedProbeOpensItForAFullIntervalAgain() async throws {
        let breaker = breaker(threshold: 1, probes: 2)
        await fail(breaker)
        clock.advance(.seconds(11))
        let probe = try breaker.admit()
        let other = try breaker.admit()
        breaker.record(probe, failed: true)
        #expect(breaker.state == .open)
        #expect(breaker.remainingOpenTime == .seconds(10))
        breaker.record(other, failed: false)
        #expect(breaker.state == .open, "a probe of the state before does not count in the new one")
    }

    @Test func callsAdmittedBeforeItOpenedDoNotCountAfter() async throws {
        let breaker = breaker(threshold: 1, probes: 1)
        let slow = try breaker.admit()
        await fail(breaker)
        clock.advance(.seconds(10))
        let probe = try breaker.admit()
        breaker.record(slow, failed: true)
        #expect(breaker.state == .halfOpen, "the slow call was admitted while closed")
        breaker.record(probe, failed: false)
        #expect(breaker.state == .closed)
    }

    @Test func aCancelledProbeFreesItsSlot() async throws {
        let breaker = breaker(threshold: 1, probes: 1)
        await fail(breaker)
        clock.advance(.seconds(10))
        await #expect(throws: CancellationError.self) { try await breaker.run { () async throws -> Int in throw CancellationError() } }
        #expect(breaker.state == .halfOpen)
        try await succeed(breaker)
        #expect(breaker.state == .closed)
    }

    @Test func errorsThatAreNotTheDependencysFaultDoNotOpenIt() async throws {
        let breaker = breaker(threshold: 1)
        for _ in 0..<5 {
            await #expect(throws: Refused.self) {
                try await breaker.run(isFailure: { !($0 is Refused) }) { () async throws -> Int in throw Refused() }
            }
        }
        #expect(breaker.state == .closed)
    }

    @Test func theMetricsShowTheStateAndCountTheTransitions() async throws {
        let breaker = breaker(threshold: 1, probes: 1)
        #expect(metrics().contains(#"fhe_jobs_circuit_breaker_state{dependency="test-db",state="closed"} 1.0"#))
        await fail(breaker)
        #expect(throws: CircuitOpenError.self) { try breaker.admit() }
        clock.advance(.seconds(10))
        try await succeed(breaker)
        let text = metrics()
        for line in [#"fhe_jobs_circuit_breaker_state{dependency="test-db",state="closed"} 1.0"#,
                     #"fhe_jobs_circuit_breaker_state{dependency="test-db",state="open"} 0.0"#,
                     #"fhe_jobs_circuit_breaker_transitions_total{dependency="test-db",from="closed",to="open"} 1"#,
                     #"fhe_jobs_circuit_breaker_transitions_total{dependency="test-db",from="open",to="half_open"} 1"#,
                     #"fhe_jobs_circuit_breaker_transitions_total{dependency="test-db",from="half_open",to="closed"} 1"#,
                     #"fhe_jobs_circuit_breaker_rejections_total{dependency="test-db"} 1"#] {
            #expect(text.contains(line), "\(line) in\n\(text)")
        }
    }

    @Test func theConfigurationIsCheckedWithOneLine() throws {
        try CircuitBreaker.Configuration().validate()
        #expect(throws: JobServiceError.invalidConfiguration("the breaker's failure threshold must be 1 to 1000, not 0")) {
            try CircuitBreaker.Configuration(failureThreshold: 0).validate()
        }
        #expect(throws: JobServiceError.self) { try CircuitBreaker.Configuration(openInterval: .zero).validate() }
        #expect(throws: JobServiceError.self) { try CircuitBreaker.Configuration(halfOpenProbes: 101).validate() }
    }
}
