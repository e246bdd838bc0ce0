import Hummingbird
import Jobs

/// Authenticates every request under /v1 except health, and binds the principal for the
/// handlers. Runs before anything that touches the database.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let verifier: TokenVerifier

    static func isPublic(_ path: String) -> Bool { path == "/v1/health" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isPublic(request.uri.path) { return try await next(request, context) }
        let principal = try await verifier.principal(fromAuthorization: request.headers[.authorization])
        return try await RequestScope.$principal.withValue(principal) { try await next(request, context) }
    }
}
