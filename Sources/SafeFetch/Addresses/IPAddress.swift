#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, as a resolver answers it and as the fetcher connects to it.
///
/// The fetcher never hands a host name to the HTTP client to resolve again: it resolves the
/// name once, classifies the answer with ``AddressKind`` and connects to this value.
public enum IPAddress: Hashable, Sendable {
    /// Four bytes in network order, the first byte the most significant (`127.0.0.1` is `0x7F00_0001`).
    case v4(UInt32)
    /// Sixteen bytes in network order.
    case v6(IPv6Bytes)

    /// The sixteen bytes of an IPv6 address, first byte first.
    public struct IPv6Bytes: Hashable, Sendable {
        public var bytes: [UInt8]

        public init(_ bytes: [UInt8]) {
            precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
            self.bytes = bytes
        }
    }

    /// Parses a textual address (`inet_pton`'s dotted quad or RFC 4291 §2.2 text, without
    /// brackets or a zone). Forms that `inet_pton` refuses, such as `0x7f.1` or `2130706433`,
    /// are not addresses here; the fetcher sends them to the resolver like any other name, and
    /// checks whatever the resolver makes of them.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(IPv6Bytes(withUnsafeBytes(of: &v6) { Array($0) }))
            return
        }
        return nil
    }

    public init(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self = .v4(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }
}

extension IPAddress: CustomStringConvertible {
    /// The canonical text (`inet_ntop`), without brackets.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch self {
        case .v4(let value):
            var address = in_addr(s_addr: value.bigEndian)
            _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        case .v6(let value):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: value.bytes) }
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
