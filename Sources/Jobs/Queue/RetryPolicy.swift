import Foundation

/// When a failed attempt runs again: exponential backoff with "equal jitter" (half the delay
/// fixed, half random), so retries of many jobs that failed together spread out
/// (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval

    public init(baseDelay: TimeInterval = 1, maxDelay: TimeInterval = 300) { self.baseDelay = baseDelay; self.maxDelay = maxDelay }

    /// The delay before attempt `attempt + 1`, after `attempt` (1-based) failed.
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0..<1)) -> TimeInterval {
        let exponential = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        return exponential / 2 + exponential / 2 * random
    }
}
