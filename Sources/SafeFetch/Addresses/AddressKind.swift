/// What an address reaches, after the IANA special-purpose address registries
/// (RFC 6890, with RFC 6598 for shared address space and RFC 8215 for local NAT64).
///
/// Only ``global`` addresses are fetched by default. ``FetchPolicy/allowPrivateAddresses`` lets
/// a deployment (or a test on 127.0.0.1) also reach the kinds for which ``isPrivate`` is true;
/// the rest can never be a fetch target.
public enum AddressKind: String, Sendable, CaseIterable {
    /// Globally routable unicast.
    case global
    /// 127.0.0.0/8, ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3).
    case loopback
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918); unique local fc00::/7 (RFC 4193); the
    /// deprecated site-local fec0::/10 (RFC 3879); local-use NAT64 64:ff9b:1::/48 (RFC 8215).
    case `private`
    /// 169.254/16 (RFC 3927), fe80::/10 (RFC 4291 §2.5.6). Cloud metadata services live here.
    case linkLocal = "link-local"
    /// Shared address space 100.64/10, carrier-grade NAT (RFC 6598).
    case sharedAddressSpace = "shared-address-space"
    /// 0.0.0.0 and :: — a connection to either reaches the local host on Linux.
    case unspecified
    /// "This network" 0.0.0.0/8 other than 0.0.0.0 (RFC 1122 §3.2.1.3).
    case thisNetwork = "this-network"
    /// 224/4, ff00::/8.
    case multicast
    /// 255.255.255.255 (RFC 919).
    case broadcast
    /// Documentation, benchmarking, protocol assignments, future use, discard-only, Teredo and
    /// IPv6 outside 2000::/3: nothing a client has a reason to fetch from.
    case reserved

    /// Whether ``FetchPolicy/allowPrivateAddresses`` admits this kind.
    public var isPrivate: Bool {
        switch self {
        case .loopback, .private, .linkLocal, .sharedAddressSpace: true
        case .global, .unspecified, .thisNetwork, .multicast, .broadcast, .reserved: false
        }
    }
}

extension IPAddress {
    /// The kind of the address. An IPv6 address that carries an IPv4 one (IPv4-mapped
    /// ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96, NAT64
    /// 64:ff9b::/96, 6to4 2002::/16) has the kind of the IPv4 address it carries, since a
    /// dual-stack socket, a NAT64 gateway or a 6to4 relay delivers it there.
    public var kind: AddressKind {
        switch self {
        case .v4(let value): Self.kind(ofV4: value)
        case .v6(let value): Self.kind(ofV6: value.bytes)
        }
    }

    private static func kind(ofV4 a: UInt32) -> AddressKind {
        func within(_ network: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~0 << (32 - prefix)
            return a & mask == network
        }
        if a == 0 { return .unspecified }
        if a == 0xFFFF_FFFF { return .broadcast }
        if within(0x0000_0000, 8) { return .thisNetwork }
        if within(0x7F00_0000, 8) { return .loopback }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return .private }
        if within(0xA9FE_0000, 16) { return .linkLocal }
        if within(0x6440_0000, 10) { return .sharedAddressSpace }
        if within(0xE000_0000, 4) { return .multicast }
        let reserved: [(UInt32, UInt32)] = [
            (0xC000_0000, 24),  // 192.0.0.0/24 IETF protocol assignments (RFC 6890 §2.2.2)
            (0xC000_0200, 24),  // 192.0.2.0/24 TEST-NET-1 (RFC 5737)
            (0xC058_6300, 24),  // 192.88.99.0/24 6to4 relay anycast, deprecated (RFC 7526)
            (0xC612_0000, 15),  // 198.18.0.0/15 benchmarking (RFC 2544)
            (0xC633_6400, 24),  // 198.51.100.0/24 TEST-NET-2 (RFC 5737)
            (0xCB00_7100, 24),  // 203.0.113.0/24 TEST-NET-3 (RFC 5737)
            (0xF000_0000, 4),   // 240.0.0.0/4 future use (RFC 1112 §4)
        ]
        if reserved.contains(where: { within($0.0, $0.1) }) { return .reserved }
        return .global
    }

    private static func kind(ofV6 b: [UInt8]) -> AddressKind {
        func v4(at offset: Int) -> UInt32 {
            b[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        func zero(_ range: Range<Int>) -> Bool { b[range].allSatisfy { $0 == 0 } }

        if zero(0..<16) { return .unspecified }
        if zero(0..<15) && b[15] == 1 { return .loopback }
        // ::ffff:a.b.c.d, IPv4-mapped (RFC 4291 §2.5.5.2).
        if zero(0..<10) && b[10] == 0xFF && b[11] == 0xFF { return kind(ofV4: v4(at: 12)) }
        // ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765 §2.1).
        if zero(0..<8) && b[8] == 0xFF && b[9] == 0xFF && zero(10..<12) { return kind(ofV4: v4(at: 12)) }
        // ::a.b.c.d, IPv4-compatible, deprecated (RFC 4291 §2.5.5.1).
        if zero(0..<12) { return kind(ofV4: v4(at: 12)) }
        // 64:ff9b::/96, NAT64 well-known prefix (RFC 6052 §2.1).
        if b[0..<4] == [0x00, 0x64, 0xFF, 0x9B] && zero(4..<12) { return kind(ofV4: v4(at: 12)) }
        // 64:ff9b:1::/48, local-use NAT64 (RFC 8215).
        if b[0..<6] == [0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01] { return .private }
        // 2002::/16, 6to4: the IPv4 address is in bits 16..<48 (RFC 3056 §2).
        if b[0] == 0x20 && b[1] == 0x02 { return kind(ofV4: v4(at: 2)) }
        if b[0] == 0xFF { return .multicast }
        if b[0] & 0xFE == 0xFC { return .private }         // fc00::/7
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return .linkLocal }  // fe80::/10
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return .private }    // fec0::/10
        // 2001::/23 IETF protocol assignments, Teredo 2001::/32 among them (RFC 6890 §2.2.3).
        if b[0] == 0x20 && b[1] == 0x01 && b[2] & 0xFE == 0x00 { return .reserved }
        // 2001:db8::/32 documentation (RFC 3849).
        if b[0..<4] == [0x20, 0x01, 0x0D, 0xB8] { return .reserved }
        // Global unicast is 2000::/3 (RFC 4291 §2.4); the rest is unallocated or special.
        return b[0] & 0xE0 == 0x20 ? .global : .reserved
    }
}
