import ComputeJobs
import Crypto
import _CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Jobs
@testable import JobsServer
import Prometheus
import Testing

/// Production authentication: public keys from a JWKS file, the algorithm pinned per key.
@Suite("JWKS authentication") struct JWKSAuthTests {
    func jwksFile(_ keys: [[String: String]]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: ["keys": keys]).write(to: url)
        return url
    }

    func claims(now: Date = Date()) -> AccessTokenClaims {
        AccessTokenClaims(iss: .init(value: "fhe-jobs"), aud: .init(value: ["fhe-jobs-api"]), sub: .init(value: "alice"),
                          exp: .init(value: now.addingTimeInterval(600)), nbf: nil, iat: .init(value: now), tenant: "acme", role: "developer")
    }

    @Test func es256TokensVerifyAndNothingElseDoes() async throws {
        let signing = ES256PrivateKey()
        let parameters = try #require(signing.parameters)
        let file = try jwksFile([["kty": "EC", "crv": "P-256", "kid": "prod-1", "alg": "ES256", "use": "sig",
                                  "x": parameters.x, "y": parameters.y]])
        defer { try? FileManager.default.removeItem(at: file) }
        let authKeys = try await AuthKeys.load(jwksFile: file, devSecret: nil)

        let issuer = JWTKeyCollection()
        await issuer.add(ecdsa: signing, kid: "prod-1")
        let good = try await issuer.sign(claims(), kid: "prod-1")
        let stranger = JWTKeyCollection()
        await stranger.add(ecdsa: ES256PrivateKey(), kid: "prod-1")
        let forged = try await stranger.sign(claims(), kid: "prod-1")
        // Algorithm confusion: HS256 keyed with the public key's bytes, naming the ES256 key.
        let confused = JWTKeyCollection()
        await confused.add(hmac: HMACKey(from: Data((parameters.x + parameters.y).utf8)), digestAlgorithm: .sha256, kid: "prod-1")
        let confusion = try await confused.sign(claims(), kid: "prod-1")
        let dev = try await AuthKeys.mintDevToken(secret: SymmetricKey(size: .bits256), issuer: "fhe-jobs", audience: "fhe-jobs-api",
                                                  subject: "alice", tenant: "acme", role: "developer")

        try await withStore(.sqlite) { store, context in
            let service = JobService(store: store, executors: ExecutorRegistry(ComputeAlgorithms.all()))
            let server = JobsHTTPServer(configuration: .init(), service: service, authKeys: authKeys, rateLimiter: context.rateLimiter,
                                        registry: PrometheusCollectorRegistry(), health: HealthChecks([]))
            let app = Application(router: try server.router())
            try await app.test(.router) { client in
                #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(good)).status == .ok)
                for token in [forged, confusion, dev] {
                    let r = try await client.execute(uri: "/v1/jobs", method: .get, headers: .bearer(token))
                    #expect(r.status == .unauthorized && r.problemCode == "UNAUTHENTICATED")
                }
            }
        }
    }

    @Test func malformedKeySetsAreRefusedAtStart() async throws {
        let parameters = try #require(ES256PrivateKey().parameters)
        for keys in [
            [["kty": "EC", "crv": "P-256", "kid": "k", "x": parameters.x, "y": parameters.y]],             // no alg: not pinned
            [["kty": "oct", "kid": "k", "alg": "HS256", "k": "c2VjcmV0"]],                                  // symmetric
            [["kty": "EC", "crv": "P-256", "kid": "k", "alg": "ES256", "x": parameters.x, "y": parameters.y, "d": "AAAA"]], // private
        ] {
            let file = try jwksFile(keys)
            defer { try? FileManager.default.removeItem(at: file) }
            await #expect(throws: AuthKeys.LoadError.self) { _ = try await AuthKeys.load(jwksFile: file, devSecret: nil) }
        }
        await #expect(throws: AuthKeys.LoadError.self) { _ = try await AuthKeys.load(jwksFile: nil, devSecret: nil) }
    }
}

extension JWKSAuthTests {
    @Test func rs256TokensVerify() async throws {
        let signing = try Insecure.RSA.PrivateKey(pem: try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
        let components = try #require(try? signing.publicKey.getKeyPrimitives())
        let file = try jwksFile([["kty": "RSA", "kid": "rsa-1", "alg": "RS256", "n": components.modulus.base64URLEncodedString, "e": components.publicExponent.base64URLEncodedString]])
        defer { try? FileManager.default.removeItem(at: file) }
        let authKeys = try await AuthKeys.load(jwksFile: file, devSecret: nil)
        let issuer = JWTKeyCollection()
        await issuer.add(rsa: signing, digestAlgorithm: .sha256, kid: "rsa-1")
        let token = try await issuer.sign(claims(), kid: "rsa-1")
        let verifier = TokenVerifier(keys: authKeys,
                                     configuration: .init(issuer: "fhe-jobs", audience: "fhe-jobs-api"))
        let principal = try await verifier.principal(fromAuthorization: "Bearer \(token)")
        #expect(principal == Principal(subject: "alice", tenant: "acme", role: .developer))
    }
}
