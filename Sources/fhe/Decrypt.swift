import ArgumentParser
import Foundation
import TFHE

/// `fhe decrypt`: prints the clear value of a ciphertext file.
struct Decrypt: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decrypt a ciphertext file with the client key.")

    @Option(help: "The client key file.")
    var key: String

    @Argument(help: "The ciphertext file.")
    var file: String

    func run() throws {
        let keyFile = try ObjectFile.read(key)
        guard keyFile.header.kind == .clientKey else { throw CLIError("\(key) is a \(keyFile.header.kind), not a client key") }
        let ciphertext = try ObjectFile.read(file, parameters: keyFile.parameters)
        if keyFile.parameters.torusBits == 32 {
            print(try decrypt(UInt32.self, keyFile, ciphertext))
        } else {
            print(try decrypt(UInt64.self, keyFile, ciphertext))
        }
    }

    func decrypt<T: TorusScalar>(_: T.Type, _ keyFile: ObjectFile, _ file: ObjectFile) throws -> String {
        let client = try keyFile.decode { try ClientKey<T>(serialized: keyFile.data, parameters: keyFile.parameters) }
        keyFile.wipe()
        let kind = file.header.kind
        if kind == .lweCiphertext {
            return try file.decode { String(try client.decrypt(LWECiphertext<T>(serialized: file.data, parameters: file.parameters))) }
        }
        guard kind.isBlockList || kind == .compactList else { throw CLIError("\(self.file) is a \(kind), not a ciphertext") }
        // A compact list names the kind it expands to.
        let (listKind, list) = try file.decode { try BlockCiphertextList<T>.deserialize(file.data, parameters: file.parameters) }
        let messages = try file.decode { try client.decrypt(blocks: list) }
        guard let type = PlaintextType(kind: listKind) else { throw CLIError("\(self.file): cannot decode a \(listKind)") }
        return type.decode(messages, parameters: file.parameters)
    }
}
