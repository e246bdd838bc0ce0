import Foundation
import Jobs

/// What `POST /v1/auth/token` needs: the dev issuer (nil outside dev mode, where the service
/// issues no tokens) and the endpoint's rate limit.
public struct TokenEndpoint: Sendable {
    public var issuer: DevTokenIssuer?
    /// One bucket for every caller: the endpoint needs no token, so there is no tenant to
    /// charge, and behind a load balancer the peer address is the balancer's. The bucket
    /// bounds the database work anonymous callers can cause; guessing a 256-bit token is
    /// hopeless at any rate, and a stolen one works once. 50 a second serves some 45,000
    /// sessions refreshing every 15 minutes.
    public var rateLimit = RateLimitPolicy(name: "token-endpoint", ratePerSecond: 50, burst: 100)

    public init(issuer: DevTokenIssuer?) { self.issuer = issuer }

    static let bucket = "endpoint:auth-token"
}
