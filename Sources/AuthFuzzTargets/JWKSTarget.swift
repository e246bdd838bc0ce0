import _CryptoExtras
import Foundation
import FuzzTargets
import Jobs
import JWTKit
import JobsServer

extension FuzzTarget {
    /// A JSON Web Key Set, as the service reads its JWKS file and, repeatedly, an external
    /// issuer's JWKS URL (`RemoteJWKS`): the keys, their pinned algorithms, jwt-kit's reading
    /// of each public key. Refusals are `AuthKeys.LoadError`s by the reader's typed throws.
    static let jwks = FuzzTarget(name: "jwks", maximumInputLength: 8192, run: { data in
        _ = try? blockingCall { try await AuthKeys.addKeys(fromJWKS: data, to: JWTKeyCollection()) }
    }, seeds: {
        let ec = ES256PrivateKey().parameters!
        let rsa = try Insecure.RSA.PrivateKey(pem: try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation).publicKey.getKeyPrimitives()
        let sets: [[[String: String]]] = [
            [["kty": "EC", "crv": "P-256", "kid": "prod-1", "alg": "ES256", "use": "sig", "x": ec.x, "y": ec.y]],
            [["kty": "RSA", "kid": "rsa-1", "alg": "RS256", "n": rsa.modulus.base64URLEncodedString,
              "e": rsa.publicExponent.base64URLEncodedString],
             ["kty": "EC", "crv": "P-256", "kid": "prod-2", "alg": "ES256", "x": ec.x, "y": ec.y]],
            [["kty": "oct", "kid": "k", "alg": "HS256", "k": "c2VjcmV0"]],
        ]
        return try sets.map { try JSONSerialization.data(withJSONObject: ["keys": $0], options: [.sortedKeys]) }
    })
}
