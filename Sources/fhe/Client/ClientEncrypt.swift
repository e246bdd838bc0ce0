import ArgumentParser
import Crypto
import FHEClient
import FHEPrograms
import Foundation
import Jobs
import TFHE

/// `fhe client encrypt`: an encrypted-values file of named inputs, under the owner's public
/// key (saved by `fhe client keys`) or, in client-key mode, under the owner's own client key.
struct ClientEncrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt named inputs into an encrypted-values file for a job.",
        discussion: """
            One vector named data:   --type u16 --values 3,1,4,1,5
            Named inputs:            --input balances:u16[]=100,20,7 --input amounts:u16[]=30,500,5 --input a:u8=200
            Types: bool, u8, u16, u32, u64; NAME:TYPE=V is a scalar, NAME:TYPE[]=V,V,... a vector.
            """)

    @OptionGroup var options: ClientOptions

    @Option(help: "The type of the vector given by --values.")
    var type: String?

    @Option(help: "Comma-separated values of one vector input (named by --name).")
    var values: String?

    @Option(help: "The name of the --values input.")
    var name = "data"

    @Option(help: "A named input, NAME:TYPE=V or NAME:TYPE[]=V,V,... (repeat for more).")
    var input: [String] = []

    @Option(help: "Client-key mode: your own client key (client.key of `fhe keygen`), with --server-key.")
    var clientKey: String?

    @Option(help: "Client-key mode: the compressed server key uploaded with `fhe client upload-server-key`.")
    var serverKey: String?

    @Option(help: "The file to write.")
    var out: String

    func run() async throws {
        var inputs = try input.map(Self.parse)
        if let values {
            guard let type, let kind = ValueKind(rawValue: type) else { throw ClientError("--values needs --type bool, u8, u16, u32 or u64") }
            inputs.append(try Self.parse("\(name):\(kind.rawValue)[]=\(values)"))
        }
        guard !inputs.isEmpty else { throw ClientError("nothing to encrypt: give --type and --values, or --input") }
        let file: Data
        if let clientKey {
            guard let serverKey else { throw ClientError("--client-key goes with --server-key (the key the job runs under)") }
            let parameters = try options.clientState(try options.client()).keySet().0.readParameters()
            let keyBytes = try readSecretFile(clientKey)
            guard let serverBytes = FileManager.default.contents(atPath: serverKey) else { throw ClientError("cannot read \(serverKey)") }
            let key = try ClientKey<UInt64>(serialized: keyBytes, parameters: parameters)
            // The key set a client-key file names is its server key's SHA-256 (its id on the server).
            guard let keySetID = KeySetID(hex: SHA256.hash(data: serverBytes).hexString) else { throw ClientError("bad server key") }
            file = try EncryptedValues.encrypt(inputs, keySetID: keySetID, with: key).serialized()
        } else {
            let client = try options.client()
            let (saved, publicKeyBytes) = try options.clientState(client).keySet()
            let parameters = try saved.readParameters()
            let publicKey = try CompressedPublicKey<UInt64>(serialized: publicKeyBytes, parameters: parameters).decompress()
            guard let keySetID = KeySetID(hex: saved.keySetID) else { throw ClientError("the saved key set id is not 64 hex digits") }
            file = try EncryptedValues.encrypt(inputs, keySetID: keySetID, publicKey: publicKey)
        }
        guard FileManager.default.createFile(atPath: out, contents: file) else { throw ClientError("cannot write \(out)") }
        print("\(out): \(inputs.count) input\(inputs.count == 1 ? "" : "s"), \(file.count) bytes")
    }

    /// `NAME:TYPE=V` or `NAME:TYPE[]=V,V,...`.
    static func parse(_ text: String) throws -> (String, ValueShape, ClearValue) {
        guard let colon = text.firstIndex(of: ":"), let equals = text.firstIndex(of: "="), colon < equals else {
            throw ClientError("--input \(text.prefix(60)): expected NAME:TYPE=V or NAME:TYPE[]=V,V,...")
        }
        let name = String(text[..<colon])
        var type = Substring(text[text.index(after: colon)..<equals])
        let isVector = type.hasSuffix("[]")
        if isVector { type = type.dropLast(2) }
        guard let kind = ValueKind(rawValue: String(type)) else {
            throw ClientError("--input \(name): the type \(type) is not bool, u8, u16, u32 or u64")
        }
        func value(_ raw: Substring) throws -> ClearValue {
            let item = raw.trimmingCharacters(in: .whitespaces)
            if kind == .bool {
                guard let b = Bool(item) else { throw ClientError("--input \(name): \(item) is not true or false") }
                return .bool(b)
            }
            guard let x = UInt64(item), x <= kind.maximum else { throw ClientError("--input \(name): \(item) is not a \(kind) (0 to \(kind.maximum))") }
            return .uint(x)
        }
        let raw = text[text.index(after: equals)...]
        if isVector {
            let items = try raw.split(separator: ",", omittingEmptySubsequences: false).map(value)
            return (name, .vector(kind, length: items.count), .vector(items))
        }
        return (name, .scalar(kind), try value(raw))
    }
}
