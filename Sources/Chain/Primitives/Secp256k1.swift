import CSecp256k1
import Foundation

/// An Ethereum account key: a secp256k1 private key, signing through libsecp256k1 (Debian's
/// libsecp256k1-dev), which is constant-time and checked against its own test vectors.
/// The key bytes live in memory this class owns and are zeroized when it is released; they
/// are never printed (`description` shows the address only).
public final class AccountKey: @unchecked Sendable, CustomStringConvertible {
    private let secret: UnsafeMutableRawBufferPointer
    public let address: EthereumAddress

    /// A key from its 32 bytes; refuses zero and values not below the group order.
    public init(privateKey bytes: Data) throws {
        guard bytes.count == 32 else { throw EncodingError.invalidLength(expected: 32, actual: bytes.count, what: "a private key") }
        secret = .allocate(byteCount: 32, alignment: 8)
        secret.copyBytes(from: bytes)
        let valid = secp256k1_ec_seckey_verify(Secp256k1Context.shared, secret.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 1
        guard valid else {
            secret.initializeMemory(as: UInt8.self, repeating: 0)
            secret.deallocate()
            throw EncodingError.valueOutOfRange("a private key must be in [1, n-1]")
        }
        address = EthereumAddress(publicKey: Self.publicKey(of: secret))
    }

    /// A new random key from the operating system's CSPRNG.
    public static func generate() throws -> AccountKey {
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            if let key = try? AccountKey(privateKey: bytes) { return key }
        }
    }

    deinit {
        secret.initializeMemory(as: UInt8.self, repeating: 0)
        secret.deallocate()
    }

    public var description: String { "AccountKey(\(address))" }

    /// The key's bytes, for writing the key file only.
    public func withPrivateKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(secret))
    }

    /// Signs a 32-byte digest; returns (r, s, recovery id) with s in the lower half of the
    /// group order, as EIP-2 requires (libsecp256k1 always produces the low-s form).
    public func sign(digest: Data) throws -> RecoverableSignature {
        guard digest.count == 32 else { throw EncodingError.invalidLength(expected: 32, actual: digest.count, what: "a digest") }
        var signature = secp256k1_ecdsa_recoverable_signature()
        let ok = digest.withUnsafeBytes { message in
            secp256k1_ecdsa_sign_recoverable(Secp256k1Context.shared, &signature,
                                             message.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                             secret.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, nil)
        }
        guard ok == 1 else { throw EncodingError.valueOutOfRange("signing failed") }
        var compact = [UInt8](repeating: 0, count: 64)
        var recoveryID: Int32 = 0
        secp256k1_ecdsa_recoverable_signature_serialize_compact(Secp256k1Context.shared, &compact, &recoveryID, &signature)
        return RecoverableSignature(r: Data(compact[0..<32]), s: Data(compact[32..<64]), recoveryID: UInt8(recoveryID))
    }

    private static func publicKey(of secret: UnsafeMutableRawBufferPointer) -> Data {
        var publicKey = secp256k1_pubkey()
        _ = secp256k1_ec_pubkey_create(Secp256k1Context.shared, &publicKey, secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
        return Secp256k1Context.serializeUncompressed(&publicKey)
    }
}

/// An ECDSA signature with the recovery id that lets anyone recover the signer's public key.
public struct RecoverableSignature: Sendable, Equatable {
    public var r: Data
    public var s: Data
    public var recoveryID: UInt8

    /// The signer's address, recovered from the signature and the digest (what a node does).
    public func recoverSigner(digest: Data) throws -> EthereumAddress {
        guard digest.count == 32, r.count == 32, s.count == 32, recoveryID < 4 else {
            throw EncodingError.invalidLength(expected: 32, actual: digest.count, what: "a digest")
        }
        let compact = [UInt8](r + s)
        var signature = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(Secp256k1Context.shared, &signature, compact, Int32(recoveryID)) == 1 else {
            throw EncodingError.valueOutOfRange("not a valid signature")
        }
        var publicKey = secp256k1_pubkey()
        let ok = digest.withUnsafeBytes {
            secp256k1_ecdsa_recover(Secp256k1Context.shared, &publicKey, &signature, $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard ok == 1 else { throw EncodingError.valueOutOfRange("no public key recovers from this signature") }
        return EthereumAddress(publicKey: Secp256k1Context.serializeUncompressed(&publicKey))
    }
}

/// One libsecp256k1 context for the process: immutable after randomization, so shared
/// between threads as the library documents.
enum Secp256k1Context {
    nonisolated(unsafe) static let shared: OpaquePointer = {
        let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))!
        // Blinding against side channels (secp256k1.h, secp256k1_context_randomize).
        var generator = SystemRandomNumberGenerator()
        let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = secp256k1_context_randomize(context, seed)
        return context
    }()

    static func serializeUncompressed(_ publicKey: inout secp256k1_pubkey) -> Data {
        var output = [UInt8](repeating: 0, count: 65)
        var length = 65
        _ = secp256k1_ec_pubkey_serialize(shared, &output, &length, &publicKey, UInt32(SECP256K1_EC_UNCOMPRESSED))
        return Data(output[0..<length])
    }
}
