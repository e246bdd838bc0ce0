import Foundation
import HTTPTypes
import Hummingbird

/// Outermost middleware: gives the request an id (the caller's `X-Request-ID` if it is sane,
/// else a new UUID), echoes it, and answers every error as problem+json.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    let responder: ProblemResponder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = request.headers[.xRequestID].flatMap(Self.acceptable) ?? UUID().uuidString.lowercased()
        var response = await RequestScope.$requestID.withValue(requestID) {
            await RequestScope.$headers.withValue(request.headers) {
                do { return try await next(request, context) } catch { return responder.response(for: error, request: request) }
            }
        }
        response.headers[.xRequestID] = requestID
        return response
    }

    /// At most 128 visible ASCII characters, so a log line cannot be forged with it.
    static func acceptable(_ id: String) -> String? {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f } ? id : nil
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
    static let rateLimitPolicy = Self("RateLimit-Policy")!
    static let rateLimit = Self("RateLimit")!
    static let xRateLimitLimit = Self("X-RateLimit-Limit")!
    static let xRateLimitRemaining = Self("X-RateLimit-Remaining")!
    static let xRateLimitReset = Self("X-RateLimit-Reset")!
}
