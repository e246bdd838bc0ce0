import Chain
import Foundation
import Jobs
import Synchronization
import Testing

/// The chain node's circuit breaker against a node that is not there (a closed port on
/// loopback): after the threshold, calls fail at once without a connection attempt, and once
/// the open interval has passed (on the test's clock) one probe tries the node again.
@Suite struct RPCBreakerTests {
    final class ManualClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex<Duration>(.zero)
        func advance(_ by: Duration) { offset.withLock { $0 += by } }
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    }

    @Test func anUnreachableNodeOpensTheBreakerAndCallsFailFast() async throws {
        let clock = ManualClock()
        let breaker = CircuitBreaker(name: "chain_rpc", configuration: .init(failureThreshold: 2, openInterval: .seconds(30)),
                                     now: { clock.now })
        let rpc = EthereumRPC(client: try JSONRPCClient(url: "http://127.0.0.1:9", timeout: .milliseconds(500), breaker: breaker))
        for _ in 0..<2 {
            await #expect(throws: ChainError.self) { _ = try await rpc.blockNumber() }
        }
        #expect(breaker.state == .open)
        await #expect(throws: CircuitOpenError(dependency: "chain_rpc", retryAfter: .seconds(30))) { _ = try await rpc.chainID() }
        clock.advance(.seconds(29))
        await #expect(throws: CircuitOpenError(dependency: "chain_rpc", retryAfter: .seconds(1))) { _ = try await rpc.blockNumber() }

        // The interval has passed: the probe reaches for the node, which is still not there.
        clock.advance(.seconds(1))
        await #expect(throws: ChainError.self) { _ = try await rpc.blockNumber() }
        #expect(breaker.state == .open)
        #expect(breaker.remainingOpenTime == .seconds(30))
    }
}
