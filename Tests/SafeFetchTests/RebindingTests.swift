import Foundation
@testable import SafeFetch
import Testing

/// DNS rebinding: a name that answers one address when it is checked and another when it is
/// connected to. The fetcher resolves once per connection and connects to what it checked,
/// so the second answer never matters for that connection.
@Suite("Address pinning against DNS rebinding")
struct RebindingTests {
    /// `rebind.test` cannot resolve through the system (the name has no DNS), so a fetch that
    /// reaches the server proves the HTTP client connected to the address our resolver gave.
    func policy(_ port: Int, allowPrivate: Bool = true) -> FetchPolicy {
        FetchPolicy(
            allowedHosts: [AllowedHost(host: "data.rebind.test", port: port)],
            allowsHTTP: true,
            allowPrivateAddresses: allowPrivate,
            maxBytes: 1 << 20,
            timeout: .seconds(20)
        )
    }

    @Test("the connection goes to the checked address, and the Host header keeps the name")
    func connectsToCheckedAddress() async throws {
        let body = patternBytes(500)
        // The first answer is checked and used; a second resolution (if anything asked for one)
        // would get 127.0.0.2, where nothing listens.
        let resolver = ScriptedResolver(["data.rebind.test": [[.localhost], [IPAddress(v4: 127, 0, 0, 2)]]])
        let fetcher = SafeFetcher(resolver: resolver)
        try await TestHTTPServer.with(["/data": .bytes(body)]) { server in
            let (result, consumed) = await fetch("http://data.rebind.test:\(server.port)/data", policy(server.port), with: fetcher)
            #expect(result.success?.byteCount == 500, "\(result)")
            #expect(consumed == Data(body))
            #expect(resolver.resolved == ["data.rebind.test"])
            #expect(server.requests == [SeenRequest(path: "/data", host: "data.rebind.test:\(server.port)")])

            // The next connection resolves again, gets 127.0.0.2, and goes there, not to the
            // address of an earlier resolution: nothing listens, so it fails to connect.
            let second = await fetch("http://data.rebind.test:\(server.port)/data", policy(server.port), with: fetcher)
            guard case .fetchFailed(.connection) = second.result.failure else {
                Issue.record("expected a connection failure, got \(second.result)")
                return
            }
            #expect(resolver.resolved.count == 2)
            #expect(server.requests.count == 1)
        }
    }

    @Test("each redirect hop is resolved once and checked again")
    func everyHopChecked() async throws {
        let body = patternBytes(10)
        try await TestHTTPServer.with(["/a": .redirect("/b"), "/b": .redirect("/data"), "/data": .bytes(body)]) { server in
            let steady = ScriptedResolver(["data.rebind.test": [[.localhost]]])
            let result = await fetch("http://data.rebind.test:\(server.port)/a", policy(server.port), with: SafeFetcher(resolver: steady)).result
            #expect(result.success?.byteCount == 10, "\(result)")
            #expect(steady.resolved.count == 3)

            // After the first hop the name rebinds to an address no policy admits: the second
            // hop is refused before it connects.
            let rebinding = ScriptedResolver(["data.rebind.test": [[.localhost], [IPAddress(v4: 0, 0, 0, 0)]]])
            let before = server.requests.count
            let refused = await fetch("http://data.rebind.test:\(server.port)/a", policy(server.port), with: SafeFetcher(resolver: rebinding)).result
            #expect(refused.failure == .addressNotAllowed(host: "data.rebind.test", address: IPAddress(v4: 0, 0, 0, 0), kind: .unspecified))
            #expect(server.requests.count - before == 1)
        }
    }

    @Test("https through the pinned address does TLS: a plain-HTTP server fails the handshake")
    func httpsHandshakes() async throws {
        let resolver = ScriptedResolver(["data.rebind.test": [[.localhost]]])
        try await TestHTTPServer.with(["/data": .bytes([1, 2, 3])]) { server in
            var https = policy(server.port)
            https.allowsHTTP = false
            let (result, consumed) = await fetch("https://data.rebind.test:\(server.port)/data", https, with: SafeFetcher(resolver: resolver))
            guard case .fetchFailed(.tls) = result.failure else {
                Issue.record("expected a TLS failure, got \(result)")
                return
            }
            #expect(consumed.isEmpty)
            #expect(resolver.resolved == ["data.rebind.test"])
        }
    }

    @Test("a name resolving to loopback is refused without private addresses")
    func nameToLoopbackRefused() async throws {
        let resolver = ScriptedResolver(["data.rebind.test": [[IPAddress("::1")!]]])
        let result = await fetch("http://data.rebind.test:8080/data", policy(8080, allowPrivate: false), with: SafeFetcher(resolver: resolver)).result
        #expect(result.failure == .addressNotAllowed(host: "data.rebind.test", address: IPAddress("::1")!, kind: .loopback))
    }

    @Test("one forbidden answer among several refuses the name")
    func anyForbiddenAnswerRefuses() async throws {
        // Checked without connecting: the global address is never contacted.
        let resolver = ScriptedResolver(["data.rebind.test": [[IPAddress(v4: 8, 8, 8, 8), IPAddress(v4: 169, 254, 169, 254)]]])
        let fetcher = SafeFetcher(resolver: resolver)
        let refusing = policy(443, allowPrivate: false)
        let target = try HTTPTarget(URL(string: "https://data.rebind.test:443/x")!, policy: refusing)
        await #expect(throws: FetchError.addressNotAllowed(host: "data.rebind.test", address: IPAddress(v4: 169, 254, 169, 254), kind: .linkLocal)) {
            _ = try await fetcher.checkedAddresses(for: target, policy: refusing)
        }
        let pinned = try await SafeFetcher(resolver: ScriptedResolver(["data.rebind.test": [[IPAddress(v4: 8, 8, 8, 8), IPAddress(v4: 1, 1, 1, 1)]]]))
            .checkedAddresses(for: target, policy: refusing)
        #expect(pinned == [IPAddress(v4: 8, 8, 8, 8), IPAddress(v4: 1, 1, 1, 1)])
    }

    @Test("an address that does not connect gives way to the next checked one, without resolving again")
    func nextAddress() async throws {
        let resolver = ScriptedResolver(["data.rebind.test": [[IPAddress(v4: 127, 0, 0, 2), .localhost]]])
        try await TestHTTPServer.with(["/data": .bytes([1, 2, 3])]) { server in
            let (result, _) = await fetch("http://data.rebind.test:\(server.port)/data", policy(server.port), with: SafeFetcher(resolver: resolver))
            #expect(result.success?.byteCount == 3, "\(result)")
            #expect(resolver.resolved.count == 1)
        }
    }
}
