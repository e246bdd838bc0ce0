import Foundation
import HTTPTypes
import JWTKit
import Jobs
@testable import JobsServer
import Testing

/// An external issuer's keys by JWKS URL, served by a real loopback server that counts the
/// fetches: rotation, the bound on refetches for unknown kids, the cache lifetime, stale keys
/// while the issuer is down, and refused key sets.
@Suite("JWKS by URL") struct RemoteJWKSTests {
    let t0 = Date()

    func jwk(_ key: ES256PrivateKey, kid: String) throws -> [String: String] {
        let parameters = try #require(key.parameters)
        return ["kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig", "x": parameters.x, "y": parameters.y]
    }

    func keySet(_ keys: [[String: String]], cacheControl: String? = "max-age=300") throws -> ScriptedServer.Answer {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let cacheControl { headers[.cacheControl] = cacheControl }
        return ScriptedServer.Answer(status: .ok, headers: headers, body: try JSONSerialization.data(withJSONObject: ["keys": keys]))
    }

    /// A token valid for a month from t0, so the tests' simulated clock never expires it.
    func token(_ key: ES256PrivateKey, kid: String) async throws -> String {
        let issuer = JWTKeyCollection()
        await issuer.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        let claims = AccessTokenClaims(iss: .init(value: "https://issuer.example"), aud: .init(value: ["fhe-jobs-api"]),
                                       sub: .init(value: "alice"), exp: .init(value: t0.addingTimeInterval(30 * 86_400)), nbf: nil,
                                       iat: .init(value: t0), tenant: "acme", role: "developer")
        return try await issuer.sign(claims, kid: JWKIdentifier(string: kid))
    }

    func remote(port: Int, _ adjust: (inout RemoteJWKS.Configuration) -> Void = { _ in }) throws -> RemoteJWKS {
        var configuration = RemoteJWKS.Configuration(url: URL(string: "http://127.0.0.1:\(port)/.well-known/jwks.json")!)
        adjust(&configuration)
        return try RemoteJWKS(configuration: configuration)
    }

    func makeVerifier(_ remote: RemoteJWKS) async throws -> TokenVerifier {
        TokenVerifier(keys: try await AuthKeys.load(jwksFile: nil, jwksURL: remote, devSecret: nil),
                      configuration: .init(issuer: "https://issuer.example", audience: "fhe-jobs-api"))
    }

    /// Whether the token verifies at `now`; the problem's code when it does not.
    static func outcome(_ verifier: TokenVerifier, _ token: String, at now: Date) async -> String {
        do {
            _ = try await verifier.principal(fromAuthorization: "Bearer \(token)", now: now)
            return "ok"
        } catch {
            return error.code.rawValue
        }
    }

    @Test func rotationIsPickedUpAndUnknownKidRefetchesAreBounded() async throws {
        let (k1, k2) = (ES256PrivateKey(), ES256PrivateKey())
        let server = ScriptedServer([try keySet([try jwk(k1, kid: "k1")])])
        try await server.run { port in
            let keys = try remote(port: port)
            try await keys.load(now: t0)
            let verifier = try await makeVerifier(keys)
            #expect(server.requests.count == 1 && server.requests[0].path == "/.well-known/jwks.json")
            #expect(await Self.outcome(verifier, try await token(k1, kid: "k1"), at: t0.addingTimeInterval(1)) == "ok")
            #expect(server.requests.count == 1)

            // The issuer rotates: k2 appears. A token naming it makes the service refetch, once
            // the bound since the last fetch (30 s) has passed.
            server.script([try keySet([try jwk(k1, kid: "k1"), try jwk(k2, kid: "k2")])])
            let rotated = try await token(k2, kid: "k2")
            #expect(await Self.outcome(verifier, rotated, at: t0.addingTimeInterval(5)) == "UNAUTHENTICATED")
            #expect(server.requests.count == 1)
            #expect(await Self.outcome(verifier, rotated, at: t0.addingTimeInterval(31)) == "ok")
            #expect(server.requests.count == 2)

            // Made-up kids, many and at once: refused, and at most one fetch per 30 s for all.
            let stranger = ES256PrivateKey()
            await withTaskGroup(of: String.self) { group in
                for index in 0..<40 {
                    let forged = try! await token(stranger, kid: "made-up-\(index)")
                    let at = t0.addingTimeInterval(32 + Double(index) / 10)
                    group.addTask { await Self.outcome(verifier, forged, at: at) }
                }
                for await result in group { #expect(result == "UNAUTHENTICATED") }
            }
            #expect(server.requests.count == 2)
            #expect(await Self.outcome(verifier, try await token(stranger, kid: "again"), at: t0.addingTimeInterval(62)) == "UNAUTHENTICATED")
            #expect(server.requests.count == 3)
            #expect(await Self.outcome(verifier, try await token(stranger, kid: "more"), at: t0.addingTimeInterval(70)) == "UNAUTHENTICATED")
            #expect(server.requests.count == 3)
            // Known keys go on verifying without a fetch.
            #expect(await Self.outcome(verifier, rotated, at: t0.addingTimeInterval(80)) == "ok")
            #expect(server.requests.count == 3)
        }
    }

    @Test func cacheLifetimeFollowsCacheControlWithinBounds() async throws {
        let k1 = ES256PrivateKey()
        // max-age=1 is raised to the one-minute floor.
        let server = ScriptedServer([try keySet([try jwk(k1, kid: "k1")], cacheControl: "public, max-age=1")])
        try await server.run { port in
            let keys = try remote(port: port)
            try await keys.load(now: t0)
            let verifier = try await makeVerifier(keys)
            let good = try await token(k1, kid: "k1")
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(59)) == "ok")
            #expect(server.requests.count == 1)
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(61)) == "ok")
            #expect(server.requests.count == 2)
        }
        let configuration = RemoteJWKS.Configuration(url: URL(string: "https://issuer.example/jwks")!)
        #expect(RemoteJWKS.cacheAge("max-age=120", configuration: configuration) == 120)
        #expect(RemoteJWKS.cacheAge("public, max-age=\"600\"", configuration: configuration) == 600)
        #expect(RemoteJWKS.cacheAge("max-age=99999999999", configuration: configuration) == 86_400)
        #expect(RemoteJWKS.cacheAge("no-store", configuration: configuration) == 60)
        #expect(RemoteJWKS.cacheAge(nil, configuration: configuration) == 300)
        #expect(RemoteJWKS.cacheAge("max-age=-5", configuration: configuration) == 300)
    }

    @Test func anUnreachableIssuerLeavesTheCachedKeysInUseForABoundedTime() async throws {
        let k1 = ES256PrivateKey()
        let server = ScriptedServer([try keySet([try jwk(k1, kid: "k1")], cacheControl: "max-age=60")])
        try await server.run { port in
            let keys = try remote(port: port) { $0.maxStaleness = 600 }
            try await keys.load(now: t0)
            let verifier = try await makeVerifier(keys)
            let good = try await token(k1, kid: "k1")
            server.script([ScriptedServer.Answer(status: .serviceUnavailable)])
            // Past the lifetime: a refetch fails, the keys fetched before still verify.
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(100)) == "ok")
            #expect(server.requests.count == 2)
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(110)) == "ok")
            #expect(server.requests.count == 2)
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(140)) == "ok")
            #expect(server.requests.count == 3)
            // Past the staleness bound (60 s + 600 s): the service says so, 503, not "bad token".
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(700)) == "SERVICE_UNAVAILABLE")
            // Back up: the next allowed fetch restores it.
            server.script([try keySet([try jwk(k1, kid: "k1")])])
            #expect(await Self.outcome(verifier, good, at: t0.addingTimeInterval(740)) == "ok")
        }
    }

    @Test func oversizedMalformedAndRefusedSetsFailWithAClearError() async throws {
        let key = try jwk(ES256PrivateKey(), kid: "k1")
        var unpinned = key
        unpinned["alg"] = nil
        let huge = Data(#"{"keys":[],"padding":""#.utf8) + Data(repeating: 0x61, count: 70_000) + Data(#""}"#.utf8)
        let cases: [(ScriptedServer.Answer, String)] = [
            (ScriptedServer.Answer(status: .ok, headers: [.contentType: "application/json"], body: huge), "FETCH_TOO_LARGE"),
            (ScriptedServer.Answer(status: .ok, body: Data("<html>not json</html>".utf8)), "not a JWKS object"),
            (try keySet([unpinned]), "alg of RS256 or ES256"),
            (try keySet([key, key]), "two keys have the kid k1"),
            (try keySet([]), "holds no key"),
            (ScriptedServer.Answer(status: .notFound), "HTTP 404"),
            (ScriptedServer.Answer(status: .found, headers: [.location: "https://elsewhere.example/jwks"]), "HTTP 302"),
        ]
        for (answer, expected) in cases {
            let server = ScriptedServer([answer])
            try await server.run { port in
                let keys = try remote(port: port)
                do {
                    try await keys.load(now: t0)
                    Issue.record("a refused set loaded: \(expected)")
                } catch {
                    #expect("\(error)".contains(expected), "\(error)")
                }
            }
        }
        // Plain http only to a loopback host; no credentials in the URL.
        for text in ["http://issuer.example/jwks", "https://user:pw@issuer.example/jwks", "ftp://issuer.example/jwks"] {
            #expect(throws: RemoteJWKS.LoadError.self) {
                _ = try RemoteJWKS(configuration: .init(url: URL(string: text)!))
            }
        }
    }
}
