import Crypto
import Foundation
import Jobs
import JWTKit

/// Where tokens are verified against: a JWKS file of public keys, or an external issuer's JWKS
/// URL (`RemoteJWKS`, refetched as its keys rotate), with RS256 and ES256 keys that must each
/// name their `kid` and `alg`, which pins the key to that algorithm; and in dev mode a
/// symmetric HS256 key kept in the data directory, with which `fhe-jobs token` mints
/// short-lived tokens.
public struct AuthKeys: Sendable {
    public static let devKeyID = "dev"
    public static let devKeyFile = "dev-token.key"

    let collection: JWTKeyCollection
    let pinned: [String: TokenVerifier.Algorithm]
    /// The external issuer's keys, when they come from its JWKS URL.
    let remote: RemoteJWKS?

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        case invalidKey(String)
        case noKeys
        public var description: String {
            switch self {
            case .unreadable(let d): "cannot read the JWKS file: \(d)"
            case .invalidKey(let d): "invalid key in the JWKS: \(d)"
            case .noKeys: "no verification keys: give a JWKS file or URL, or run in dev mode"
            }
        }
    }

    /// - Parameters:
    ///   - jwksFile: a JSON Web Key Set (RFC 7517) of public keys.
    ///   - jwksURL: an external issuer's key set, loaded (`RemoteJWKS.load`) by the caller.
    ///   - devSecret: the dev-mode HS256 key, or nil outside dev mode.
    public static func load(jwksFile: URL?, jwksURL: RemoteJWKS? = nil, devSecret: SymmetricKey?) async throws -> AuthKeys {
        let collection = JWTKeyCollection()
        var pinned: [String: TokenVerifier.Algorithm] = [:]
        if let jwksFile {
            let data: Data
            do { data = try Data(contentsOf: jwksFile) } catch { throw LoadError.unreadable("\(jwksFile.path): \(error.localizedDescription)") }
            pinned = try await addKeys(fromJWKS: data, to: collection)
        }
        if let devSecret {
            await collection.add(hmac: HMACKey(key: devSecret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: devKeyID))
            pinned[devKeyID] = .hs256
        }
        guard !pinned.isEmpty || jwksURL != nil else { throw LoadError.noKeys }
        return AuthKeys(collection: collection, pinned: pinned, remote: jwksURL)
    }

    /// Adds the public keys of a JWKS document to `collection`; answers each key's pinned
    /// algorithm by `kid`. Every key must name its `kid` and an `alg` of RS256 or ES256 and hold
    /// no private part; a document with more than `maxKeys` keys is refused.
    package static func addKeys(fromJWKS data: Data, to collection: JWTKeyCollection,
                                maxKeys: Int = 64) async throws(LoadError) -> [String: TokenVerifier.Algorithm] {
        guard let set = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let keys = set["keys"] as? [[String: Any]] else {
            throw .invalidKey("the document is not a JWKS object with a \"keys\" array of objects")
        }
        guard keys.count <= maxKeys else { throw .invalidKey("the set has \(keys.count) keys, more than the \(maxKeys) accepted") }
        var pinned: [String: TokenVerifier.Algorithm] = [:]
        for key in keys {
            guard let kid = key["kid"] as? String, !kid.isEmpty, kid.utf8.count <= 256,
                  let alg = (key["alg"] as? String).flatMap(TokenVerifier.Algorithm.init(rawValue:)), alg != .hs256 else {
                throw .invalidKey("every key needs a kid and an alg of RS256 or ES256")
            }
            guard key["d"] == nil else { throw .invalidKey("key \(kid) holds a private part; give public keys only") }
            guard pinned[kid] == nil else { throw .invalidKey("two keys have the kid \(kid)") }
            do {
                let json = try JSONSerialization.data(withJSONObject: key)
                let jwk = try JSONDecoder().decode(JWK.self, from: json)
                try await collection.add(jwk: jwk)
            } catch {
                throw .invalidKey("key \(kid): \(error)")
            }
            pinned[kid] = alg
        }
        return pinned
    }

    /// The keys that verify a token naming `kid`, and the one algorithm pinned for it; nil
    /// when no key has that kid. The file's and the dev keys are asked first, then the
    /// issuer's set (which may refetch, boundedly, for a kid it does not know).
    func key(for kid: String?, now: Date) async throws(APIProblem) -> (keys: JWTKeyCollection, algorithm: TokenVerifier.Algorithm)? {
        if let kid, let algorithm = pinned[kid] { return (collection, algorithm) }
        // A token without a kid is tried against the only key there is.
        if kid == nil, remote == nil, pinned.count == 1, let only = pinned.values.first { return (collection, only) }
        guard let remote else { return nil }
        return try await remote.key(for: kid, now: now)
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
            // The data folder, for its owner alone (as `serve` creates it when it comes first).
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
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
