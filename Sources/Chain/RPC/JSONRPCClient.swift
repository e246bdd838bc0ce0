import AsyncHTTPClient
import Foundation
import Jobs
import NIOCore
import NIOHTTP1

/// A JSON-RPC 2.0 parameter: the few JSON shapes Ethereum's methods take.
public indirect enum RPCParameter: Encodable, Sendable {
    case string(String)
    case bool(Bool)
    case array([RPCParameter])
    case object([String: RPCParameter])
    case null

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

/// JSON-RPC 2.0 over HTTP POST (the Ethereum node API), on AsyncHTTPClient's shared client.
public struct JSONRPCClient: Sendable {
    public let url: String
    public let timeout: TimeAmount
    /// Answers larger than this are refused rather than buffered (logs of a wide range can be big).
    public let maxResponseBytes: Int
    /// The node's circuit breaker, if any: after repeated transport failures and timeouts,
    /// calls throw `CircuitOpenError` at once until the node gets a probe again. A JSON-RPC
    /// error or a revert is the node answering, so it does not count.
    public let breaker: CircuitBreaker?

    public init(url: String, timeout: TimeAmount = .seconds(10), maxResponseBytes: Int = 16 << 20, breaker: CircuitBreaker? = nil) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw ChainError.unexpected("the chain RPC URL must be http(s)://host[:port][/path], got \(Self.redacted(url))")
        }
        self.url = url; self.timeout = timeout; self.maxResponseBytes = maxResponseBytes; self.breaker = breaker
    }

    private struct Request: Encodable {
        let jsonrpc = "2.0"
        let id: Int
        let method: String
        let params: [RPCParameter]
    }

    private struct Response<Result: Decodable>: Decodable {
        struct Fault: Decodable {
            let code: Int
            let message: String
            let data: String?
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                code = try container.decode(Int.self, forKey: .code)
                message = try container.decode(String.self, forKey: .message)
                // Nodes put revert data here as hex; anything else is ignored.
                data = try? container.decodeIfPresent(String.self, forKey: .data)
            }
            enum CodingKeys: String, CodingKey { case code, message, data }
        }
        let result: Result?
        let error: Fault?
    }

    /// Calls `method`; `Result?` decodes a JSON null as nil (a pending receipt, say).
    /// The URL as logs may show it: scheme, host and port only. Node providers put API keys in
    /// the user part, the path (`/v3/KEY`) or the query, and log lines travel further than
    /// configuration.
    public var redactedURL: String { Self.redacted(url) }

    public static func redacted(_ url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host, !host.isEmpty else {
            return "<an unparsable URL>"
        }
        let hidden = parts.user != nil || parts.password != nil || !(parts.percentEncodedPath.isEmpty || parts.percentEncodedPath == "/")
            || parts.percentEncodedQuery != nil || parts.fragment != nil
        return "\(scheme)://\(host)\(parts.port.map { ":\($0)" } ?? "")\(hidden ? "/<redacted>" : "")"
    }

    public func call<Result: Decodable>(_ method: String, _ params: [RPCParameter] = [], as: Result.Type = Result.self) async throws -> Result {
        guard let breaker else { return try await exchange(method, params, as: Result.self) }
        return try await breaker.run(isFailure: Self.isNodeFailure) { try await exchange(method, params, as: Result.self) }
    }

    /// Whether an error says the node is failing (unreachable, silent, answering garbage or
    /// HTTP errors) rather than answering: what the breaker counts.
    static func isNodeFailure(_ error: any Error) -> Bool {
        switch error as? ChainError {
        case .transport, .timeout: true
        default: false
        }
    }

    private func exchange<Result: Decodable>(_ method: String, _ params: [RPCParameter], as: Result.Type) async throws -> Result {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(Request(id: 1, method: method, params: params))))
        let body: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            guard response.status == .ok else {
                throw ChainError.transport("\(method): HTTP \(response.status.code)")
            }
            body = try await response.body.collect(upTo: maxResponseBytes)
        } catch let error as ChainError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw ChainError.timeout(method: method, seconds: Double(timeout.nanoseconds) / 1e9)
        } catch {
            throw ChainError.transport("\(method): \(error)")
        }
        let decoded: Response<Result>
        do { decoded = try JSONDecoder().decode(Response<Result>.self, from: Data(body.readableBytesView)) } catch {
            throw ChainError.transport("\(method): not a JSON-RPC answer (\(error))")
        }
        if let fault = decoded.error {
            // Geth and most nodes answer a revert with code 3 and the revert data.
            if fault.code == 3 || fault.message.hasPrefix("execution reverted") {
                let data = fault.data.flatMap { try? Data(ethereumHex: $0) }
                throw ChainError.reverted(reason: data.flatMap(ABI.revertReason) ?? Self.reasonText(fault.message))
            }
            throw ChainError.rpc(method: method, code: fault.code, message: fault.message)
        }
        if let result = decoded.result { return result }
        // A JSON null result is only valid when the caller asked for an optional.
        if let nullable = Result.self as? any NullableResult.Type, let none = nullable.null as? Result { return none }
        throw ChainError.transport("\(method): the answer has neither a result nor an error")
    }

    private static func reasonText(_ message: String) -> String {
        let prefix = "execution reverted: "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }
}

/// Lets `call` answer nil for a JSON null when the caller asked for an optional result.
private protocol NullableResult { static var null: Self { get } }
extension Optional: NullableResult { static var null: Self { .none } }
