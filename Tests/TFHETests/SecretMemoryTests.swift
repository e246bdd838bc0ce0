import Testing
@testable import TFHE

/// Secret coefficients are wiped before their memory is freed. A release observer sees the
/// memory between the wipe and the free (reading it after the free would be undefined): without
/// the wipe it would see the key's bits. Whether the optimiser keeps the wipe cannot be seen
/// from inside the program; that rests on `SecretMemory` calling the C library's wipe.
@Suite("Secret key memory is wiped on release")
struct SecretMemoryTests {
    /// The bytes a buffer held when it was released.
    final class ReleasedMemory {
        var bytes: [UInt8]?
        func record(_ memory: UnsafeRawBufferPointer) { bytes = Array(memory) }
    }

    @Test func binarySecretKeyIsWipedOnRelease() throws {
        let released = ReleasedMemory()
        let weight = makeAndDropKey(count: 777, observer: released.record)
        #expect(weight > 300)  // the key had bits to wipe
        let bytes = try #require(released.bytes)
        #expect(bytes.count == 777 * MemoryLayout<UInt64>.stride)
        #expect(bytes.allSatisfy { $0 == 0 }, "\(bytes.count { $0 != 0 }) bytes not wiped")
    }

    /// A key (such as a client key being read) whose filling fails part way is wiped too.
    @Test func partlyFilledBufferIsWipedWhenFillingThrows() throws {
        struct Refused: Error {}
        let released = ReleasedMemory()
        #expect(throws: Refused.self) {
            _ = try SecretBuffer<UInt8>(count: 64, releaseObserver: released.record) { words in
                for i in 0..<32 { words[i] = 0xA5 }
                throw Refused()
            }
        }
        let bytes = try #require(released.bytes)
        #expect(bytes.count == 64 && bytes.allSatisfy { $0 == 0 })
    }

    @Test func wipeClearsEveryByteAndNoOther() {
        var memory = [UInt8](repeating: 0xFF, count: 67)
        memory.withUnsafeMutableBytes { SecretMemory.wipe($0.baseAddress! + 1, byteCount: 65) }
        #expect(memory.first == 0xFF && memory.last == 0xFF)
        #expect(memory[1...65].allSatisfy { $0 == 0 })
    }

    /// Builds a key and lets it go before returning, so that it is released by the time the
    /// caller looks.
    @inline(never)
    private func makeAndDropKey(count: Int, observer: @escaping (UnsafeRawBufferPointer) -> Void) -> Int {
        var generator = AESCTRGenerator(seed: Seed(high: 0x5ec2e7, low: 1))
        let key = BinarySecretKey<UInt64>(count: count, generator: &generator, releaseObserver: observer)
        return key.hammingWeight
    }
}
