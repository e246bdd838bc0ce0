import Foundation
import SafeFetch
import Testing

@Suite("URLs refused before any connection")
struct FetchPolicyTests {
    let fetcher = SafeFetcher(resolver: ScriptedResolver([:]))

    func refusal(_ url: String, _ policy: FetchPolicy) async -> FetchError? {
        do {
            _ = try await fetcher.fetch(URL(string: url)!, policy: policy) { _ in }
            return nil
        } catch {
            return error
        }
    }

    @Test("the default policy refuses every URL")
    func defaultRefuses() async {
        let policy = FetchPolicy(maxBytes: 1024)
        #expect(await refusal("https://data.example.com/x", policy) == .urlNotAllowed(.hostNotAllowed("data.example.com")))
        #expect(await refusal("file:///etc/passwd", policy) == .urlNotAllowed(.schemeNotAllowed("file")))
    }

    @Test("a host must be on the list exactly, with its port")
    func hostNotAllowed() async {
        let policy = FetchPolicy(allowedHosts: ["data.example.com", "alt.example.com:8443"], maxBytes: 1024)
        #expect(await refusal("https://evil.example.com/x", policy) == .urlNotAllowed(.hostNotAllowed("evil.example.com")))
        #expect(await refusal("https://www.data.example.com/x", policy) == .urlNotAllowed(.hostNotAllowed("www.data.example.com")))
        #expect(await refusal("https://data.example.com./x", policy) == .urlNotAllowed(.hostNotAllowed("data.example.com.")))
        #expect(await refusal("https://data.example.com:8443/x", policy) == .urlNotAllowed(.hostNotAllowed("data.example.com:8443")))
        #expect(await refusal("https://alt.example.com/x", policy) == .urlNotAllowed(.hostNotAllowed("alt.example.com")))
        #expect(await refusal("https://user:pw@data.example.com/x", policy) == .urlNotAllowed(.credentialsInURL))
    }

    @Test("an allowed host that does not resolve is a fetch failure")
    func unresolvable() async {
        let policy = FetchPolicy(allowedHosts: ["DATA.example.com"], maxBytes: 1024)
        #expect(await refusal("https://Data.Example.COM/x", policy) == .fetchFailed(.resolution(host: "data.example.com")))
    }

    @Test("only https, http when allowed, and file with a root")
    func schemeNotAllowed() async {
        let policy = FetchPolicy(allowedHosts: ["data.example.com"], maxBytes: 1024)
        #expect(await refusal("http://data.example.com/x", policy) == .urlNotAllowed(.schemeNotAllowed("http")))
        #expect(await refusal("ftp://data.example.com/x", policy) == .urlNotAllowed(.schemeNotAllowed("ftp")))
        #expect(await refusal("gopher://data.example.com/x", policy) == .urlNotAllowed(.schemeNotAllowed("gopher")))
        #expect(await refusal("file:///etc/passwd", policy) == .urlNotAllowed(.schemeNotAllowed("file")))
    }

    @Test("allow-list entries parse host, port and IPv6 literals")
    func allowedHostParsing() {
        #expect(AllowedHost(parsing: "Data.Example.com") == AllowedHost(host: "data.example.com"))
        #expect(AllowedHost(parsing: "data.example.com:8443") == AllowedHost(host: "data.example.com", port: 8443))
        #expect(AllowedHost(parsing: "[::1]:8080") == AllowedHost(host: "::1", port: 8080))
        #expect(AllowedHost(parsing: "::FFFF:127.0.0.1") == AllowedHost(host: "::ffff:127.0.0.1"))
        #expect(AllowedHost(parsing: "a:b:c") == nil)
        #expect(AllowedHost(parsing: "data.example.com:0") == nil)
        #expect(AllowedHost(parsing: "data.example.com:http") == nil)
        #expect(AllowedHost(parsing: "user@data.example.com") == nil)
        #expect(AllowedHost(parsing: "") == nil)
    }

    @Test("each error has its stable code")
    func codes() {
        let cases: [(FetchError, String)] = [
            (.urlNotAllowed(.malformed), "URL_NOT_ALLOWED"),
            (.addressNotAllowed(host: "h", address: .localhost, kind: .loopback), "ADDRESS_NOT_ALLOWED"),
            (.fetchFailed(.status(500)), "FETCH_FAILED"),
            (.tooLarge(limit: 1), "FETCH_TOO_LARGE"),
            (.timedOut(after: .seconds(1)), "FETCH_TIMEOUT"),
            (.checksumMismatch(expected: "a", actual: "b"), "CHECKSUM_MISMATCH"),
            (.tooManyRedirects(limit: 3), "TOO_MANY_REDIRECTS"),
            (.redirectNotAllowed(.badLocation), "REDIRECT_NOT_ALLOWED"),
            (.consumerFailed("x"), "INTERNAL"),
        ]
        for (error, code) in cases {
            #expect(error.code == code)
            #expect(!error.message.isEmpty)
        }
        #expect(FetchError.addressNotAllowed(host: "h", address: .localhost, kind: .loopback).message.contains("loopback"))
        #expect(FetchError.fetchFailed(.status(503)).message.contains("503"))
    }
}
