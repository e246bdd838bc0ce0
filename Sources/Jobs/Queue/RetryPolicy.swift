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

    /// The wait a `Retry-After` value asks for (RFC 9110 section 10.2.3): delay-seconds or an
    /// HTTP-date; nil when absent or unreadable. Shared by the API client and webhook delivery.
    public static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.allSatisfy(\.isASCII), let seconds = UInt64(value) {
            return .seconds(min(seconds, 1 << 32))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"   // IMF-fixdate, RFC 9110 section 5.6.7
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
    }
}
