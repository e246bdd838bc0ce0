import Metrics
import Synchronization

/// One breaker per instance of a dependency (each allowed host of fetched URLs, say), made on
/// first use with a shared configuration, so one failing host does not stop the others. The
/// caller bounds the keys (hosts come from the allow list, never from a request alone).
public final class CircuitBreakers: Sendable {
    public let configuration: CircuitBreaker.Configuration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let metricsFactory: (any MetricsFactory)?
    private let breakers = Mutex<[String: CircuitBreaker]>([:])

    public init(configuration: CircuitBreaker.Configuration = .init(),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
                metricsFactory: (any MetricsFactory)? = nil) {
        self.configuration = configuration; self.now = now; self.metricsFactory = metricsFactory
    }

    /// The breaker named `name`, made closed on first use.
    public func breaker(named name: String) -> CircuitBreaker {
        breakers.withLock { breakers in
            if let breaker = breakers[name] { return breaker }
            let breaker = CircuitBreaker(name: name, configuration: configuration, now: now, metricsFactory: metricsFactory)
            breakers[name] = breaker
            return breaker
        }
    }
}
