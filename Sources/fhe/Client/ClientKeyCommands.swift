import ArgumentParser
import Crypto
import FHEClient
import Foundation
import Jobs
import TFHE

struct ClientKeygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Make the P-256 key pair that signs retrievals and opens results (PEM, mode 0600).")

    @Option(help: "The private key file to write (it must not exist).")
    var out: String

    func run() throws {
        let key = P256.Signing.PrivateKey()
        try writeSecretFile(Data(key.pemRepresentation.utf8), to: out)
        print(key.publicKey.pemRepresentation)
    }
}

struct ClientKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Fetch your key set and public key, check them, save them, and pin the service's signing key.")

    @OptionGroup var options: ClientOptions

    @Option(help: "The service's Ed25519 signing key (base64), if known from elsewhere; else the one published is pinned on first use.")
    var serviceKey: String?

    func run() async throws {
        let client = try options.client()
        let state = try options.clientState(client)
        let keys = try await client.send("GET", "/v1/fhe/keys").object()
        guard let keySetID = keys["keySetId"] as? String, let set = keys["parameterSet"] as? [String: Any],
              let name = set["name"] as? String, let definition = set["definition"],
              let link = keys["publicKey"] as? [String: Any], let url = link["url"] as? String,
              let sha256 = link["sha256"] as? String, let size = link["bytes"] as? Int else {
            throw ClientError("GET /v1/fhe/keys answered without a key set, parameter set or public key link")
        }
        let parametersJSON = try JSONSerialization.data(withJSONObject: definition, options: [.sortedKeys])
        let parameters: ParameterSet
        do { parameters = try ParameterSet.parse(json: parametersJSON, allowInsecure: true) } catch {
            throw ClientError("the service's parameter set \(name) does not parse: \(error)")
        }
        if parameters.securityBits == nil {
            FileHandle.standardError.write(Data("warning: the service's parameter set \(name) is an insecure test set\n".utf8))
        }
        let publicKey = try await client.send("GET", url).body
        guard publicKey.count == size, SHA256.hash(data: publicKey).hexString == sha256 else {
            throw ClientError("the public key downloaded from \(url) does not match its announced size and SHA-256")
        }
        do { _ = try CompressedPublicKey<UInt64>(serialized: publicKey, parameters: parameters) } catch {
            throw ClientError("the public key is not one of the parameter set \(name): \(error)")
        }
        try state.save(.init(keySetID: keySetID, parameterSet: name, parameters: String(decoding: parametersJSON, as: UTF8.self),
                             publicKeySHA256: sha256), publicKey: publicKey)
        let pinned = try state.serviceKey(seen: keys["serviceSigningKey"] as? String, given: serviceKey)
        print("key set \(keySetID) (\(name)), public key \(size) bytes")
        print("service signing key \(pinned.rawRepresentation.base64EncodedString()) (pinned in \(state.folder.path))")
    }
}

struct ClientUploadServerKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload-server-key",
        abstract: "Client-key mode: upload the compressed server key of your own client key (from `fhe keygen`); prints its id.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The compressed server key file (server.key of `fhe keygen`).")
    var file: String

    func run() async throws {
        let client = try options.client()
        guard let bytes = FileManager.default.contents(atPath: file) else { throw ClientError("cannot read \(file)") }
        let answer = try await client.send("POST", "/v1/fhe/server-keys", body: bytes).object()
        guard let id = answer["id"] as? String else { throw ClientError("the server answered without an id") }
        print(id)
    }
}
