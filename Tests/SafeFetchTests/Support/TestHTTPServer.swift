import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What the test server answers on one path.
struct Reply: Sendable {
    var status: HTTPResponseStatus = .ok
    var headers: [(String, String)] = []
    var chunks: [[UInt8]] = []
    /// Sent as Content-Length; otherwise the body is chunked.
    var declaresLength = true
    /// Waited before the response head.
    var delay: Duration = .zero

    static func bytes(_ bytes: [UInt8], chunkSize: Int = 1024, declaresLength: Bool = true) -> Reply {
        let chunks = stride(from: 0, to: bytes.count, by: chunkSize).map { Array(bytes[$0..<min($0 + chunkSize, bytes.count)]) }
        return Reply(chunks: chunks, declaresLength: declaresLength)
    }

    static func redirect(_ location: String, status: HTTPResponseStatus = .found) -> Reply {
        Reply(status: status, headers: [("Location", location)])
    }
}

/// A request the test server saw.
struct SeenRequest: Sendable, Equatable {
    let path: String
    let host: String?
}

/// An HTTP/1.1 server on 127.0.0.1 and a port the system picks, serving fixed replies.
final class TestHTTPServer: Sendable {
    let port: Int
    private let seen = Mutex<[SeenRequest]>([])
    private let routes: Mutex<[String: Reply]>

    private init(port: Int, routes: [String: Reply]) {
        self.port = port
        self.routes = Mutex(routes)
    }

    /// Serves `reply` on `path` from now on (for replies that name the server's own port).
    func route(_ path: String, _ reply: Reply) {
        routes.withLock { $0[path] = reply }
    }

    var requests: [SeenRequest] { seen.withLock { $0 } }

    private func record(_ request: SeenRequest) {
        seen.withLock { $0.append(request) }
    }

    /// Runs `body` with a server answering `routes` (path to reply; anything else is 404),
    /// and stops the server when `body` returns.
    static func with<T: Sendable>(
        _ routes: [String: Reply] = [:],
        _ body: @Sendable (TestHTTPServer) async throws -> T
    ) async throws -> T {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let server = TestHTTPServer(port: listener.channel.localAddress!.port!, routes: routes)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await listener.executeThenClose { inbound in
                        for try await connection in inbound {
                            connections.addTask { try? await server.serve(connection) }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            return try await body(server)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                case .body:
                    break
                case .end:
                    guard let request = head else { return }
                    record(SeenRequest(path: request.uri, host: request.headers.first(name: "host")))
                    let reply = routes.withLock { $0[request.uri] } ?? Reply(status: .notFound)
                    if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
                    var headers = HTTPHeaders(reply.headers)
                    if reply.declaresLength {
                        headers.replaceOrAdd(name: "Content-Length", value: String(reply.chunks.reduce(0) { $0 + $1.count }))
                    }
                    try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)))
                    for chunk in reply.chunks {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
                    }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }
}
