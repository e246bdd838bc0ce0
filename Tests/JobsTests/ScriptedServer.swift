import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A real HTTP server on 127.0.0.1 (a random port) whose answers a test scripts: each request
/// gets the next answer of the script, and the last one again once the script runs out. It
/// keeps every request's method, path and headers, so a test sees what a client really sent.
final class ScriptedServer: Sendable {
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields = [:]
        var body: Data = Data()
        /// How long the server waits before answering (a receiver that times the client out).
        var delay: Duration? = nil

        /// A problem document as the fhe-jobs API answers it.
        static func problem(_ status: HTTPResponse.Status, code: String, retryable: Bool, retryAfter: String? = nil) -> Answer {
            var headers: HTTPFields = [.contentType: "application/problem+json"]
            if let retryAfter { headers[.retryAfter] = retryAfter }
            let body = #"{"type":"urn:fhe-jobs:problem:\#(code)","title":"t","status":\#(status.code),"code":"\#(code)","retryable":\#(retryable),"detail":"scripted"}"#
            return Answer(status: status, headers: headers, body: Data(body.utf8))
        }

        static func json(_ text: String) -> Answer { Answer(status: .ok, headers: [.contentType: "application/json"], body: Data(text.utf8)) }
    }

    struct Received: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var headers: HTTPFields
        var at: ContinuousClock.Instant
        /// The request's body (at most 1 MiB of it).
        var body: Data
    }

    private let script = Mutex<[Answer]>([])
    private let received = Mutex<[Received]>([])

    init(_ answers: [Answer] = [Answer(status: .ok)]) { script.withLock { $0 = answers } }

    /// Replaces what is left of the script.
    func script(_ answers: [Answer]) { script.withLock { $0 = answers } }

    var requests: [Received] { received.withLock { $0 } }

    private func answer(_ request: Request) async throws -> Response {
        let at = ContinuousClock.now
        let body = try await request.body.collect(upTo: 1 << 20)
        received.withLock {
            $0.append(Received(method: request.method, path: request.uri.path, headers: request.headers, at: at, body: Data(buffer: body)))
        }
        let next = script.withLock { script in script.count > 1 ? script.removeFirst() : script.first ?? Answer(status: .ok) }
        if let delay = next.delay { try await Task.sleep(for: delay) }
        return Response(status: next.status, headers: next.headers, body: .init(byteBuffer: ByteBuffer(bytes: next.body)))
    }

    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method) { request, _ -> Response in try await self.answer(request) }
        }
        let (ports, port) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0); port.finish() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let bound = await iterator.next(), bound > 0 else { throw CancellationError() }
            try await body(bound)
        }
    }
}
