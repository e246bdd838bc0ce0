import Foundation
import Hummingbird
import Jobs
import Logging
import OpenAPIRuntime

/// Turns any error into a problem+json response: our typed errors by their code (an open
/// circuit breaker, or blob storage that does not answer, as 503 SERVICE_UNAVAILABLE), request decoding failures as 400
/// INVALID_REQUEST, Hummingbird's HTTP errors by their status, and anything else as 500
/// INTERNAL (logged with the request id, never shown to the client). Whether the request may
/// be retried, and `Retry-After`, come from `APIProblem`'s table.
struct ProblemResponder: Sendable {
    let logger: Logger

    func problem(for error: any Error) -> APIProblem {
        switch error {
        case let problem as APIProblem: return problem
        case let error as JobServiceError: return APIProblem(error)
        case let error as CircuitOpenError: return APIProblem(error)
        case let error as DependencyUnavailable: return unavailable(error)
        case BlobStoreError.unavailable(let reason): return unavailable(DependencyUnavailable(dependency: "blob storage", reason: reason))
        case let error as ServerError:
            // The generated code wraps what the handler threw, and its own decoding failures.
            if let inner = error.underlyingError as? APIProblem { return inner }
            if let inner = error.underlyingError as? JobServiceError { return APIProblem(inner) }
            if let inner = error.underlyingError as? CircuitOpenError { return APIProblem(inner) }
            if let inner = error.underlyingError as? DependencyUnavailable { return unavailable(inner) }
            if case BlobStoreError.unavailable(let reason)? = error.underlyingError as? BlobStoreError {
                return unavailable(DependencyUnavailable(dependency: "blob storage", reason: reason))
            }
            // The request decoded (the handler had its input), so unless the handler itself
            // found part of the body undecodable, it failed in a way we did not foresee: ours,
            // not the client's (500, logged), never a 400. (scripts/drill pg-outage found a
            // statement cut by the database's shutdown answered 400 INVALID_REQUEST.)
            if error.operationInput != nil, !(error.underlyingError is DecodingError) {
                logger.error("unhandled error", metadata: ["requestId": "\(RequestScope.requestID)",
                                                           "error": "\(String(reflecting: error.underlyingError))"])
                return .internalError
            }
            if "\(error.underlyingError)".localizedCaseInsensitiveContains("content type") {
                return APIProblem(.unsupportedMediaType, .unsupportedMediaType, "the request body must be application/json")
            }
            return APIProblem.invalid(Self.describeDecodingFailure(error))
        case let error as HTTPError:
            switch error.status {
            case .notFound: return APIProblem(.notFound, .notFound, "no such resource")
            case .methodNotAllowed: return APIProblem(.methodNotAllowed, .methodNotAllowed, "method not allowed on this resource")
            case .contentTooLarge: return APIProblem(.payloadTooLarge, .contentTooLarge, "the request body is larger than the server accepts")
            case .unsupportedMediaType: return APIProblem(.unsupportedMediaType, .unsupportedMediaType, error.body ?? "unsupported media type")
            case .badRequest: return APIProblem.invalid(error.body ?? "bad request")
            default:
                return error.status.code < 500
                    ? APIProblem(.invalidRequest, error.status, error.body ?? error.status.reasonPhrase)
                    : .internalError
            }
        default:
            logger.error("unhandled error", metadata: ["requestId": "\(RequestScope.requestID)", "error": "\(String(reflecting: error))"])
            return .internalError
        }
    }

    /// 503 to the client; the reason (which may name addresses) to the operator's log.
    private func unavailable(_ error: DependencyUnavailable) -> APIProblem {
        logger.warning("a dependency did not answer", metadata: ["requestId": "\(RequestScope.requestID)", "error": "\(error)"])
        return APIProblem(error)
    }

    func response(for error: any Error, request: Request) -> Response {
        let problem = problem(for: error)
        if problem.code == ._internal, !(error is APIProblem) {
            logger.error("request failed", metadata: ["requestId": "\(RequestScope.requestID)", "error": "\(String(reflecting: error))"])
        }
        let document = problem.document(requestID: RequestScope.requestID, instance: request.uri.path)
        let body = (try? JSONEncoder().encode(document)) ?? Data()
        var headers = problem.headers
        headers[.contentType] = "application/problem+json"
        if let seconds = problem.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return Response(status: problem.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A client-facing sentence from a request that did not match the schema, naming the field.
    static func describeDecodingFailure(_ error: ServerError) -> String {
        let underlying = error.underlyingError
        if let decoding = underlying as? DecodingError {
            return describe(decoding)
        }
        let text = "\(underlying)"
        return "the request does not match the API: \(String(text.prefix(300)))"
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return names.isEmpty ? "the body" : String(names.drop(while: { $0 == "." }))
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return parent == "the body" ? "\(key.stringValue) is required" : "\(parent).\(key.stringValue) is required"
        case .typeMismatch(let type, let context):
            return "\(path(context)) has the wrong type (expected \(Self.jsonName(of: type)))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) must not be null (expected \(Self.jsonName(of: type)))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "\(path(context)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "the body does not match the API"
        }
    }

    private static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        default: "\(type)".contains("Array") ? "an array" : "an object or a listed value"
        }
    }
}
