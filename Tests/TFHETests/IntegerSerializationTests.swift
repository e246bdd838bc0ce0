import Foundation
import Testing
@testable import TFHE

/// Radix integers and booleans through the versioned format: the value survives, the read
/// ciphertext computes correctly, and a wrong kind or width is a typed error.
@Suite struct IntegerSerializationTests {
    let keys = IntegerTestKeys.insecure

    @Test func integersRoundTripAndStillCompute() throws {
        let a = try FheUint16(encrypting: 51_234, with: keys.client)
        let read = try FheUint16(serialized: try a.serialized(), key: keys.server)
        #expect(try read.clear() == 51_234)
        // Read ciphertexts are treated as maximally noisy; arithmetic on them stays right.
        let sum = try FheContext.with(keys.server) { try read + read }
        #expect(try sum.clear() == 51_234 &+ 51_234)
        let flag = try FheBool(encrypting: true, with: keys.client)
        #expect(try FheBool(serialized: try flag.serialized(), key: keys.server).clear() == true)
    }

    @Test func aWrongKindOrWidthIsATypedError() throws {
        let a = try FheUint8(encrypting: 7, with: keys.client)
        #expect(throws: SerializationError.self) { try FheUint16(serialized: try a.serialized(), key: self.keys.server) }
        #expect(throws: SerializationError.self) { try FheBool(serialized: try a.serialized(), key: self.keys.server) }
        var corrupted = try a.serialized()
        corrupted[corrupted.count - 1] ^= 1
        #expect(throws: SerializationError.self) { try FheUint8(serialized: corrupted, key: self.keys.server) }
    }
}
