import SafeFetch
import Testing

@Suite("Address classification")
struct AddressKindTests {
    static let table: [(String, AddressKind)] = [
        // IPv4
        ("8.8.8.8", .global),
        ("1.1.1.1", .global),
        ("0.0.0.0", .unspecified),
        ("0.1.2.3", .thisNetwork),
        ("127.0.0.1", .loopback),
        ("127.255.255.254", .loopback),
        ("10.0.0.1", .private),
        ("10.255.255.255", .private),
        ("172.16.0.1", .private),
        ("172.31.255.255", .private),
        ("172.15.255.255", .global),
        ("172.32.0.0", .global),
        ("192.168.1.1", .private),
        ("192.169.0.1", .global),
        ("169.254.169.254", .linkLocal),
        ("100.64.0.1", .sharedAddressSpace),
        ("100.127.255.255", .sharedAddressSpace),
        ("100.63.255.255", .global),
        ("100.128.0.0", .global),
        ("224.0.0.1", .multicast),
        ("239.255.255.255", .multicast),
        ("255.255.255.255", .broadcast),
        ("240.0.0.1", .reserved),
        ("192.0.2.1", .reserved),
        ("198.18.0.1", .reserved),
        ("203.0.113.9", .reserved),
        // IPv6
        ("::", .unspecified),
        ("::1", .loopback),
        ("2606:4700:4700::1111", .global),
        ("fc00::1", .private),
        ("fd12:3456::1", .private),
        ("fe80::1", .linkLocal),
        ("febf::1", .linkLocal),
        ("fec0::1", .private),
        ("ff02::1", .multicast),
        ("2001:db8::1", .reserved),
        ("2001::1", .reserved),
        ("100::1", .reserved),
        ("4000::1", .reserved),
        // IPv4 inside IPv6
        ("::ffff:127.0.0.1", .loopback),
        ("::ffff:7f00:1", .loopback),
        ("::ffff:10.1.2.3", .private),
        ("::ffff:169.254.169.254", .linkLocal),
        ("::ffff:100.64.0.1", .sharedAddressSpace),
        ("::ffff:0.0.0.0", .unspecified),
        ("::ffff:8.8.8.8", .global),
        ("::ffff:0:127.0.0.1", .loopback),
        ("::127.0.0.1", .loopback),
        ("::10.0.0.1", .private),
        ("64:ff9b::127.0.0.1", .loopback),
        ("64:ff9b::8.8.8.8", .global),
        ("64:ff9b:1::1", .private),
        ("2002:7f00:1::1", .loopback),
        ("2002:a9fe:a9fe::1", .linkLocal),
        ("2002:808:808::1", .global),
    ]

    @Test("each range has its kind", arguments: table)
    func kind(_ text: String, _ expected: AddressKind) throws {
        let address = try #require(IPAddress(text))
        #expect(address.kind == expected, "\(text)")
    }

    @Test("only loopback, private, link-local and shared space are private")
    func privateKinds() {
        let admitted = AddressKind.allCases.filter(\.isPrivate)
        #expect(Set(admitted) == [.loopback, .private, .linkLocal, .sharedAddressSpace])
    }

    @Test("text that inet_pton refuses is not an address", arguments: ["2130706433", "0x7f.1", "127.1", "localhost", "[::1]", "fe80::1%lo"])
    func notAnAddress(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("an address prints canonically")
    func description() throws {
        #expect(try #require(IPAddress("127.0.0.1")).description == "127.0.0.1")
        #expect(try #require(IPAddress("0:0:0:0:0:0:0:1")).description == "::1")
        #expect(IPAddress(v4: 10, 1, 2, 3).description == "10.1.2.3")
    }
}
