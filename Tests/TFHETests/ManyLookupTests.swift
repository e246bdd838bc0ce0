import Foundation
import Testing
@testable import TFHE

@Suite("Many-LUT bootstrapping and ripple carries")
struct ManyLookupTests {
    /// Functions whose outputs differ for every message, so that a swapped or shifted box shows.
    static let functions: [@Sendable (UInt64) -> UInt64] = [{ ($0 * 3 + 1) % 16 }, { $0 % 4 }, { 15 - $0 }, { $0 / 4 }]

    /// Every output of a table of 2 and of 4 functions decrypts to its function of every
    /// message below the bound, one at a time and in a batch, on a set of each order: the 2_2
    /// set (KS then PBS) and the 32-bit set (PBS then KS).
    @Test func everyFunctionOfEveryMessage() throws {
        try check(IntegerTestKeys.insecure.client, IntegerTestKeys.insecure.serverKey)
        let parameters = try TestParameters.load("insecure_test_32")
        #expect(parameters.order == .bootstrapThenKeySwitch)
        let client = try ClientKey<UInt32>(parameters: parameters, seed: Seed(high: 0x3a, low: 1))
        try check(client, ServerKey(clientKey: client, seed: Seed(high: 0x3b, low: 1)))
    }

    func check<T: TorusScalar>(_ client: ClientKey<T>, _ server: ServerKey<T>) throws {
        let parameters = client.parameters
        let p = client.plaintextModulus
        for functionCount in [2, 4] where UInt64(functionCount) <= p {
            // Wrapped: casting an array of @Sendable closures to plain ones fails at run time.
            let chosen: [(UInt64) -> UInt64] = Self.functions.prefix(functionCount).map { f in { f($0) } }
            let table = try server.lookupTable(functions: chosen)
            #expect(table.outputCount == functionCount)
            let bound = server.manyLookupInputBound(functionCount: functionCount)
            #expect(bound == p / UInt64(functionCount))
            let messages = Array(0..<bound)
            let inputs = try messages.map { try client.encrypt($0) }
            let empty = LWECiphertext<T>(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
            // One at a time.
            for (m, input) in zip(messages, inputs) {
                var outputs = [LWECiphertext<T>](repeating: empty, count: functionCount)
                try server.programmableBootstrap(input, table: table, scratch: server.makeScratch(), into: &outputs)
                for (j, f) in chosen.enumerated() {
                    #expect(try client.decrypt(outputs[j]) == f(m) % p, "f\(j)(\(m)) with \(functionCount) functions on \(parameters.name)")
                }
            }
            // In a batch, beside an ordinary table (the outputs of each input in order).
            let ordinary = server.lookupTable { ($0 + 5) % p }
            let batchInputs = inputs + inputs
            let tables = [LookupTable<T>](repeating: table, count: messages.count) + [LookupTable<T>](repeating: ordinary, count: messages.count)
            var outputs = [LWECiphertext<T>](repeating: empty, count: messages.count * (functionCount + 1))
            try server.programmableBootstrap(batch: batchInputs, tables: tables, scratches: server.makeBatchScratch(capacity: batchInputs.count),
                                             into: &outputs)
            for (i, m) in messages.enumerated() {
                for (j, f) in chosen.enumerated() {
                    #expect(try client.decrypt(outputs[i * functionCount + j]) == f(m) % p, "batched f\(j)(\(m)) on \(parameters.name)")
                }
                #expect(try client.decrypt(outputs[messages.count * functionCount + i]) == (m + 5) % p)
            }
            // A wrong number of outputs is refused.
            var short = [LWECiphertext<T>](repeating: empty, count: functionCount - 1)
            #expect(throws: TFHEError.self) {
                try server.programmableBootstrap(inputs[0], table: table, scratch: server.makeScratch(), into: &short)
            }
        }
        #expect(throws: TFHEError.self) { _ = try server.lookupTable(functions: []) }
    }

    /// The shortint layer refuses a block too large for the table, and counts one bootstrap
    /// per many-lookup on a real key and on a metadata-only key alike.
    @Test func shortintManyLookups() throws {
        let keys = IntegerTestKeys.insecure
        let shortint = try keys.privateCounter().shortint
        let quote = try ShortintServerKey<UInt64>.metadataOnly(parameters: keys.client.parameters)
        let msg = shortint.encoding.messageModulus
        let seven = try keys.client.encryptRadix(7, blockCount: 2).blocks  // 3 and 1
        let sum = shortint.uncheckedAdd(seven[0], seven[1])  // 3 + 1 = 4, degree 6
        for key in [shortint, quote] {
            let before = key.bootstrapCount
            let both = try key.bootstrap(many: [.init(sum, [{ $0 % msg }, { $0 / msg }])])
            #expect(key.bootstrapCount - before == 1)
            #expect(both[0].map(\.degree) == [3, 1])
            #expect(both[0].map(\.noiseLevel) == [1, 1])
            if !key.isMetadataOnly {
                #expect(try keys.client.decrypt(both[0][0].lwe) == 0)
                #expect(try keys.client.decrypt(both[0][1].lwe) == 1)
            }
        }
        let tooLarge = shortint.uncheckedAdd(sum, seven[1])  // degree 9 >= 8
        #expect(throws: TFHEError.self) { _ = try shortint.bootstrap(many: [.init(tooLarge, [{ $0 % msg }, { $0 / msg }])]) }
    }

    /// Ripple carries give the right sums and differences with one bootstrap per block (a
    /// quote by a metadata-only key with the same plan agrees), and the cost model picks the
    /// ripple on two workers and the prefix on sixty-four.
    @Test func rippleCarries() throws {
        let keys = IntegerTestKeys.insecure
        let ripple = try IntegerServerKey(serverKey: keys.serverKey, workerCount: 2, batchSize: 8, carryPropagation: .ripple)
        let prefix = try IntegerServerKey(serverKey: keys.serverKey, workerCount: 2, batchSize: 8, carryPropagation: .parallelPrefix)
        let quote = try IntegerServerKey<UInt64>.metadataOnly(parameters: keys.client.parameters, carryPropagation: .ripple)
        for (x, y) in IntegerInputs.pairs(UInt16.self, edgePairs: 8, random: 4, seed: 0x51) {
            let a = try keys.client.encryptRadix(UInt64(x), blockCount: 8), b = try keys.client.encryptRadix(UInt64(y), blockCount: 8)
            var before = ripple.bootstrapCount
            let sum = try ripple.add(a, b)
            let bootstraps = ripple.bootstrapCount - before
            #expect(try keys.client.decryptRadix(sum) == UInt64(x &+ y), "\(x) + \(y)")
            #expect(bootstraps <= 8, "ripple add of 8 blocks: \(bootstraps)")
            before = quote.bootstrapCount
            _ = try quote.add(a, b)
            #expect(quote.bootstrapCount - before == bootstraps)
            before = prefix.bootstrapCount
            _ = try prefix.add(a, b)
            #expect(prefix.bootstrapCount - before > bootstraps)
            #expect(try keys.client.decryptRadix(try ripple.sub(a, b)) == UInt64(x &- y), "\(x) - \(y)")
        }
        // The cost model: 32 blocks' sums of two clean operands.
        let a = try keys.client.encryptRadix(0x1234_5678_9ABC_DEF0, blockCount: 32), b = try keys.client.encryptRadix(0x0FED_CBA9_8765_4321, blockCount: 32)
        func bootstraps(_ plan: CarryPropagation) throws -> Int {
            let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: keys.client.parameters, carryPropagation: plan)
            _ = try key.add(a, b)
            return key.bootstrapCount
        }
        let rippleCount = try bootstraps(.ripple), prefixCount = try bootstraps(.parallelPrefix)
        #expect(rippleCount == 32)
        #expect(try bootstraps(.fastest(workers: 2, singleToBatchedCost: 1.2)) == rippleCount)
        #expect(try bootstraps(.fastest(workers: 64, singleToBatchedCost: 1.2)) == prefixCount)
        #expect(CarryCostModel(workers: 2, singleToBatchedCost: 1.5).latency(layers: [1, 3, 0, 4]) == 1.5 + 2 + 2)
    }
}
