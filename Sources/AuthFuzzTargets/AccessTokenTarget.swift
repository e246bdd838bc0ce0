import Crypto
import Foundation
import FuzzTargets
import JWTKit
import Jobs
import JobsServer

extension FuzzTarget {
    /// The `Authorization` header of every API request, as the HTTP server's middleware checks
    /// it: the bearer scheme, the JOSE header read to pick the pinned key, then jwt-kit's
    /// verification and this service's claim checks. The verifier holds the dev HS256 key
    /// (fixed here, so that the committed tokens stay valid) and an ES256 key from a JWKS, and
    /// runs at a fixed time, so that a replayed corpus takes the paths it took when fuzzed.
    /// Refusals are `APIProblem`s by the verifier's typed throws; a crash or hang is the bug.
    static let accessToken = FuzzTarget(name: "access-token", maximumInputLength: 4096, run: { data in
        let header = String(decoding: data, as: UTF8.self)
        let verifier = AccessTokenFixture.verifier
        _ = try? blockingCall { try await verifier.principal(fromAuthorization: header, now: AccessTokenFixture.now) }
    }, seeds: {
        let f = AccessTokenFixture.self
        func dev(tenant: String = "acme", role: String = "developer", audience: String = f.audience, lifetime: TimeInterval = 900) throws -> String {
            try blockingCall {
                try await AuthKeys.mintDevToken(secret: f.devSecret, issuer: f.issuer, audience: audience, subject: "alice",
                                                tenant: tenant, role: role, lifetime: lifetime, now: f.now)
            }
        }
        let stranger = try blockingCall {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: ES256PrivateKey(), kid: "prod-1")
            return try await keys.sign(TokenFixtureClaims(iss: .init(value: f.issuer), aud: .init(value: [f.audience]),
                                                          sub: .init(value: "bob"), exp: .init(value: f.now.addingTimeInterval(600)),
                                                          tenant: "acme", role: "admin"), kid: "prod-1")
        }
        let unsigned = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLEncodedString + "."
            + Data(#"{"iss":"fhe-jobs","aud":["fhe-jobs-api"],"sub":"x","exp":1900000000,"tenant":"acme","role":"admin"}"#.utf8)
                .base64URLEncodedString + "."
        return try [
            dev(), dev(role: "operator"), dev(role: "team_lead", audience: "elsewhere"), dev(tenant: "bad tenant!"),
            dev(lifetime: -3600), stranger, unsigned,
        ].map { Data("Bearer \($0)".utf8) }
    })
}

/// The verifier's keys and settings.
enum AccessTokenFixture {
    static let issuer = "fhe-jobs"
    static let audience = "fhe-jobs-api"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let devSecret = SymmetricKey(data: Data((0..<32).map { UInt8($0) }))

    static let verifier: TokenVerifier = FuzzFixtures.fixture("the token verifier") {
        let jwks = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-jwks-\(UUID().uuidString).json")
        let signing = ES256PrivateKey()
        guard let parameters = signing.parameters else { throw InvariantViolation("an ES256 key without parameters") }
        try JSONSerialization.data(withJSONObject: ["keys": [["kty": "EC", "crv": "P-256", "kid": "prod-1", "alg": "ES256",
                                                                "x": parameters.x, "y": parameters.y]]]).write(to: jwks)
        defer { try? FileManager.default.removeItem(at: jwks) }
        let keys = try blockingCall { try await AuthKeys.load(jwksFile: jwks, devSecret: devSecret) }
        return TokenVerifier(keys: keys, configuration: .init(issuer: issuer, audience: audience, operatorIssuers: ["ops"]))
    }
}

/// The claims an access token carries, for signing seeds with a key the verifier does not hold.
struct TokenFixtureClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var tenant: String
    var role: String

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
