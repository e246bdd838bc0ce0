import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jobs

/// A client of the fhe-jobs REST API (openapi.yml), as `fhe client` uses it: JSON in and out,
/// problems (RFC 9457) turned into one-line errors with their code, and retryable failures
/// sent again under `retry` (``ClientRetryPolicy``).
public struct ServiceClient: Sendable {
    public let server: URL
    let token: String?
    /// When a failed request is sent again.
    public var retry: ClientRetryPolicy
    /// Told of each retry, with the failure and the wait (`fhe client` prints it to standard error).
    public var onRetry: (@Sendable (String) -> Void)?

    public init(server: String, token: String?, retry: ClientRetryPolicy = ClientRetryPolicy(),
                onRetry: (@Sendable (String) -> Void)? = nil) throws(ClientError) {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ClientError("--server must be an http(s) URL such as http://127.0.0.1:8080, not \(server.prefix(100))")
        }
        self.server = url
        self.token = token
        self.retry = retry
        self.onRetry = onRetry
    }

    /// An answer: its status, headers and body.
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]

        /// The body as a JSON object.
        public func object() throws(ClientError) -> [String: Any] {
            guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
                throw ClientError("the server answered HTTP \(status) with a body that is not a JSON object")
            }
            return object
        }
    }

    /// Sends a request; any answer other than 2xx (or `accept`ed statuses) is thrown as the
    /// problem it carries, once the retries `retry` allows are spent. The error's line says why
    /// the client stopped: the failure was not retryable, the request could not be repeated
    /// safely, the attempts ran out, or the server asked for a longer wait than `retry.maxWait`.
    public func send(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, contentType: String? = nil,
                     headers: [String: String] = [:], accept: Set<Int> = []) async throws -> Response {
        guard let url = URL(string: path, relativeTo: server) else { throw ClientError("not a path: \(path.prefix(100))") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 300
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue(contentType ?? "application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            let failure: Failure
            switch await exchange(request) {
            case .success(let answer):
                if (200..<300).contains(answer.status) || accept.contains(answer.status) { return answer }
                failure = Self.problem(answer)
            case .failure(let unreachable):
                failure = unreachable
            }
            guard failure.retryable, retry.maxAttempts > 1 else { throw failure.error }
            guard ClientRetryPolicy.isRepeatable(method: method, headers: headers) else {
                throw ClientError("\(failure.error) (not retried: a \(method) without an Idempotency-Key might be done twice)")
            }
            guard let wait = retry.wait(afterAttempt: attempt, retryAfter: failure.retryAfter) else {
                let elapsed = Int((ContinuousClock.now - started).seconds.rounded())
                if attempt >= retry.maxAttempts {
                    throw ClientError("\(failure.error) (gave up after \(attempt) attempts in \(elapsed) s)")
                }
                throw ClientError("\(failure.error) (gave up: the server asks to retry in \(Self.shown(failure.retryAfter ?? .zero)), "
                    + "longer than this client waits, \(Self.shown(retry.maxWait)))")
            }
            onRetry?("\(failure.error); retrying in \(Self.shown(wait)) (attempt \(attempt + 1) of \(retry.maxAttempts))")
            try await Task.sleep(for: wait)
        }
    }

    /// Why one attempt failed, whether the server said a retry may succeed, and when.
    struct Failure: Error {
        var error: ClientError
        var retryable: Bool
        var retryAfter: Duration?
    }

    /// One attempt: the server's answer, or why there was none. A server that cannot be
    /// reached may be restarting, so that is retryable too.
    private func exchange(_ request: URLRequest) async -> Result<Response, Failure> {
        let data: Data, response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            return .failure(Failure(error: ClientError("cannot reach \(server.absoluteString): \(error.localizedDescription)"), retryable: true))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(Failure(error: ClientError("no HTTP answer from \(server.absoluteString)"), retryable: false))
        }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return .success(Response(status: http.statusCode, body: data, headers: fields))
    }

    /// `HTTP 409 NONCE_REUSED: this retrievalNonce was used before ...`, with the problem's
    /// `retryable` and `Retry-After`. An answer that is not a problem (a proxy's 502 page, say)
    /// is retryable when its status says the server is busy or away (429, 502, 503, 504).
    static func problem(_ response: Response) -> Failure {
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        let code = object?["code"] as? String ?? "error"
        let detail = object?["detail"] as? String ?? object?["title"] as? String ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        let retryable = object?["retryable"] as? Bool ?? [429, 502, 503, 504].contains(response.status)
        return Failure(error: ClientError("HTTP \(response.status) \(code): \(detail)"), retryable: retryable,
                       retryAfter: ClientRetryPolicy.retryAfter(response.headers["retry-after"]))
    }

    static func shown(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds < 10 ? String(format: "%.1f s", seconds) : "\(Int(seconds.rounded())) s"
    }
}

/// A failure of the client, printed as one line.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
