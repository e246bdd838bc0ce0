#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Jobs
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// `fhe-jobs keyservice`: the key service (`LocalKeyService`, which alone holds the
/// key-encryption key) served to API processes over a Unix domain socket, over mutual TLS on
/// TCP, or both, in the frames of `KeyServiceFrame`.
///
/// Only authenticated peers are answered: on the Unix socket, a peer whose user id
/// (SO_PEERCRED, unix(7)) is this process's or one allowed; over TCP, a peer whose client
/// certificate a configured CA signed (the TLS 1.3 handshake, RFC 8446 section 4.4.2, fails
/// otherwise). Each operation names the tenant and owner the API verified, and the key service
/// binds what it opens to them (`LocalKeyService.openSealed`).
public final class KeyServiceServer: Sendable {
    public struct Limits: Sendable {
        /// How long a peer may take to send a whole request frame, and to send the next one.
        public var readTimeout: Duration = .seconds(10)
        /// Connections served at once; more are closed on arrival.
        public var maxConnections = 256
        public init() {}
    }

    let keys: LocalKeyService
    let limits: Limits
    private let logger: Logger
    private let group: any EventLoopGroup
    private let connections = Atomic<Int>(0)

    public init(keys: LocalKeyService, limits: Limits = .init(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "fhe-jobs.keyservice")) {
        self.keys = keys; self.limits = limits; self.group = group; self.logger = logger
    }

    /// A bound listener, ready to `serve`.
    public struct Listener: Sendable {
        fileprivate let channel: NIOAsyncChannel<Connection, Never>
        /// The TCP port bound (useful with port 0), nil for a Unix socket.
        public let port: Int?
        public let description: String
        /// The Unix socket's path, removed when serving ends.
        fileprivate var socketPath: String? = nil
    }

    /// One accepted connection and how its peer was authenticated.
    fileprivate struct Connection: Sendable {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let peer: String
    }

    // MARK: Listening

    /// Binds a Unix socket at `path` with `mode` (0600, or 0660 for a group), from its first
    /// moment: the socket is bound in a fresh directory of mode 0700 beside `path`, given
    /// `mode` there, and only then renamed to `path` (rename(2) is atomic). The process's umask
    /// is left alone: it is shared by every thread, and changing it would change the mode of
    /// whatever another thread creates meanwhile. A stale socket at the path is replaced; any
    /// other file there is refused. Peers whose user id is not in `allowedUserIDs` (by default,
    /// this process's user alone) are closed before a byte is read.
    public func listen(unixSocket path: String, mode: mode_t = 0o600, allowedUserIDs: Set<UInt32>? = nil) async throws -> Listener {
        guard mode & 0o007 == 0, mode & 0o600 == 0o600, mode & 0o111 == 0 else {
            throw KeyServiceError.invalidEndpoint("unix:\(path): the socket's mode must be 600 or 660, not \(String(mode, radix: 8))")
        }
        #if os(Linux)
        let allowed = allowedUserIDs ?? [getuid()]
        let logger = self.logger
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & S_IFMT != S_IFSOCK {
            throw KeyServiceError.invalidEndpoint("unix:\(path): a file that is not a socket is there already")
        }
        let staging = try Self.makeStagingDirectory(beside: path)
        defer { rmdir(staging) }
        let stagedPath = staging + "/s"
        let channel: NIOAsyncChannel<Connection, Never>
        do {
            channel = try await ServerBootstrap(group: group)
                .bind(unixDomainSocketPath: stagedPath) { child in
                    Self.peerCredentials(child).flatMapThrowing { credentials in
                        guard allowed.contains(credentials.uid) else {
                            logger.warning("key service peer refused", metadata: ["socket": "\(path)", "uid": "\(credentials.uid)"])
                            Counter(label: "fhe_keyservice_connections_refused_total", dimensions: [("reason", "peer_user")]).increment()
                            throw PeerRefused(uid: credentials.uid)
                        }
                        return Connection(channel: try NIOAsyncChannel(wrappingChannelSynchronously: child),
                                          peer: "uid \(credentials.uid) pid \(credentials.pid)")
                    }
                }
        } catch {
            unlink(stagedPath)
            throw KeyServiceError.invalidEndpoint("unix:\(path): cannot listen there: \(error)")
        }
        guard chmod(stagedPath, mode) == 0, rename(stagedPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(stagedPath)
            try? await channel.channel.close()
            throw KeyServiceError.invalidEndpoint("unix:\(path): cannot put the socket there: \(reason)")
        }
        logger.info("key service listening", metadata: ["socket": "\(path)", "mode": "\(String(mode, radix: 8))",
                                                        "allowedUIDs": "\(allowed.sorted())"])
        return Listener(channel: channel, port: nil, description: "unix:\(path)", socketPath: path)
        #else
        // SO_PEERCRED is Linux's; without a peer check the socket is not served at all.
        throw KeyServiceError.invalidEndpoint("unix:\(path): the key service checks Unix socket peers on Linux only")
        #endif
    }

    #if os(Linux)
    /// A new directory of mode 0700 in the directory of `path`, under a short random name (a
    /// socket's whole path must fit in 108 bytes, unix(7)).
    private static func makeStagingDirectory(beside path: String) throws -> String {
        let parent = (path as NSString).deletingLastPathComponent
        for _ in 0..<8 {
            let name = ".ks-" + String(UInt32.random(in: .min ... .max), radix: 16)
            let candidate = (parent.isEmpty ? "." : parent) + "/" + name
            if mkdir(candidate, 0o700) == 0 { return candidate }
            guard errno == EEXIST else {
                throw KeyServiceError.invalidEndpoint("unix:\(path): cannot make a directory beside it: \(String(cString: strerror(errno)))")
            }
        }
        throw KeyServiceError.invalidEndpoint("unix:\(path): cannot make a directory beside it: every name tried exists")
    }
    #endif

    /// Binds TCP `host:port` (0: any free port) for mutual TLS under `tls` (a server context
    /// that requires client certificates: `KeyServiceTLSFiles.serverContext`).
    public func listen(host: String, port: Int, tls: NIOSSLContext) async throws -> Listener {
        let channel: NIOAsyncChannel<Connection, Never>
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        return Connection(channel: try NIOAsyncChannel(wrappingChannelSynchronously: child),
                                          peer: child.remoteAddress.map { "\($0)" } ?? "tls peer")
                    }
                }
        } catch {
            throw KeyServiceError.invalidEndpoint("\(host):\(port): cannot listen there: \(error)")
        }
        let bound = channel.channel.localAddress?.port ?? port
        logger.info("key service listening (mutual TLS)", metadata: ["host": "\(host)", "port": "\(bound)"])
        return Listener(channel: channel, port: bound, description: "\(host):\(bound)")
    }

    // MARK: Serving

    /// Serves the listener's connections until the task is cancelled (a graceful shutdown),
    /// which is a normal end.
    public func serve(_ listener: Listener) async throws {
        defer { if let path = listener.socketPath { unlink(path) } }
        do {
            try await accept(listener)
        } catch is CancellationError {
            return
        }
    }

    private func accept(_ listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.channel.executeThenClose { inbound in
                for try await connection in inbound {
                    guard connections.add(1, ordering: .relaxed).newValue <= limits.maxConnections else {
                        connections.subtract(1, ordering: .relaxed)
                        logger.warning("key service connection refused: too many at once", metadata: ["peer": "\(connection.peer)"])
                        Counter(label: "fhe_keyservice_connections_refused_total", dimensions: [("reason", "too_many")]).increment()
                        try? await connection.channel.channel.close()
                        continue
                    }
                    group.addTask {
                        defer { self.connections.subtract(1, ordering: .relaxed) }
                        await self.handle(connection)
                    }
                }
            }
        }
    }

    /// Requests in turn until the peer closes, sends nothing for `readTimeout`, or breaks the
    /// protocol (answered with a failure frame, then closed).
    private func handle(_ connection: Connection) async {
        let channel = connection.channel.channel
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                var reader = KeyServiceFrameReader(inbound.makeAsyncIterator(), limit: KeyServiceFrame.requestLimit)
                while true {
                    // A peer that stalls is cut off: the timer closes the channel under the read.
                    let timeout = limits.readTimeout
                    let timer = Task { try await Task.sleep(for: timeout); try? await channel.close() }
                    let frame: KeyServiceFrame?
                    do {
                        frame = try await reader.next()
                        timer.cancel()
                    } catch let error as KeyServiceProtocolError {
                        timer.cancel()
                        logger.notice("key service peer broke the protocol", metadata: ["peer": "\(connection.peer)", "error": "\(error)"])
                        Counter(label: "fhe_keyservice_requests_total", dimensions: [("operation", "invalid"), ("outcome", error.code)]).increment()
                        try await outbound.write(Self.failure(KeyServiceWireError(code: error.code, status: 400, message: error.description)))
                        return
                    } catch {
                        timer.cancel()
                        throw error
                    }
                    guard let frame else { return }
                    let (answer, broken) = await respond(to: frame, peer: connection.peer)
                    try await outbound.write(answer)
                    if broken { return }
                }
            }
        } catch {
            // A failed TLS handshake (no or a wrong client certificate), a reset, a timeout.
            logger.debug("key service connection ended", metadata: ["peer": "\(connection.peer)", "error": "\(error)"])
        }
    }

    /// The answer frame, and whether the request broke the protocol (the connection is then
    /// closed). Each request is counted by operation and outcome (`ok` or the failure's code) in
    /// `fhe_keyservice_requests_total`, and timed in `fhe_keyservice_request_duration_seconds`.
    private func respond(to frame: KeyServiceFrame, peer: String) async -> (ByteBuffer, broken: Bool) {
        let started = ContinuousClock.now
        let (answer, broken, outcome) = await answer(frame, peer: peer)
        let operation = switch frame.kind {
        case .ownerKeySet: "owner_key_set"
        case .openSealed: "open_sealed"
        case .answer, .failure: "invalid"
        }
        Counter(label: "fhe_keyservice_requests_total", dimensions: [("operation", operation), ("outcome", outcome)]).increment()
        Metrics.Timer(label: "fhe_keyservice_request_duration_seconds", dimensions: [("operation", operation)])
            .recordSeconds((ContinuousClock.now - started).seconds)
        return (answer, broken)
    }

    private func answer(_ frame: KeyServiceFrame, peer: String) async -> (ByteBuffer, broken: Bool, outcome: String) {
        let decoder = JSONDecoder(), encoder = JSONEncoder()
        do {
            switch frame.kind {
            case .ownerKeySet:
                let request = try Self.decode(OwnerKeySetRequest.self, frame.body, decoder)
                try Self.checkPrincipal(tenant: request.tenant, owner: request.owner)
                logger.info("key set", metadata: ["peer": "\(peer)", "tenant": "\(request.tenant)"])
                let answer = try await keys.ownerKeySet(tenant: request.tenant, owner: request.owner)
                return (KeyServiceFrame(kind: .answer, body: try encoder.encode(answer)).encoded(), false, "ok")
            case .openSealed:
                let request = try Self.decode(SealedOpening.self, frame.body, decoder)
                try Self.checkPrincipal(tenant: request.tenant, owner: request.owner)
                logger.info("open and seal a result", metadata: ["peer": "\(peer)", "tenant": "\(request.tenant)",
                                                                 "job": "\(request.jobID)", "keySet": "\(request.keySetID)"])
                let answer = try await keys.openSealed(request)
                return (KeyServiceFrame(kind: .answer, body: try encoder.encode(answer)).encoded(), false, "ok")
            case .answer, .failure:
                throw KeyServiceProtocolError.malformedFrame("a key service answers requests; it was sent an answer")
            }
        } catch {
            let failure = wireError(error, peer: peer)
            return (Self.failure(failure), error is KeyServiceProtocolError, failure.code)
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: Data, _ decoder: JSONDecoder) throws -> T {
        do { return try decoder.decode(type, from: body) } catch {
            throw KeyServiceProtocolError.malformedFrame("the body is not a \(type) in JSON")
        }
    }

    /// The API sends the principal it verified from the token; an empty or oversized one is a
    /// bug of the caller's, refused rather than made into a key set.
    private static func checkPrincipal(tenant: String, owner: String) throws {
        guard (1...256).contains(tenant.utf8.count), (1...512).contains(owner.utf8.count) else {
            throw JobServiceError.invalidRequest("the tenant and owner must be 1 to 256 and 1 to 512 bytes")
        }
    }

    /// Errors as failure frames: refusals keep their openapi.yml code and status, a failing
    /// dependency of the key service (its database) is 503, and anything else is INTERNAL,
    /// logged here with its reason (`KeyServiceError`s name no secret, and are passed on).
    private func wireError(_ error: any Error, peer: String) -> KeyServiceWireError {
        switch error {
        case JobServiceError.refused(let refusal):
            return KeyServiceWireError(code: refusal.code, status: refusal.status, message: refusal.message)
        case JobServiceError.invalidRequest(let message):
            return KeyServiceWireError(code: "INVALID_REQUEST", status: 400, message: message)
        case let error as KeyServiceProtocolError:
            return KeyServiceWireError(code: error.code, status: 400, message: error.description)
        case let error as CircuitOpenError:
            return KeyServiceWireError(code: "SERVICE_UNAVAILABLE", status: 503, message: error.description,
                                       retryAfterSeconds: error.retryAfterSeconds)
        case let error as DependencyUnavailable:
            return KeyServiceWireError(code: "SERVICE_UNAVAILABLE", status: 503, message: error.description)
        case let error as KeyServiceError:
            logger.error("key service operation failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return KeyServiceWireError(code: "INTERNAL", status: 500, message: error.description)
        default:
            logger.error("key service operation failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return KeyServiceWireError(code: "INTERNAL", status: 500, message: "the key service failed; its logs say why")
        }
    }

    private static func failure(_ error: KeyServiceWireError) -> ByteBuffer {
        // Encoding four plain fields cannot fail.
        KeyServiceFrame(kind: .failure, body: (try? JSONEncoder().encode(error)) ?? Data()).encoded()
    }

    // MARK: Peer credentials

    /// A Unix socket peer's process, user and group (`struct ucred`, unix(7)), read with
    /// getsockopt(SOL_SOCKET, SO_PEERCRED): the kernel's record of who connected, which the
    /// peer cannot forge.
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    struct PeerRefused: Error, CustomStringConvertible {
        let uid: UInt32
        var description: String { "a Unix socket peer with user id \(uid), which is not allowed, was closed" }
    }

    #if os(Linux)
    /// SO_PEERCRED from <asm-generic/socket.h>, the value on x86-64 and arm64.
    private static let soPeerCred: Int32 = 17

    private static func peerCredentials(_ channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(KeyServiceError.invalidEndpoint("this channel has no socket to ask for its peer"))
        }
        return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(soPeerCred))
    }
    #endif
}
