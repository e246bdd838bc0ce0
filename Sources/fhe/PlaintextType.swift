import ArgumentParser
import TFHE

/// What `fhe encrypt --type` encrypts, and how `fhe decrypt` reads it back. Each type is a
/// block list of a serialized kind; a radix integer type (FheUint8..64) is a case here with
/// its kind, its block encoding and its decoding.
enum PlaintextType: String, CaseIterable, ExpressibleByArgument {
    /// One shortint block: a value below 2^(message + carry bits).
    case block
    /// An FheBool: one block holding 0 or 1.
    case bool

    var objectKind: ObjectKind {
        switch self {
        case .block: .blockList
        case .bool: .fheBool
        }
    }

    /// The clear messages of the blocks, and their degrees.
    func encode(_ text: String, parameters: ParameterSet) throws -> (messages: [UInt64], degrees: [UInt64]) {
        let modulus = UInt64(1) << (parameters.messageBits + parameters.carryBits)
        switch self {
        case .block:
            guard let value = UInt64(text), value < modulus else {
                throw CLIError("--value for a block must be an integer in 0..<\(modulus) under \(parameters.name)")
            }
            return ([value], [modulus - 1])
        case .bool:
            switch text.lowercased() {
            case "true", "1": return ([1], [1])
            case "false", "0": return ([0], [1])
            default: throw CLIError("--value for a bool must be true, false, 1 or 0")
            }
        }
    }

    /// The type a ciphertext file holds.
    init?(kind: ObjectKind) {
        guard let type = Self.allCases.first(where: { $0.objectKind == kind }) else { return nil }
        self = type
    }

    func decode(_ messages: [UInt64]) -> String {
        switch self {
        case .block: messages.map(String.init).joined(separator: " ")
        case .bool: messages.first.map { $0 != 0 ? "true" : "false" } ?? "false"
        }
    }
}
