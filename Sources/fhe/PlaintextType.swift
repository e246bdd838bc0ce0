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
    /// Radix integers: FheUint8 ... FheUint64, one block per message-bits digit, least
    /// significant first (the layout of `RadixCiphertext`).
    case u8, u16, u32, u64

    var objectKind: ObjectKind {
        switch self {
        case .block: .blockList
        case .bool: .fheBool
        case .u8: .fheUint8
        case .u16: .fheUint16
        case .u32: .fheUint32
        case .u64: .fheUint64
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
        case .u8, .u16, .u32, .u64:
            let bits = objectKind.plaintextBits!
            guard let value = UInt64(text), bits == 64 || value >> UInt64(bits) == 0 else {
                throw CLIError("--value for \(rawValue) must be an integer in 0...\(bits == 64 ? UInt64.max : (1 << UInt64(bits)) - 1)")
            }
            guard let count = objectKind.blockCount(for: parameters) else {
                throw CLIError("\(parameters.name) has \(parameters.messageBits) message bits, which do not divide \(bits)")
            }
            let digitBits = UInt64(parameters.messageBits), digitMask = (UInt64(1) << digitBits) - 1
            let digits = (0..<count).map { (value >> (UInt64($0) * digitBits)) & digitMask }
            return (digits, Array(repeating: digitMask, count: count))
        }
    }

    /// The type a ciphertext file holds.
    init?(kind: ObjectKind) {
        guard let type = Self.allCases.first(where: { $0.objectKind == kind }) else { return nil }
        self = type
    }

    func decode(_ messages: [UInt64], parameters: ParameterSet) -> String {
        switch self {
        case .block: return messages.map(String.init).joined(separator: " ")
        case .bool: return messages.first.map { $0 != 0 ? "true" : "false" } ?? "false"
        case .u8, .u16, .u32, .u64:
            // Block i carries the digit of weight 2^(i·message bits); carries left in a
            // block add into the next digits, as the integer's value.
            let bits = objectKind.plaintextBits!
            var value: UInt64 = 0
            for (i, m) in messages.enumerated() where i * parameters.messageBits < 64 {
                value = value &+ (m &<< UInt64(i * parameters.messageBits))
            }
            return String(bits == 64 ? value : value & ((1 << UInt64(bits)) - 1))
        }
    }
}
