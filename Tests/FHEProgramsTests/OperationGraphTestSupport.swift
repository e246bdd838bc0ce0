import FHEPrograms
import Foundation
import Testing
import TFHE

/// Keys of the insecure 2_2 test set (2-bit blocks, tiny dimensions), made once for the
/// operation-graph tests. (Test targets share no code, so this is the engine tests' helper
/// again, under a name of its own.)
final class OperationGraphTestKeys: Sendable {
    let parameters: ParameterSet
    let client: ClientKey<UInt64>
    let serverKey: ServerKey<UInt64>

    init(parameterSet: String, seed: UInt64) throws {
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("params")
        parameters = try ParameterSet.load(contentsOf: folder.appendingPathComponent(parameterSet + ".json"), allowInsecure: true)
        client = try ClientKey<UInt64>(parameters: parameters, seed: Seed(high: 0x0967, low: seed))
        serverKey = ServerKey(clientKey: client, seed: Seed(high: 0x0968, low: seed))
    }

    /// A server key with its own pool, so that its bootstrap count is this test's alone.
    func server() throws -> IntegerServerKey<UInt64> { try IntegerServerKey(serverKey: serverKey) }

    static let shared = try! OperationGraphTestKeys(parameterSet: "insecure_test_64_2_2", seed: 1)

    static let keySetID = KeySetID(bytes: Array(repeating: 7, count: 32))!

    /// Encrypts clear values (0/1 for a bool) as the named inputs of a file.
    func encrypt(_ values: [(String, ValueKind, UInt64)]) throws -> EncryptedValues {
        var randomness = EncryptionRandomness()
        var entries: [(String, EncryptedValue)] = []
        for (name, kind, value) in values {
            let radix = kind == .bool
                ? RadixCiphertext(blocks: [try client.encryptBooleanBlock(value != 0, randomness: &randomness)])
                : try client.encryptRadix(value, blockCount: kind.blockCount(for: parameters)!, randomness: &randomness)
            entries.append((name, .scalar(EncryptedInteger(kind: kind, radix: radix))))
        }
        return try EncryptedValues(keySetID: Self.keySetID, entries)
    }

    /// The clear value of every output (0/1 for a bool), by name.
    func decrypt(_ values: EncryptedValues) throws -> [String: UInt64] {
        var clear: [String: UInt64] = [:]
        for name in values.names {
            guard case .scalar(let x)? = values[name] else { Issue.record("output \(name) is not a scalar"); continue }
            clear[name] = x.kind == .bool ? (try client.decryptBooleanBlock(x.radix.blocks[0]) ? 1 : 0) : try client.decryptRadix(x.radix)
        }
        return clear
    }
}

/// A graph as the tests write it, rendered to the parameters' JSON and evaluated in the clear
/// by Swift's own integer operations: the reference the encrypted results are held to.
struct OperationGraphSpec {
    struct Node { var id: String; var op: String; var args: [String]; var to: ValueKind? = nil }

    var inputs: [(String, ValueKind)]
    var constants: [(String, ValueKind, UInt64)] = []
    var nodes: [Node]
    var outputs: [String]

    var json: Data {
        var object: [String: Any] = [
            "inputs": Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, $0.1.rawValue) }),
            "nodes": nodes.map { node -> [String: Any] in
                var n: [String: Any] = ["id": node.id, "op": node.op, "args": node.args]
                if let to = node.to { n["to"] = to.rawValue }
                return n
            },
            "outputs": outputs,
        ]
        if !constants.isEmpty {
            object["constants"] = Dictionary(uniqueKeysWithValues: constants.map { name, kind, value -> (String, Any) in
                (name, ["type": kind.rawValue, "value": kind == .bool ? (value != 0) as Any : value as Any])
            })
        }
        return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    var inputShapes: [String: ValueShape] { Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, .scalar($0.1)) }) }

    /// The clear outputs on `values` (0/1 for booleans), with unsigned wrapping semantics and
    /// TFHE-rs's division by zero (quotient = maximum, remainder = numerator).
    func evaluate(_ values: [String: UInt64]) -> [String: UInt64] {
        var env: [String: (ValueKind, UInt64)] = [:]
        for (name, kind) in inputs { env[name] = (kind, values[name]!) }
        for (name, kind, value) in constants { env[name] = (kind, value) }
        for node in nodes {
            let args = node.args.map { env[$0]! }
            let kind = args[0].0, mask = kind.maximum
            let x = args[0].1, y = args.count > 1 ? args[1].1 : 0
            let bits = UInt64(kind.bitWidth)
            let result: (ValueKind, UInt64) = switch node.op {
            case "add": (kind, (x &+ y) & mask)
            case "sub": (kind, (x &- y) & mask)
            case "mul": (kind, (x &* y) & mask)
            case "div": (kind, y == 0 ? mask : x / y)
            case "rem": (kind, y == 0 ? x : x % y)
            case "neg": (kind, (0 &- x) & mask)
            case "min": (kind, Swift.min(x, y))
            case "max": (kind, Swift.max(x, y))
            case "eq": (.bool, x == y ? 1 : 0)
            case "ne": (.bool, x != y ? 1 : 0)
            case "lt": (.bool, x < y ? 1 : 0)
            case "le": (.bool, x <= y ? 1 : 0)
            case "gt": (.bool, x > y ? 1 : 0)
            case "ge": (.bool, x >= y ? 1 : 0)
            case "and": (kind, x & y)
            case "or": (kind, x | y)
            case "xor": (kind, x ^ y)
            case "not": (kind, ~x & mask)
            case "select": (args[1].0, x != 0 ? args[1].1 : args[2].1)
            case "shl": (kind, (x << (y % bits)) & mask)
            case "shr": (kind, x >> (y % bits))
            case "cast": (node.to!, x & node.to!.maximum)
            default: fatalError("the test graph has the unknown op \(node.op)")
            }
            env[node.id] = result
        }
        return Dictionary(uniqueKeysWithValues: outputs.map { ($0, env[$0]!.1) })
    }
}

extension OperationGraphTestKeys {
    /// Prepares `spec`, runs it encrypted on `values` and returns the decrypted outputs with
    /// the bootstraps the run performed.
    func run(_ spec: OperationGraphSpec, _ values: [String: UInt64]) throws -> (outputs: [String: UInt64], names: [String], bootstraps: Int) {
        let prepared = try OperationGraphProgram().prepare(parameters: spec.json, inputs: spec.inputShapes)
        let encrypted = try encrypt(spec.inputs.map { ($0.0, $0.1, values[$0.0]!) })
        let key = try server()
        let result = try prepared.run(encrypted, key: key)
        return (try decrypt(result), result.names, key.bootstrapCount)
    }
}
