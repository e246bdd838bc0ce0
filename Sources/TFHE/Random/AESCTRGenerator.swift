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
/// Not thread-safe: each thread or task owns its generator (`fork` derives independent ones).
public struct AESCTRGenerator: RandomNumberGenerator {
    private static let blocksPerRefill = 512
    private let key: SymmetricKey
    private var nextBlock: UInt64 = 0
    private var buffer: [UInt64] = []
    private var position = 0

    public init(seed: Seed) {
        key = SymmetricKey(data: seed.bytes)
    }

    public init() { self.init(seed: .random()) }

    public mutating func next() -> UInt64 {
        if position == buffer.count { refill() }
        defer { position += 1 }
        return buffer[position]
    }

    /// Derives a child generator whose stream is independent of this one's continuation.
    public mutating func fork() -> AESCTRGenerator {
        AESCTRGenerator(seed: Seed(high: next(), low: next()))
    }

    private mutating func refill() {
        // Counter block: 64 zero bits then the 64-bit big-endian block index; BoringSSL
        // increments the whole 128-bit block, so consecutive refills continue one keystream.
        var counter = [UInt8](repeating: 0, count: 8)
        counter += withUnsafeBytes(of: nextBlock.bigEndian) { Array($0) }
        let zeros = Data(count: 16 * Self.blocksPerRefill)
        // Errors can only come from a wrong key or nonce size, which are fixed here.
        let nonce = try! AES._CTR.Nonce(nonceBytes: counter)
        let stream = try! AES._CTR.encrypt(zeros, using: key, nonce: nonce)
        buffer = stream.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        position = 0
        nextBlock &+= UInt64(Self.blocksPerRefill)
    }
}
