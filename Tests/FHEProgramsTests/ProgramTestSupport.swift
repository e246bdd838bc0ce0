import Foundation
import Synchronization
import Testing
@testable import FHEPrograms
@testable import TFHE

/// Keys of the insecure 2_2 test set (NO SECURITY: tiny dimensions so that a bootstrap takes
/// well under a millisecond), made once for all program tests.
final class ProgramTestKeys: Sendable {
    let parameters: ParameterSet
    let client: ClientKey<UInt64>
    let server: IntegerServerKey<UInt64>
    let publicKey: PublicKey<UInt64>
    let keySetID = KeySetID(bytes: (0..<32).map { UInt8($0 &* 7 &+ 1) })!

    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("params")

    static func loadParameters(_ name: String) throws -> ParameterSet {
        try ParameterSet.load(contentsOf: folder.appendingPathComponent(name + ".json"), allowInsecure: true)
    }

    init() throws {
        parameters = try Self.loadParameters("insecure_test_64_2_2")
        client = try ClientKey<UInt64>(parameters: parameters, seed: Seed(high: 0xF4E, low: 1))
        server = try IntegerServerKey(serverKey: ServerKey(clientKey: client, seed: Seed(high: 0xF4E, low: 2)))
        publicKey = try PublicKey(clientKey: client, seed: Seed(high: 0xF4E, low: 3))
    }

    static let shared = try! ProgramTestKeys()

    /// Client-key encryption, then the file and back, as a job's inputs arrive.
    func inputs(_ values: [(String, ValueShape, ClearValue)]) throws -> EncryptedValues {
        let file = try EncryptedValues.encrypt(values, keySetID: keySetID, with: client).serialized()
        return try EncryptedValues(serialized: file, parameters: parameters)
    }
}

/// Runs a prepared program on an observed key and checks that the quote is what it performed.
func runChecked(_ prepared: PreparedProgram, _ inputs: EncryptedValues, keys: ProgramTestKeys = .shared,
                sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: ClearValue] {
    let quoted = try prepared.quote(inputs, parameters: keys.parameters)
    let observedLayers = Shared(0)
    let key = keys.server.observing { size in observedLayers.value.withLock { $0 += size } }
    let outputs = try prepared.run(inputs, key: key)
    #expect(quoted == key.bootstrapCount, "quote \(quoted), performed \(key.bootstrapCount)", sourceLocation: sourceLocation)
    #expect(observedLayers.value.withLock { $0 } == key.bootstrapCount, sourceLocation: sourceLocation)
    #expect(outputs.names == prepared.outputs.map(\.name), sourceLocation: sourceLocation)
    #expect(prepared.outputs.allSatisfy { outputs[$0.name]?.shape == $0.shape }, sourceLocation: sourceLocation)
    // Outputs go through their file too.
    let file = try outputs.serialized()
    let read = try EncryptedValues(serialized: file, parameters: keys.parameters)
    return Dictionary(uniqueKeysWithValues: try read.decrypt(with: keys.client))
}

func uintVector(_ values: [UInt64]) -> ClearValue { .vector(values.map { .uint($0) }) }

/// A deterministic generator for test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A value shared with an observer closure (a `Mutex` cannot be captured by an escaping closure).
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}
