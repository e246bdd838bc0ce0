import Foundation
import Testing
@testable import TFHE

/// Keys of a 2_2 parameter set, made once for all integer tests that use the set.
final class IntegerTestKeys: Sendable {
    let client: ClientKey<UInt64>
    let serverKey: ServerKey<UInt64>
    let server: IntegerServerKey<UInt64>

    init(parameterSet: String, seed: UInt64) throws {
        let parameters = try TestParameters.load(parameterSet)
        client = try ClientKey<UInt64>(parameters: parameters, seed: Seed(high: 0x1275, low: seed))
        serverKey = ServerKey(clientKey: client, seed: Seed(high: 0x1276, low: seed))
        server = try IntegerServerKey(serverKey: serverKey)
    }

    /// A key sharing the server key but with its own pool, so that its bootstrap count is
    /// not disturbed by tests running in parallel.
    func privateCounter(workerCount: Int? = nil, batchSize: Int = 8) throws -> IntegerServerKey<UInt64> {
        try IntegerServerKey(serverKey: serverKey, workerCount: workerCount, batchSize: batchSize)
    }

    var parameterSetName: String { client.parameters.name }

    static let insecure22Name = "insecure_test_64_2_2"
    static let insecure = try! IntegerTestKeys(parameterSet: insecure22Name, seed: 1)
    /// The secure 2_2 set, for the integer tests that check its tight noise budget (made on
    /// first use: its key generation takes seconds).
    static let secure22Name = "tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128"
    static let secure22 = try! IntegerTestKeys(parameterSet: secure22Name, seed: 2)
}

/// Test inputs: the edge values of the issue (0, 1, max, max - 1, powers of two) and random
/// values, as pairs.
enum IntegerInputs {
    static func edges<C: FixedWidthInteger & UnsignedInteger>(_: C.Type) -> [C] {
        [0, 1, C.max, C.max - 1, C(1) << (C.bitWidth / 2), C(1) << (C.bitWidth - 1)]
    }

    /// `random` random pairs after a fixed set of edge pairs.
    static func pairs<C: FixedWidthInteger & UnsignedInteger>(_: C.Type, edgePairs: Int, random: Int, seed: UInt64) -> [(C, C)] {
        let e = edges(C.self)
        let all: [(C, C)] = [(e[2], e[1]), (e[0], e[2]), (e[2], e[2]), (e[3], e[2]), (e[4], e[5]), (e[5], e[5]),
                             (e[1], e[0]), (e[4], e[3])]
        var rng = TestGenerator(seed)
        return Array(all.prefix(edgePairs)) + (0..<random).map { _ in (C.random(in: 0...C.max, using: &rng), C.random(in: 0...C.max, using: &rng)) }
    }

    /// Fewer cases for the wide types, whose operations cost more bootstraps.
    static func count<C: FixedWidthInteger>(_: C.Type, _ byWidth: [Int]) -> Int {
        switch C.bitWidth { case 8: byWidth[0]; case 16: byWidth[1]; case 32: byWidth[2]; default: byWidth[3] }
    }
}

extension FheUint {
    init(_ value: Clear, _ keys: IntegerTestKeys = .insecure) throws { try self.init(encrypting: value, with: keys.client) }
    func clear(_ keys: IntegerTestKeys = .insecure) throws -> Clear { try decrypt(with: keys.client) }
}

extension FheBool {
    func clear(_ keys: IntegerTestKeys = .insecure) throws -> Bool { try decrypt(with: keys.client) }
}

/// Runs `homomorphic` on every pair inside the key's context (it encrypts, computes and
/// decrypts) and checks the result against Swift's own operation. A failure names the
/// operation, the operands and the parameter set; random operands' names carry their seed.
private func checkPairs<C: FixedWidthInteger & UnsignedInteger & Sendable, V: Equatable>(
    _ name: String, _ pairs: [(C, C)], _ homomorphic: (C, C) throws -> V, _ clear: (C, C) -> V,
    keys: IntegerTestKeys, sourceLocation: SourceLocation
) throws {
    try FheContext.with(keys.server) {
        for (a, b) in pairs {
            let result = try homomorphic(a, b)
            #expect(result == clear(a, b), "\(name) \(C.self)(\(a), \(b)) on \(keys.parameterSetName)",
                    sourceLocation: sourceLocation)
        }
    }
}

/// Both operands encrypted, an integer result.
func checkBinary<C: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ name: String, _ pairs: [(C, C)], _ fhe: (FheUint<C>, FheUint<C>) throws -> FheUint<C>, _ clear: (C, C) -> C,
    keys: IntegerTestKeys = .insecure, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try checkPairs(name, pairs, { try fhe(try FheUint($0, keys), try FheUint($1, keys)).clear(keys) }, clear,
                   keys: keys, sourceLocation: sourceLocation)
}

/// Both operands encrypted, a boolean result.
func checkPredicate<C: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ name: String, _ pairs: [(C, C)], _ fhe: (FheUint<C>, FheUint<C>) throws -> FheBool, _ clear: (C, C) -> Bool,
    keys: IntegerTestKeys = .insecure, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try checkPairs(name, pairs, { try fhe(try FheUint($0, keys), try FheUint($1, keys)).clear(keys) }, clear,
                   keys: keys, sourceLocation: sourceLocation)
}

/// The second operand in the clear, an integer result.
func checkScalar<C: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ name: String, _ pairs: [(C, C)], _ fhe: (FheUint<C>, C) throws -> FheUint<C>, _ clear: (C, C) -> C,
    keys: IntegerTestKeys = .insecure, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try checkPairs(name, pairs, { try fhe(try FheUint($0, keys), $1).clear(keys) }, clear,
                   keys: keys, sourceLocation: sourceLocation)
}

/// The second operand in the clear, a boolean result.
func checkScalarPredicate<C: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ name: String, _ pairs: [(C, C)], _ fhe: (FheUint<C>, C) throws -> FheBool, _ clear: (C, C) -> Bool,
    keys: IntegerTestKeys = .insecure, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try checkPairs(name, pairs, { try fhe(try FheUint($0, keys), $1).clear(keys) }, clear,
                   keys: keys, sourceLocation: sourceLocation)
}

/// Operand pairs drawn from a seeded generator (the seed is in every failure message, so a
/// failing draw reproduces by rerunning its test). Uniform pairs alone would, at the wide
/// widths, nearly always differ in the top block and give quotients of 0 or 1, so the draws
/// cycle through three shapes:
/// - uniform a and b;
/// - b equal to a above a random bit position and random below it (comparisons decided in a
///   low block, subtractions with long borrow chains);
/// - b of a random bit length (multipliers of every size, divisors with long quotients).
enum RandomOperands {
    static func pairs<C: FixedWidthInteger & UnsignedInteger>(_: C.Type, count: Int, seed: UInt64) -> [(C, C)] {
        var rng = TestGenerator(seed)
        return (0..<count).map { i in
            let a = C.random(in: 0...C.max, using: &rng), r = C.random(in: 0...C.max, using: &rng)
            let position = Int.random(in: 0..<C.bitWidth, using: &rng)
            switch i % 3 {
            case 0: return (a, r)
            case 1: return (a, a ^ (r & ((C(1) << position) - 1)))
            default: return (a, r >> position)
            }
        }
    }

    /// The same draws with every second operand made nonzero (divisors).
    static func nonzeroSecond<C: FixedWidthInteger & UnsignedInteger>(_: C.Type, count: Int, seed: UInt64) -> [(C, C)] {
        pairs(C.self, count: count, seed: seed).map { ($0, $1 == 0 ? 1 : $1) }
    }
}
