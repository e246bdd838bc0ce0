import Hummingbird
import Jobs

/// Authenticates every request except health, the token endpoint (whose credential is the
/// refresh token in its body) and the API's documentation (see `APIDocs`), and binds the
/// principal for the handlers. Runs before anything that touches the database.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let verifier: TokenVerifier

    static func isPublic(_ path: String) -> Bool {
        path == "/v1/health" || path == "/v1/auth/token" || APIDocs.isDocsPath(path)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isPublic(request.uri.path) { return try await next(request, context) }
        let principal = try await verifier.principal(fromAuthorization: request.headers[.authorization])
        return try await RequestScope.$principal.withValue(principal) { try await next(request, context) }
    }
}
