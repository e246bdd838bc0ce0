import Crypto
import Foundation
import Jobs
import JWTKit

/// Where tokens are verified against: a JWKS file of public keys (RS256, ES256; each key must
/// name its `kid` and `alg`, which pins it), and in dev mode a symmetric HS256 key kept in the
/// data directory, with which `fhe-jobs token` mints short-lived tokens.
public struct AuthKeys: Sendable {
    public static let devKeyID = "dev"
    public static let devKeyFile = "dev-token.key"

    let collection: JWTKeyCollection
    let pinned: [String: TokenVerifier.Algorithm]

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        case invalidKey(String)
        case noKeys
        public var description: String {
            switch self {
            case .unreadable(let d): "cannot read the JWKS file: \(d)"
            case .invalidKey(let d): "invalid key in the JWKS file: \(d)"
            case .noKeys: "no verification keys: give a JWKS file, or run in dev mode"
            }
        }
    }

    /// - Parameters:
    ///   - jwksFile: a JSON Web Key Set (RFC 7517) of public keys.
    ///   - devSecret: the dev-mode HS256 key, or nil outside dev mode.
    public static func load(jwksFile: URL?, devSecret: SymmetricKey?) async throws -> AuthKeys {
        let collection = JWTKeyCollection()
        var pinned: [String: TokenVerifier.Algorithm] = [:]
        if let jwksFile {
            let data: Data
            do { data = try Data(contentsOf: jwksFile) } catch { throw LoadError.unreadable("\(jwksFile.path): \(error.localizedDescription)") }
            guard let set = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let keys = set["keys"] as? [[String: Any]] else {
                throw LoadError.invalidKey("the file is not a JWKS object with a \"keys\" array")
            }
            for key in keys {
                guard let kid = key["kid"] as? String, let alg = (key["alg"] as? String).flatMap(TokenVerifier.Algorithm.init(rawValue:)),
                      alg != .hs256 else {
                    throw LoadError.invalidKey("every key needs a kid and an alg of RS256 or ES256")
                }
                guard key["d"] == nil else { throw LoadError.invalidKey("key \(kid) holds a private part; give public keys only") }
                do {
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: key), as: UTF8.self)
                    let jwk = try JSONDecoder().decode(JWK.self, from: Data(json.utf8))
                    try await collection.add(jwk: jwk)
                } catch {
                    throw LoadError.invalidKey("key \(kid): \(error)")
                }
                pinned[kid] = alg
            }
        }
        if let devSecret {
            await collection.add(hmac: HMACKey(key: devSecret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: devKeyID))
            pinned[devKeyID] = .hs256
        }
        guard !pinned.isEmpty else { throw LoadError.noKeys }
        return AuthKeys(collection: collection, pinned: pinned)
    }

    /// Reads the dev key from the data directory, creating it (256 random bits, mode 0600) on
    /// first use.
    public static func devSecret(inDataDirectory directory: URL) throws -> SymmetricKey {
        let file = directory.appendingPathComponent(devKeyFile)
        do {
            if let data = try SecretFile.read(file.path) {
                guard data.count == 32 else { throw LoadError.unreadable("\(file.path) is not a 32-byte dev token key") }
                return SymmetricKey(data: data)
            }
            let key = SymmetricKey(size: .bits256)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try SecretFile.create(file.path, contents: key.withUnsafeBytes { Data($0) })
            return key
        } catch let error as SecretFileError {
            throw LoadError.unreadable("the dev token key: \(error)")
        }
    }

    /// Mints a dev-mode access token (15 minutes by default, the seed's token lifetime).
    public static func mintDevToken(secret: SymmetricKey, issuer: String, audience: String, subject: String, tenant: String,
                                    role: String, lifetime: TimeInterval = 15 * 60, now: Date = Date()) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: devKeyID))
        let claims = AccessTokenClaims(iss: .init(value: issuer), aud: .init(value: [audience]), sub: .init(value: subject),
                                       exp: .init(value: now.addingTimeInterval(lifetime)), nbf: .init(value: now.addingTimeInterval(-1)),
                                       iat: .init(value: now), tenant: tenant, role: role)
        return try await keys.sign(claims, kid: JWKIdentifier(string: devKeyID))
    }
}
