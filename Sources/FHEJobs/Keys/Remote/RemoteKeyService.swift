import Foundation
import Jobs
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import TFHE

/// The key service of another process (`fhe-jobs keyservice`), as API processes reach it with
/// `--key-service`: this process then holds no key-encryption key. One connection per
/// operation (they are rare: an owner's first key set, one result retrieval), every one bounded
/// by `timeout`, through a circuit breaker (README, "Circuit breakers"): while the key service
/// is down, calls fail at once with 503 and `Retry-After` instead of each waiting to time out.
public final class RemoteKeyService: KeyService {
    public let parameters: ParameterSet
    public let endpoint: KeyServiceEndpoint
    let tls: NIOSSLContext?
    let timeout: Duration
    let breaker: CircuitBreaker
    private let group: any EventLoopGroup

    /// The dependency's name in 503 answers, logs and the breaker's metrics.
    public static let dependency = "key_service"

    /// `tls` is required for an `https://` endpoint and refused for a Unix socket.
    public init(endpoint: KeyServiceEndpoint, tls: NIOSSLContext?, parameters: ParameterSet, timeout: Duration = .seconds(60),
                breaker: CircuitBreaker = CircuitBreaker(name: RemoteKeyService.dependency),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(KeyServiceError) {
        switch (endpoint, tls) {
        case (.tls, nil): throw .invalidEndpoint("\(endpoint): mutual TLS needs the client's certificate, key and the key service's CA")
        case (.unix, .some): throw .invalidEndpoint("\(endpoint): a Unix socket takes no TLS files")
        default: break
        }
        self.endpoint = endpoint; self.tls = tls; self.parameters = parameters; self.timeout = timeout
        self.breaker = breaker; self.group = group
    }

    /// The client of `endpoint`, with the TLS context made from `tlsFiles` for an `https://` one.
    public convenience init(endpoint: KeyServiceEndpoint, tlsFiles: KeyServiceTLSFiles?, parameters: ParameterSet,
                            timeout: Duration = .seconds(60),
                            breaker: CircuitBreaker = CircuitBreaker(name: RemoteKeyService.dependency)) throws(KeyServiceError) {
        try self.init(endpoint: endpoint, tls: try tlsFiles?.clientContext(), parameters: parameters, timeout: timeout, breaker: breaker)
    }

    public func ownerKeySet(tenant: String, owner: String) async throws -> OwnerKeySet {
        let keySet = try await call(.ownerKeySet, OwnerKeySetRequest(tenant: tenant, owner: owner), answer: OwnerKeySet.self)
        guard keySet.tenant == tenant, keySet.owner == owner else {
            throw KeyServiceError.remote("it answered another owner's key set")
        }
        // Inputs are checked against the API's parameter set: both sides must run the same one.
        let fingerprint = String(parameters.fingerprint, radix: 16)
        guard keySet.parameterSet == parameters.name, keySet.parameterFingerprint == fingerprint else {
            throw KeyServiceError.remote("its key sets are under \(keySet.parameterSet) (\(keySet.parameterFingerprint)) and this process runs "
                                         + "\(parameters.name) (\(fingerprint)): give both the same --fhe-parameters")
        }
        return keySet
    }

    public func openSealed(_ request: SealedOpening) async throws -> SealedResult {
        try await call(.openSealed, request, answer: SealedResult.self)
    }

    // MARK: The exchange

    /// Sends one request and reads its answer, through the breaker. The key service's own
    /// refusals are answers (it is up); a connection, handshake or timeout failure and a 503
    /// of the key service are failures of the dependency.
    func call<Request: Encodable, Answer: Decodable>(_ kind: KeyServiceFrame.Kind, _ request: Request,
                                                      answer: Answer.Type) async throws -> Answer {
        let body = try JSONEncoder().encode(request)
        let frame: KeyServiceFrame
        do {
            frame = try await breaker.run(isFailure: { $0 is DependencyUnavailable }) {
                let frame = try await exchange(KeyServiceFrame(kind: kind, body: body))
                if frame.kind == .failure { try Self.throwFailure(frame.body) }
                return frame
            }
        } catch let error as DependencyUnavailable where breaker.state == .open {
            // This failure opened the breaker: its wait is known, so the caller gets it now.
            throw CircuitOpenError(dependency: error.dependency, retryAfter: breaker.configuration.openInterval)
        }
        guard frame.kind == .answer, let decoded = try? JSONDecoder().decode(answer, from: frame.body) else {
            throw KeyServiceError.remote("it answered a frame of kind \(frame.kind) that is not a \(answer)")
        }
        return decoded
    }

    /// The failure frame's error, as the API answers it.
    private static func throwFailure(_ body: Data) throws -> Never {
        guard let failure = try? JSONDecoder().decode(KeyServiceWireError.self, from: body) else {
            throw KeyServiceError.remote("it answered a failure that is not JSON")
        }
        switch failure.code {
        case "SERVICE_UNAVAILABLE", "UNSUPPORTED_VERSION":
            // Its database is down, or it is being replaced by another version (a rolling update).
            throw DependencyUnavailable(dependency: dependency, reason: failure.message)
        case "INVALID_REQUEST":
            throw JobServiceError.invalidRequest(failure.message)
        case "INTERNAL", "MALFORMED_FRAME", "FRAME_TOO_LARGE":
            throw KeyServiceError.remote(failure.message)
        default:
            throw JobServiceError.refused(Refusal(failure.code, status: failure.status, failure.message))
        }
    }

    /// One connection: connect, send the request, read one frame back, close. A timer closes
    /// the connection at `timeout`, which ends any read or write waiting on it.
    private func exchange(_ request: KeyServiceFrame) async throws -> KeyServiceFrame {
        let started = ContinuousClock.now
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await connect()
        } catch {
            throw DependencyUnavailable(dependency: Self.dependency, reason: "cannot connect to \(endpoint): \(error)")
        }
        let timedOut = TimeoutFlag()
        let timeout = timeout - (ContinuousClock.now - started)
        let timer = Task { [channel = channel.channel] in
            try await Task.sleep(for: timeout)
            timedOut.fired.store(true, ordering: .relaxed)
            try? await channel.close()
        }
        defer { timer.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(request.encoded())
                var reader = KeyServiceFrameReader(inbound.makeAsyncIterator(), limit: KeyServiceFrame.answerLimit)
                guard let answer = try await reader.next() else { throw KeyServiceProtocolError.malformedFrame("the connection closed before an answer") }
                return answer
            }
        } catch {
            let reason = timedOut.fired.load(ordering: .relaxed) ? "no answer within \(self.timeout)" : "\(error)"
            throw DependencyUnavailable(dependency: Self.dependency, reason: "\(endpoint): \(reason)")
        }
    }

    private func connect() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.milliseconds(Int64(min(timeout, .seconds(10)).seconds * 1000)))
        switch endpoint {
        case .unix(let path):
            return try await bootstrap.connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel(wrappingChannelSynchronously: channel) }
            }
        case .tls(let host, let port):
            guard let tls else { throw KeyServiceError.invalidEndpoint("\(endpoint) without TLS files") }
            return try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The server name both for SNI (RFC 6066) and for the certificate's check.
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host))
                    return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                }
            }
        }
    }
}

/// Whether an exchange's timer closed its connection.
private final class TimeoutFlag: Sendable {
    let fired = Atomic<Bool>(false)
}
