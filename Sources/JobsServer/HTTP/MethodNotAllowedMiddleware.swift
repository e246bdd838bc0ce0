import HTTPTypes
import Hummingbird

/// Answers 405 METHOD_NOT_ALLOWED, with an `Allow` header listing the methods the path is
/// served with (RFC 9110 §15.5.6), where the router would answer 404 to a path it serves with
/// other methods. Added after the routes, it wraps only the router's not-found responder, so
/// it costs nothing on a request that matches a route.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Every served path with its methods (sorted), from the router's routes.
    let served: [(path: RouterPath, methods: [HTTPRequest.Method])]

    init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: [HTTPRequest.Method])] = [:]
        for route in routes { byPath["\(route.path)", default: (route.path, [])].methods.append(route.method) }
        served = byPath.values.map { ($0.path, $0.methods.sorted { $0.rawValue < $1.rawValue }) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let components = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        let allowed = served.filter { Self.matches($0.path, components) }.flatMap(\.methods)
        guard !allowed.isEmpty else { return try await next(request, context) }
        var headers = HTTPFields()
        headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        throw APIProblem(.methodNotAllowed, .methodNotAllowed,
                         "\(request.method.rawValue) is not served on this path; use \(allowed.map(\.rawValue).joined(separator: " or "))",
                         headers: headers)
    }

    /// Whether a path's components match a route's, element by element (the routes here are
    /// plain segments and `{captures}`).
    static func matches(_ path: RouterPath, _ components: [Substring]) -> Bool {
        guard path.count == components.count else { return false }
        return zip(path, components).allSatisfy { element, component in element ~= component }
    }
}
