import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a host name into addresses. The fetcher asks once per connection (so once per
/// redirect hop), checks every answer, and connects to the address it checked; a resolver is
/// never consulted again for that connection, which is what defeats DNS rebinding.
public protocol HostResolver: Sendable {
    /// The addresses `host` resolves to, for a TCP connection to `port`.
    func resolve(host: String, port: Int) async throws -> [IPAddress]
}

/// The system resolver (`getaddrinfo`), run on NIO's blocking thread pool so a slow DNS
/// answer does not hold a cooperative thread.
public struct SystemHostResolver: HostResolver {
    public struct ResolutionError: Error, CustomStringConvertible {
        public let host: String
        public let description: String
    }

    public init() {}

    public func resolve(host: String, port: Int) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            try Self.lookUp(host: host, port: port)
        }
    }

    private static func lookUp(host: String, port: Int) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw ResolutionError(host: host, description: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let socketAddress = current.pointee.ai_addr {
                switch Int32(socketAddress.pointee.sa_family) {
                case AF_INET:
                    let v4 = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    addresses.append(.v4(UInt32(bigEndian: v4.s_addr)))
                case AF_INET6:
                    var v6 = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(.v6(.init(withUnsafeBytes(of: &v6) { Array($0) })))
                default:
                    break
                }
            }
            entry = current.pointee.ai_next
        }
        // getaddrinfo answers once per socket type and protocol; keep each address once, in order.
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
