import Foundation
import Synchronization
import Testing
@testable import TFHE

/// The metadata-only key quotes exactly what a real key performs, and an observed key counts,
/// reports and stops between layers.
@Suite("Metadata-only and observed integer keys")
struct MetadataOnlyKeyTests {
    typealias Radix = RadixCiphertext<UInt64>

    /// Bootstraps `body` performs on `key` (a key whose counter only this test uses).
    func performed(_ key: IntegerServerKey<UInt64>, _ body: (IntegerServerKey<UInt64>) throws -> Void) throws -> Int {
        let before = key.bootstrapCount
        try body(key)
        return key.bootstrapCount - before
    }

    /// 16-bit operands, fresh from the client key and as a reader of files sees them (noise
    /// level at the maximum, degrees from the file).
    func operands(_ keys: IntegerTestKeys, fresh: Bool) throws -> (Radix, Radix, ShortintCiphertext<UInt64>) {
        let x = try FheUint<UInt16>(encrypting: 0xBEEF, with: keys.client)
        let y = try FheUint<UInt16>(encrypting: 0x0123, with: keys.client)
        var randomness = EncryptionRandomness()
        var condition = try keys.client.encryptBooleanBlock(true, randomness: &randomness)
        if fresh { return (x.radix, y.radix, condition) }
        let server = keys.server
        let a = try FheUint<UInt16>(serialized: try x.serialized(), key: server).radix
        let b = try FheUint<UInt16>(serialized: try y.serialized(), key: server).radix
        condition.noiseLevel = server.encoding.maxNoiseLevel
        return (a, b, condition)
    }

    @Test(arguments: [true, false])
    func quoteEqualsPerformed(fresh: Bool) throws {
        let keys = IntegerTestKeys.insecure
        let real = try keys.privateCounter()
        let quote = try IntegerServerKey<UInt64>.metadataOnly(parameters: real.parameters)
        #expect(quote.shortint.isMetadataOnly && quote.shortint.serverKey == nil && quote.shortint.pool == nil)
        let (a, b, c) = try operands(keys, fresh: fresh)
        let vector = try (0..<7).map { try keys.client.encryptRadix(UInt64($0) * 977, blockCount: a.blockCount) }
        let operations: [(String, (IntegerServerKey<UInt64>) throws -> Void)] = [
            ("add", { _ = try $0.add(a, b) }),
            ("sub", { _ = try $0.sub(a, b) }),
            ("mul", { _ = try $0.mul(a, b) }),
            ("lt", { _ = try $0.lt(a, b) }),
            ("eq", { _ = try $0.eq(a, b) }),
            ("scalarGe", { _ = try $0.scalarGe(a, 0x4000) }),
            ("min", { _ = try $0.min(a, b) }),
            ("div", { _ = try $0.div(a, b) }),
            ("scalarDiv", { _ = try $0.scalarDiv(a, 7) }),
            ("select", { _ = try $0.select(c, a, b) }),
            ("sum", { _ = try $0.sum([a, b] + vector) }),
            ("chain", { key in
                let s = try key.add(a, b)
                let p = try key.mul(s, a)
                _ = try key.select(try key.gt(p, s), p, try key.scalarMul(s, 3))
            }),
        ]
        for (name, operation) in operations {
            let done = try performed(real, operation)
            let quoted = try performed(quote, operation)
            #expect(done > 0, "\(name) performs bootstraps")
            #expect(quoted == done, "\(name) (fresh: \(fresh)): quoted \(quoted), performed \(done)")
        }
    }

    /// The sum of many operands is exact and its depth stays small.
    @Test func sumOfAVector() throws {
        let keys = IntegerTestKeys.insecure
        let key = try keys.privateCounter()
        let values: [UInt64] = (0..<20).map { ($0 * 0x3F7) & 0xFFFF }
        let radixes = try values.map { try keys.client.encryptRadix($0, blockCount: 8) }
        let sum = try key.sum(radixes)
        #expect(try keys.client.decryptRadix(sum) == values.reduce(0, +) & 0xFFFF)
        #expect(try keys.client.decryptRadix(try key.sum([radixes[3]])) == values[3])
        #expect(throws: TFHEError.self) { try key.sum([]) }
    }

    /// An observer sees every layer before it runs; one that throws after k layers stops the
    /// operation with its own error, and the count is what the first k layers did.
    @Test func observerReportsAndStops() throws {
        let keys = IntegerTestKeys.insecure
        let base = try keys.privateCounter()
        let a = try keys.client.encryptRadix(0xBEEF, blockCount: 8), b = try keys.client.encryptRadix(0x0123, blockCount: 8)

        let layers = Shared<[Int]>([])
        let observed = base.observing { size in layers.value.withLock { $0.append(size) } }
        #expect(observed.shortint.pool === base.shortint.pool && observed.shortint.serverKey === base.shortint.serverKey)
        let product = try observed.mul(a, b)
        #expect(try keys.client.decryptRadix(product) == (0xBEEF * 0x0123) & 0xFFFF)
        let sizes = layers.value.withLock { $0 }
        #expect(sizes.count >= 3 && sizes.allSatisfy { $0 > 0 })
        #expect(observed.bootstrapCount == sizes.reduce(0, +))
        #expect(base.bootstrapCount == 0, "an observed key counts its own bootstraps")

        struct Stop: Error, Equatable {}
        for k in [0, 1, 2] {
            let seen = Shared(0)
            let stopping = base.observing { _ in
                try seen.value.withLock { count in
                    if count == k { throw Stop() }
                    count += 1
                }
            }
            #expect(throws: Stop.self) { try stopping.mul(a, b) }
            #expect(stopping.bootstrapCount == sizes.prefix(k).reduce(0, +), "stopped after \(k) layers")
        }
        #expect(base.bootstrapCount == 0)
    }
}

/// A value shared with an observer closure (a `Mutex` cannot be captured by an escaping closure).
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}
