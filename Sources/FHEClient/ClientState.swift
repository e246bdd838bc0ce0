import Crypto
import Foundation
import Jobs
import TFHE

/// What `fhe client` keeps between commands, per server, in a folder of its own (`--state`,
/// `$FHE_CLIENT_HOME`, or `~/.fhe-client`): the owner's key set as `keys` fetched it (its id,
/// the parameter set's JSON, the compressed public key, checked against its SHA-256) and the
/// service's signing key, pinned on first use; the newest ledger head it verified.
public struct ClientState: Sendable {
    public let folder: URL

    public init(root: String?, server: URL) throws(ClientError) {
        let base = root.map { URL(fileURLWithPath: $0) }
            ?? ProcessInfo.processInfo.environment["FHE_CLIENT_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".fhe-client")
        // One folder per server (scheme, host and port), so that pins never mix.
        let port: String = server.port.map { String($0) } ?? ""
        let parts: [String] = [server.scheme ?? "http", server.host ?? "", port]
        let name = String(parts.joined(separator: "_").map { (c: Character) -> Character in
            c.isLetter || c.isNumber || c == "." || c == "_" || c == "-" ? c : "_"
        })
        folder = base.appendingPathComponent(name, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError("cannot create the client folder \(folder.path): \(error.localizedDescription)")
        }
    }

    /// The owner's key set, as `fhe client keys` saved it.
    public struct KeySet: Codable, Sendable {
        public var keySetID: String
        public var parameterSet: String
        /// The parameter set's JSON (as the service shows it).
        public var parameters: String
        public var publicKeySHA256: String

        public init(keySetID: String, parameterSet: String, parameters: String, publicKeySHA256: String) {
            self.keySetID = keySetID; self.parameterSet = parameterSet; self.parameters = parameters; self.publicKeySHA256 = publicKeySHA256
        }

        /// The saved parameter set, read (insecure test sets included: the service chose it).
        public func readParameters() throws -> ParameterSet {
            try ParameterSet.parse(json: Data(parameters.utf8), allowInsecure: true)
        }
    }

    var keySetFile: URL { folder.appendingPathComponent("keys.json") }
    var publicKeyFile: URL { folder.appendingPathComponent("public.key") }
    var pinFile: URL { folder.appendingPathComponent("service-signing-key") }
    var ledgerHeadFile: URL { folder.appendingPathComponent("ledger-head.json") }

    /// The newest ledger head this client has verified (a later, smaller ledger was cut back).
    public func seenLedgerHead() throws(ClientError) -> LedgerHead? {
        guard let data = try? Data(contentsOf: ledgerHeadFile) else { return nil }
        guard let head = try? JSONDecoder().decode(LedgerHead.self, from: data) else {
            throw ClientError("\(ledgerHeadFile.path) is not a saved ledger head: remove it to trust the ledger afresh")
        }
        return head
    }

    /// Keeps `head` as the newest seen, if it is newer than the one kept.
    public func saveLedgerHead(_ head: LedgerHead) throws(ClientError) {
        if let seen = try seenLedgerHead(), seen.size >= head.size { return }
        do { try JSONEncoder().encode(head).write(to: ledgerHeadFile, options: .atomic) } catch {
            throw ClientError("cannot save the ledger head in \(ledgerHeadFile.path): \(error.localizedDescription)")
        }
    }

    public func save(_ keySet: KeySet, publicKey: Data) throws {
        try publicKey.write(to: publicKeyFile, options: .atomic)
        try JSONEncoder().encode(keySet).write(to: keySetFile, options: .atomic)
    }

    /// The saved key set and public key, checked against each other.
    public func keySet() throws(ClientError) -> (KeySet, Data) {
        guard let data = try? Data(contentsOf: keySetFile), let keySet = try? JSONDecoder().decode(KeySet.self, from: data),
              let publicKey = try? Data(contentsOf: publicKeyFile) else {
            throw ClientError("no key set saved for this server: run `fhe client keys` first")
        }
        guard SHA256.hash(data: publicKey).hexString == keySet.publicKeySHA256 else {
            throw ClientError("\(publicKeyFile.path) does not match the SHA-256 saved with it: run `fhe client keys` again")
        }
        return (keySet, publicKey)
    }

    /// The service's Ed25519 key: `given` (base64) if set, else the pinned one; `seen` (what the
    /// service publishes now) is pinned on first use and must match afterwards.
    public func serviceKey(seen: String?, given: String?) throws(ClientError) -> Curve25519.Signing.PublicKey {
        let pinned = (try? String(contentsOf: pinFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let chosen = given ?? pinned ?? seen
        guard let chosen, let raw = Data(base64Encoded: chosen), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw ClientError("no service signing key: run `fhe client keys` (it pins the key) or give --service-key")
        }
        if let seen, seen != chosen {
            throw ClientError("the service now publishes signing key \(seen), not the \(given == nil ? "pinned" : "given") \(chosen): refusing to trust it")
        }
        if pinned == nil, given == nil {
            do { try Data((chosen + "\n").utf8).write(to: pinFile, options: .atomic) } catch {
                throw ClientError("cannot pin the service key in \(pinFile.path): \(error.localizedDescription)")
            }
        }
        return key
    }
}

/// Writes `bytes` to a new secret file (mode 0600 from its creation; never an existing file).
public func writeSecretFile(_ bytes: Data, to path: String) throws(ClientError) {
    do { try SecretFile.create(path, contents: bytes) } catch { throw ClientError("\(error)") }
}

/// Reads a secret file, refusing one others may read.
public func readSecretFile(_ path: String) throws(ClientError) -> Data {
    let found: Data?
    do { found = try SecretFile.read(path) } catch { throw ClientError("\(error)") }
    guard let found else { throw ClientError("cannot read \(path)") }
    return found
}
