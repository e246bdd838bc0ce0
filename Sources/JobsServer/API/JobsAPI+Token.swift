import Foundation
import HTTPTypes
import Jobs

extension JobsAPI {
    /// `POST /v1/auth/token`: the refresh-token grant of the dev issuer. Grant errors are
    /// RFC 6749 section 5.2 JSON, with `Cache-Control: no-store` like the tokens themselves.
    func exchangeRefreshToken(_ input: Operations.ExchangeRefreshToken.Input) async throws -> Operations.ExchangeRefreshToken.Output {
        guard case .urlEncodedForm(let form) = input.body else {
            throw APIProblem(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/x-www-form-urlencoded")
        }
        let decision = try await rateLimiter.consume(bucket: TokenEndpoint.bucket, policy: tokens.rateLimit, now: Date())
        guard decision.allowed else {
            throw APIProblem(.rateLimited, .tooManyRequests,
                             "the token endpoint takes \(String(format: "%g", tokens.rateLimit.ratePerSecond)) requests a second, shared by every caller; retry after \(decision.retryAfterSeconds) s",
                             headers: [.retryAfter: "\(decision.retryAfterSeconds)"])
        }
        do {
            guard let issuer = tokens.issuer else {
                throw OAuthError(.unsupportedGrantType, "this service issues no tokens outside dev mode; ask the identity provider that signs them")
            }
            let pair = try await issuer.exchange(grantType: form.grantType, refreshToken: form.refreshToken, scope: form.scope,
                                                 requestID: RequestScope.requestID)
            return .ok(.init(headers: .init(cacheControl: "no-store", pragma: "no-cache"),
                             body: .json(.init(accessToken: pair.accessToken, tokenType: .bearer, expiresIn: pair.expiresIn,
                                               refreshToken: pair.refreshToken.text))))
        } catch let error as OAuthError {
            return .badRequest(.init(headers: .init(cacheControl: "no-store"),
                                     body: .json(.init(error: Self.oauthCode(error.code), errorDescription: error.description))))
        }
    }

    private static func oauthCode(_ code: OAuthError.Code) -> Components.Schemas.OAuthError._ErrorPayload {
        switch code {
        case .invalidRequest: .invalidRequest
        case .invalidGrant: .invalidGrant
        case .unsupportedGrantType: .unsupportedGrantType
        case .invalidScope: .invalidScope
        }
    }
}
