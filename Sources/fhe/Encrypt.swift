import ArgumentParser
import Foundation
import TFHE

/// `fhe encrypt`: with the client key (seeded ciphertexts by default) or with the public key
/// (one compact public-key list by default).
struct Encrypt: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encrypt a value with a client key or a public key.")

    @Option(help: "A client key or public key file.")
    var key: String

    @Option(help: "The clear value.")
    var value: String

    @Option(help: "What to encrypt: \(PlaintextType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var type: PlaintextType = .block

    @Option(help: "The ciphertext file to write.")
    var out: String

    @Flag(help: "Write full blocks rather than the seeded (client key) or compact (public key) form.")
    var uncompressed = false

    @Option(help: "A parameter file or name, if the key's set is not found by its fingerprint.")
    var params: String?

    func run() throws {
        let given = try params.map { try loadParameters($0, allowInsecure: true) }
        let file = try ObjectFile.read(key, parameters: given)
        if file.parameters.torusBits == 32 {
            try encrypt(UInt32.self, file)
        } else {
            try encrypt(UInt64.self, file)
        }
    }

    func encrypt<T: TorusScalar>(_: T.Type, _ file: ObjectFile) throws {
        let (messages, degrees) = try type.encode(value, parameters: file.parameters)
        let output: Data
        switch file.header.kind {
        case .clientKey:
            let client = try file.decode { try ClientKey<T>(serialized: file.data, parameters: file.parameters) }
            file.wipe()
            output = try file.decode {
                try uncompressed ? client.encrypt(blocks: messages, degrees: degrees).serialized(kind: type.objectKind)
                                 : client.encryptSeeded(blocks: messages, degrees: degrees).serialized(kind: type.objectKind)
            }
        case .publicKey:
            let publicKey = try file.decode { try PublicKey<T>(serialized: file.data, parameters: file.parameters) }
            // One compact list (all blocks from one public-key encryption) unless asked for full blocks.
            output = try file.decode {
                try uncompressed ? publicKey.encrypt(blocks: messages, degrees: degrees).serialized(kind: type.objectKind)
                                 : publicKey.encryptCompact(messages, degrees: degrees).serialized(kind: type.objectKind)
            }
        default:
            throw CLIError("\(key) is a \(file.header.kind), not a client key or public key")
        }
        try ObjectFile.write(output, to: out)
    }
}
