import Foundation
import SafeFetch
import Testing

/// Fetches `url` and returns what was consumed with the result, or the error.
func fetch(
    _ url: String,
    _ policy: FetchPolicy,
    sha256 expected: String? = nil,
    with fetcher: SafeFetcher = SafeFetcher()
) async -> (result: Result<FetchResult, FetchError>, consumed: Data) {
    let sink = ByteSink()
    do {
        let result = try await fetcher.fetch(URL(string: url)!, policy: policy, sha256: expected) { sink.append($0) }
        return (.success(result), sink.data)
    } catch {
        return (.failure(error), sink.data)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }

    var success: Success? {
        if case .success(let value) = self { value } else { nil }
    }
}

/// Plain HTTP to 127.0.0.1 on the server's port, private addresses allowed.
func localPolicy(_ port: Int, maxBytes: Int = 1 << 20, timeout: Duration = .seconds(20), maxRedirects: Int = 3) -> FetchPolicy {
    FetchPolicy(
        allowedHosts: [AllowedHost(host: "127.0.0.1", port: port)],
        allowsHTTP: true,
        allowPrivateAddresses: true,
        maxBytes: maxBytes,
        timeout: timeout,
        maxRedirects: maxRedirects
    )
}

@Suite("HTTP fetches from a server on 127.0.0.1")
struct HTTPFetchTests {
    @Test("streams the body in order and reports its size and SHA-256")
    func fetchesBytes() async throws {
        let body = patternBytes(10_000)
        try await TestHTTPServer.with(["/data": .bytes(body, chunkSize: 1000, declaresLength: false)]) { server in
            let (result, consumed) = await fetch("http://127.0.0.1:\(server.port)/data", localPolicy(server.port))
            let delivered = try result.get()
            #expect(delivered.byteCount == body.count)
            #expect(consumed == Data(body))
            #expect(server.requests == [SeenRequest(path: "/data", host: "127.0.0.1:\(server.port)")])
        }
    }

    @Test("the SHA-256 is the FIPS 180-2 value, and a matching expected digest passes")
    func digest() async throws {
        let routes: [String: Reply] = [
            "/abc": .bytes(SHA256Vector.abc.bytes),
            "/million": .bytes(SHA256Vector.millionA.bytes, chunkSize: 16 * 1024, declaresLength: false),
        ]
        try await TestHTTPServer.with(routes) { server in
            let policy = localPolicy(server.port)
            let abc = try await fetch("http://127.0.0.1:\(server.port)/abc", policy, sha256: SHA256Vector.abc.hex.uppercased()).result.get()
            #expect(abc == FetchResult(byteCount: 3, sha256: SHA256Vector.abc.hex))
            let million = try await fetch("http://127.0.0.1:\(server.port)/million", policy, sha256: SHA256Vector.millionA.hex).result.get()
            #expect(million == FetchResult(byteCount: 1_000_000, sha256: SHA256Vector.millionA.hex))
        }
    }

    @Test("127.0.0.1 is refused as loopback unless private addresses are allowed")
    func loopbackRefused() async throws {
        try await TestHTTPServer.with(["/data": .bytes([1, 2, 3])]) { server in
            var policy = localPolicy(server.port)
            policy.allowPrivateAddresses = false
            let (result, _) = await fetch("http://127.0.0.1:\(server.port)/data", policy)
            #expect(result.failure == .addressNotAllowed(host: "127.0.0.1", address: .localhost, kind: .loopback))
            #expect(result.failure?.code == "ADDRESS_NOT_ALLOWED")
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a mapped IPv6 form of loopback is refused as loopback")
    func mappedLoopbackRefused() async {
        let policy = FetchPolicy(allowedHosts: ["::ffff:127.0.0.1"], allowsHTTP: true, maxBytes: 10)
        let (result, _) = await fetch("http://[::ffff:127.0.0.1]/data", policy)
        #expect(result.failure == .addressNotAllowed(host: "::ffff:127.0.0.1", address: IPAddress("::ffff:127.0.0.1")!, kind: .loopback))
    }

    @Test("a body past the limit stops the fetch and the consumer never sees past the limit")
    func sizeLimit() async throws {
        let body = patternBytes(10_000)
        let routes: [String: Reply] = [
            "/chunked": .bytes(body, chunkSize: 1000, declaresLength: false),
            "/declared": .bytes(body, chunkSize: 1000),
            "/exact": .bytes(Array(body.prefix(2500)), chunkSize: 1000, declaresLength: false),
        ]
        try await TestHTTPServer.with(routes) { server in
            let policy = localPolicy(server.port, maxBytes: 2500)
            let chunked = await fetch("http://127.0.0.1:\(server.port)/chunked", policy)
            #expect(chunked.result.failure == .tooLarge(limit: 2500))
            #expect(chunked.consumed.count <= 2500)
            let declared = await fetch("http://127.0.0.1:\(server.port)/declared", policy)
            #expect(declared.result.failure == .tooLarge(limit: 2500))
            #expect(declared.consumed.isEmpty)
            let exact = await fetch("http://127.0.0.1:\(server.port)/exact", policy)
            #expect(exact.result.success?.byteCount == 2500, "\(exact.result)")
        }
    }

    @Test("a body whose SHA-256 is not the expected one is a checksum mismatch")
    func checksumMismatch() async throws {
        try await TestHTTPServer.with(["/data": .bytes(Array("abd".utf8))]) { server in
            let (result, _) = await fetch("http://127.0.0.1:\(server.port)/data", localPolicy(server.port), sha256: SHA256Vector.abc.hex)
            guard case .checksumMismatch(let expected, let actual) = result.failure else {
                Issue.record("expected a checksum mismatch, got \(result)")
                return
            }
            #expect(expected == SHA256Vector.abc.hex)
            #expect(actual != SHA256Vector.abc.hex && actual.count == 64)
        }
    }

    @Test("a status other than 2xx is a fetch failure with the status")
    func status() async throws {
        try await TestHTTPServer.with(["/gone": Reply(status: .gone)]) { server in
            let policy = localPolicy(server.port)
            #expect(await fetch("http://127.0.0.1:\(server.port)/missing", policy).result.failure == .fetchFailed(.status(404)))
            #expect(await fetch("http://127.0.0.1:\(server.port)/gone", policy).result.failure == .fetchFailed(.status(410)))
        }
    }

    @Test("a redirect to another host, port or scheme is refused")
    func redirectElsewhere() async throws {
        try await TestHTTPServer.with { server in
            let port = server.port
            server.route("/to-name", .redirect("http://localhost:\(port)/data"))
            server.route("/to-port", .redirect("http://127.0.0.1:\(port + 1)/data"))
            server.route("/to-https", .redirect("https://127.0.0.1:\(port)/data"))
            server.route("/no-location", Reply(status: .movedPermanently))
            var policy = localPolicy(port)
            // Even a host on the allow-list is another host.
            policy.allowedHosts.insert(AllowedHost(host: "localhost", port: port))
            let base = "http://127.0.0.1:\(port)"
            #expect(await fetch("\(base)/to-name", policy).result.failure == .redirectNotAllowed(.otherHost("localhost:\(port)")))
            #expect(await fetch("\(base)/to-port", policy).result.failure == .redirectNotAllowed(.otherHost("127.0.0.1:\(port + 1)")))
            #expect(await fetch("\(base)/to-https", policy).result.failure == .redirectNotAllowed(.otherScheme("https")))
            #expect(await fetch("\(base)/no-location", policy).result.failure == .redirectNotAllowed(.badLocation))
            #expect(server.requests.map(\.path) == ["/to-name", "/to-port", "/to-https", "/no-location"])
        }
    }

    @Test("redirects on the same host are followed, up to the limit")
    func redirectChain() async throws {
        let body = patternBytes(100)
        try await TestHTTPServer.with { server in
            let base = "http://127.0.0.1:\(server.port)"
            server.route("/a", .redirect("/b", status: .movedPermanently))
            server.route("/b", .redirect("\(base)/c", status: .seeOther))
            server.route("/c", .redirect("data", status: .temporaryRedirect))
            server.route("/data", .bytes(body))
            server.route("/loop", .redirect("/loop", status: .permanentRedirect))

            let (result, consumed) = await fetch("\(base)/a", localPolicy(server.port))
            #expect(result.success?.byteCount == 100, "\(result)")
            #expect(consumed == Data(body))
            #expect(server.requests.map(\.path) == ["/a", "/b", "/c", "/data"])

            let short = await fetch("\(base)/a", localPolicy(server.port, maxRedirects: 2))
            #expect(short.result.failure == .tooManyRedirects(limit: 2))

            let before = server.requests.count
            let loop = await fetch("\(base)/loop", localPolicy(server.port))
            #expect(loop.result.failure == .tooManyRedirects(limit: 3))
            #expect(server.requests.count - before == 4)
        }
    }

    @Test("a server slower than the timeout is a timeout")
    func slowServer() async throws {
        try await TestHTTPServer.with(["/slow": Reply(chunks: [[1]], delay: .seconds(30))]) { server in
            let started = ContinuousClock.now
            let (result, _) = await fetch("http://127.0.0.1:\(server.port)/slow", localPolicy(server.port, timeout: .milliseconds(300)))
            #expect(result.failure == .timedOut(after: .milliseconds(300)))
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test("an error of the consumer ends the fetch as INTERNAL")
    func consumerFails() async throws {
        struct StoreDown: Error {}
        try await TestHTTPServer.with(["/data": .bytes(patternBytes(10))]) { server in
            do {
                _ = try await SafeFetcher().fetch(URL(string: "http://127.0.0.1:\(server.port)/data")!, policy: localPolicy(server.port)) { _ in
                    throw StoreDown()
                }
                Issue.record("the fetch succeeded")
            } catch {
                #expect((error as? FetchError)?.code == "INTERNAL", "\(error)")
            }
        }
    }
}
