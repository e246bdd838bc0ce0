import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of the fhe-jobs REST API (openapi.yml), as `fhe client` uses it: JSON in and out,
/// problems (RFC 9457) turned into one-line errors with their code.
public struct ServiceClient: Sendable {
    public let server: URL
    let token: String?

    public init(server: String, token: String?) throws(ClientError) {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ClientError("--server must be an http(s) URL such as http://127.0.0.1:8080, not \(server.prefix(100))")
        }
        self.server = url
        self.token = token
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
    /// problem it carries.
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
        let data: Data, response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw ClientError("cannot reach \(server.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError("no HTTP answer from \(server.absoluteString)") }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        let answer = Response(status: http.statusCode, body: data, headers: fields)
        guard (200..<300).contains(http.statusCode) || accept.contains(http.statusCode) else { throw Self.problem(answer) }
        return answer
    }

    /// `HTTP 409 NONCE_REUSED: this retrievalNonce was used before ...`
    static func problem(_ response: Response) -> ClientError {
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        let code = object?["code"] as? String ?? "error"
        let detail = object?["detail"] as? String ?? object?["title"] as? String ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        return ClientError("HTTP \(response.status) \(code): \(detail)")
    }
}

/// A failure of the client, printed as one line.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
