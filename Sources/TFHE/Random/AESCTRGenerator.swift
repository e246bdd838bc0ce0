import Crypto
import _CryptoExtras
import Foundation

/// A 128-bit seed for the engine's CSPRNG.
public struct Seed: Sendable, Hashable, Codable {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    /// A fresh seed from the operating system's CSPRNG (getrandom on Linux).
    public static func random() -> Seed {
        var system = SystemRandomNumberGenerator()
        return Seed(high: system.next(), low: system.next())
    }

    var bytes: [UInt8] {
        withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
    }
}

/// The engine's CSPRNG: the AES-128 keystream in counter mode (NIST SP 800-38A §6.5) with
/// the seed as key, read as little-endian words. AES runs in BoringSSL through swift-crypto,
/// which uses AES-NI where the CPU has it. The same seed always gives the same stream, which
/// is what seeded (compressed) keys and reproducible tests need; `init()` seeds from the OS.
///
/// The counter blocks are SP 800-38A's: 128-bit big-endian, incremented by one per block
/// (its standard incrementing function with m = 128), starting from zero. Each refill asks
/// BoringSSL for `blocksPerRefill` blocks from the current counter, which it increments across
/// the whole block, and the next refill continues from the counter after them.
///
/// Not thread-safe: each thread or task owns its generator (`fork` derives independent ones).
public struct AESCTRGenerator: RandomNumberGenerator {
    static let defaultBlocksPerRefill = 512
    private let key: SymmetricKey
    private let blocksPerRefill: Int
    /// The next counter block, high and low 64 bits.
    private var counterHigh: UInt64
    private var counterLow: UInt64
    private var buffer: [UInt64] = []
    private var position = 0

    public init(seed: Seed) {
        self.init(key: seed.bytes, counterHigh: 0, counterLow: 0, blocksPerRefill: Self.defaultBlocksPerRefill)
    }

    public init() { self.init(seed: .random()) }

    /// Any 16-byte key and initial counter block, and a refill size: for known-answer tests
    /// (SP 800-38A's vectors start from another counter than the engine's zero) and for
    /// testing the continuation across refills. The engine itself only uses `init(seed:)`.
    init(key: [UInt8], counterHigh: UInt64, counterLow: UInt64, blocksPerRefill: Int) {
        precondition(key.count == 16 && blocksPerRefill > 0)
        self.key = SymmetricKey(data: key)
        self.counterHigh = counterHigh
        self.counterLow = counterLow
        self.blocksPerRefill = blocksPerRefill
    }

    public mutating func next() -> UInt64 {
        if position == buffer.count { refill() }
        defer { position += 1 }
        return buffer[position]
    }

    /// A uniform integer in [0, bound), without modulo bias: draws at or above the largest
    /// multiple of `bound` are rejected.
    public mutating func uniform(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let draw = next()
            if draw < limit { return draw % bound }
        }
    }

    /// Derives a child generator whose stream is independent of this one's continuation.
    public mutating func fork() -> AESCTRGenerator {
        AESCTRGenerator(seed: Seed(high: next(), low: next()))
    }

    private mutating func refill() {
        let counter = withUnsafeBytes(of: counterHigh.bigEndian) { Array($0) } + withUnsafeBytes(of: counterLow.bigEndian) { Array($0) }
        let zeros = Data(count: 16 * blocksPerRefill)
        // Errors can only come from a wrong key or nonce size, which are fixed here.
        let nonce = try! AES._CTR.Nonce(nonceBytes: counter)
        let stream = try! AES._CTR.encrypt(zeros, using: key, nonce: nonce)
        buffer = stream.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        position = 0
        // The 128-bit counter after the blocks just made.
        let (low, carry) = counterLow.addingReportingOverflow(UInt64(blocksPerRefill))
        counterLow = low
        if carry { counterHigh &+= 1 }
    }
}
