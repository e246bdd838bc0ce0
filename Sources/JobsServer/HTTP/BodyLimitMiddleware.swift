import Hummingbird

/// Refuses bodies over the limit before they are read into memory (413 PAYLOAD_TOO_LARGE),
/// whether or not the client declared a Content-Length.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw APIProblem(.payloadTooLarge, .contentTooLarge, "the request body is \(length) bytes; the limit is \(maxBytes)")
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIProblem(.payloadTooLarge, .contentTooLarge, "the request body is over the limit of \(maxBytes) bytes")
        }
        return try await next(request, context)
    }
}
