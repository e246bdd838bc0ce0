import Hummingbird

/// Refuses bodies over the limit before they are read into memory (413 PAYLOAD_TOO_LARGE),
/// whether or not the client declared a Content-Length.
///
/// The paths in `streamed` take large bodies (ciphertext uploads) that their handler streams
/// to the blob store under its own limit: here only their declared length is checked, and the
/// body is left unread.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int
    var streamed: [String: Int] = [:]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = streamed[request.uri.path] ?? maxBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIProblem(.payloadTooLarge, .contentTooLarge, "the request body is \(length) bytes; the limit is \(limit)")
        }
        if streamed[request.uri.path] != nil { return try await next(request, context) }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIProblem(.payloadTooLarge, .contentTooLarge, "the request body is over the limit of \(maxBytes) bytes")
        }
        return try await next(request, context)
    }
}
