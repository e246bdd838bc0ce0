import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import JobsServer
import Testing

/// `POST /v1/auth/token`: the refresh-token grant of the dev issuer over HTTP (RFC 6749
/// sections 5.1, 5.2 and 6), on both stores where the store matters.
@Suite("Token endpoint") struct TokenEndpointTests {
    static func issuer(_ store: any JobStore, _ service: JobService, _ secret: SymmetricKey) -> DevTokenIssuer {
        DevTokenIssuer(secret: secret, store: store, configuration: .init(), audit: { await service.record($0) })
    }

    /// A harness whose server runs the dev issuer with the harness's key.
    static func harness(_ store: any JobStore, _ context: StoreContext, rateLimit: RateLimitPolicy? = nil,
                        devMode: Bool = true) async throws -> ServiceHarness {
        try await ServiceHarness(store: store, context: context) { http, service, secret in
            http.tokenEndpoint = TokenEndpoint(issuer: devMode ? issuer(store, service, secret) : nil)
            if let rateLimit { http.tokenEndpoint.rateLimit = rateLimit }
        }
    }

    static func form(_ body: String) -> (HTTPFields, ByteBuffer) {
        ([.contentType: "application/x-www-form-urlencoded"], ByteBuffer(string: body))
    }

    static func exchange(_ client: any TestClientProtocol, _ body: String) async throws -> TestResponse {
        let (headers, buffer) = form(body)
        return try await client.execute(uri: "/v1/auth/token", method: .post, headers: headers, body: buffer)
    }

    static func expectGrantError(_ response: TestResponse, _ error: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .badRequest, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
        #expect(response.json["error"] as? String == error, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        #expect((response.json["error_description"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    }

    @Test(arguments: StoreKind.available)
    func rotatesAndReuseRevokesTheSession(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let h = try await Self.harness(store, context)
            let first = try await Self.issuer(store, h.service, h.secret).signIn(tenant: "acme", subject: "alice", role: .developer)
            try await h.test { client in
                let renewed = try await Self.exchange(client, "grant_type=refresh_token&refresh_token=\(first.refreshToken.text)")
                #expect(renewed.status == .ok)
                #expect(renewed.headers[.cacheControl] == "no-store" && renewed.headers[HTTPField.Name("Pragma")!] == "no-cache")
                #expect(renewed.json["token_type"] as? String == "Bearer" && renewed.json["expires_in"] as? Int == 900)
                let access = try #require(renewed.json["access_token"] as? String)
                let second = try #require(renewed.json["refresh_token"] as? String)
                #expect(second.hasPrefix("fjr_") && second != first.refreshToken.text)
                // The new access token is the session's: alice of acme, a developer.
                let jobs = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(access))
                #expect(jobs.status == .ok)
                let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(access), body: jsonBuffer(sha256Submission))
                #expect(submitted.json["owner"] as? String == "alice" && submitted.json["tenant"] as? String == "acme")

                // The first refresh token again: reuse, so the session ends, the current token too.
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=\(first.refreshToken.text)"), "invalid_grant")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=\(second)"), "invalid_grant")
            }
            let actions = try await store.listAudit(tenant: "acme", before: nil, limit: 50).map(\.action).filter { $0.hasPrefix("auth.") }
            #expect(actions == ["auth.token.refresh_revoked", "auth.token.reuse_detected", "auth.token.refresh", "auth.session.start"])
            let family = try #require(try await store.refreshTokenFamily(id: first.familyID))
            #expect(family.family.revocationReason == "reuse" && family.tokens.count == 2)
            // Only hashes are stored.
            #expect(!family.tokens.contains { $0.tokenHash == first.refreshToken.text } && family.tokens[0].tokenHash == first.refreshToken.hash)
        }
    }

    @Test(arguments: StoreKind.available)
    func twoExchangesOfOneTokenHaveOneWinner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, context in
            let h = try await Self.harness(store, context)
            let issuer = Self.issuer(store, h.service, h.secret)
            try await h.test { client in
                for _ in 0..<3 {
                    let session = try await issuer.signIn(tenant: "acme", subject: "alice", role: .developer)
                    let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for _ in 0..<2 {
                            group.addTask {
                                try await Self.exchange(client, "grant_type=refresh_token&refresh_token=\(session.refreshToken.text)").status
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(statuses.filter { $0 == .ok }.count == 1 && statuses.filter { $0 == .badRequest }.count == 1, "\(statuses)")
                }
            }
        }
    }

    @Test func grantErrorsAreRFC6749() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context)
            let issuer = Self.issuer(store, h.service, h.secret)
            let session = try await issuer.signIn(tenant: "acme", subject: "alice", role: .developer)
            let stale = try await issuer.signIn(tenant: "acme", subject: "bob", role: .admin, now: Date().addingTimeInterval(-25 * 3600))
            try await h.test { client in
                Self.expectGrantError(try await Self.exchange(client, "grant_type=password&username=alice&password=x"), "unsupported_grant_type")
                Self.expectGrantError(try await Self.exchange(client, "refresh_token=\(session.refreshToken.text)"), "invalid_request")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token="), "invalid_request")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token"), "invalid_request")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=\(session.refreshToken.text)&scope=admin"),
                                      "invalid_scope")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=not-a-token"), "invalid_grant")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=fjr_\(String(repeating: "A", count: 43))"),
                                      "invalid_grant")
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=\(stale.refreshToken.text)"), "invalid_grant")
                // Unknown parameters are ignored (section 3.2): the session's token still works.
                let ok = try await Self.exchange(client, "grant_type=refresh_token&client_id=cli&refresh_token=\(session.refreshToken.text)")
                #expect(ok.status == .ok, "\(String(buffer: ok.body))")

                // Not a form: the media type is refused before the grant, as problem+json.
                let json = try await client.execute(uri: "/v1/auth/token", method: .post, headers: [.contentType: "application/json"],
                                                    body: jsonBuffer(["grant_type": "refresh_token"]))
                #expect(json.status == .unsupportedMediaType && json.headers[.contentType] == "application/problem+json")
                // A body that is not form encoding at all: refused, never a 5xx, in one of the documented shapes.
                for garbage in ["%", "grant_type=%zz&refresh_token=%", "\u{1}\u{2}&&&==", String(repeating: "a=b&", count: 10_000)] {
                    let r = try await Self.exchange(client, garbage)
                    #expect(r.status == .badRequest, "\(garbage.prefix(20)): \(r.status)")
                    #expect(r.json["error"] != nil || r.problemCode == "INVALID_REQUEST", "\(String(buffer: r.body))")
                }
            }
            let audit = try await store.listAudit(tenant: "acme", before: nil, limit: 50).map(\.action)
            #expect(audit.contains("auth.token.refresh_expired"))
        }
    }

    @Test func rateLimitedAsProblem() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context, rateLimit: RateLimitPolicy(name: "token-endpoint", ratePerSecond: 0.01, burst: 2))
            try await h.test { client in
                for _ in 0..<2 {
                    Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=x"), "invalid_grant")
                }
                let limited = try await Self.exchange(client, "grant_type=refresh_token&refresh_token=x")
                #expect(limited.status == .tooManyRequests && limited.problemCode == "RATE_LIMITED")
                #expect((limited.json["detail"] as? String)?.contains("takes 0.01 requests a second") == true, "\(limited.json)")
                #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            }
        }
    }

    @Test func outsideDevModeNoTokensAreIssued() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context, devMode: false)
            try await h.test { client in
                Self.expectGrantError(try await Self.exchange(client, "grant_type=refresh_token&refresh_token=x"), "unsupported_grant_type")
            }
        }
    }

    @Test func refreshTokensAreOpaqueAndCheckedForShape() {
        let a = RefreshToken.generate(), b = RefreshToken.generate()
        #expect(a != b && a.text.count == 47 && a.text.hasPrefix("fjr_"))
        #expect(RefreshToken(presented: a.text) == a)
        #expect(a.hash.count == 64 && a.hash != b.hash)
        #expect(!"\(a)".contains(a.text))
        for bad in ["", "fjr_", "fjr_" + String(repeating: "A", count: 42), "fjx_" + String(repeating: "A", count: 43),
                    "fjr_" + String(repeating: "A", count: 42) + "=", "fjr_" + String(repeating: "é", count: 43)] {
            #expect(RefreshToken(presented: bad) == nil, "\(bad)")
        }
    }
}
