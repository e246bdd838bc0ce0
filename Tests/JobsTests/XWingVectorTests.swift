import Crypto
import Foundation
@testable import Jobs
import Testing

/// X-Wing as the post-quantum sealing key uses it, checked against the draft's own test
/// vectors (draft-connolly-cfrg-xwing-kem-06, Appendix C; Tests/Vectors keeps the public keys
/// as their SHA3-256) by two implementations: swift-crypto's, which the service seals with, and
/// the independent one of scripts/xwing.py (kyber-py's ML-KEM-768, Python's X25519 and SHA-3).
@Suite("X-Wing draft vectors") struct XWingVectorTests {
    struct Vector: Decodable {
        var seed: String
        var eseed: String
        var pk_sha3_256: String
        var ct: String
        var ss: String
    }

    static let file = RetrievalPeer.root.appendingPathComponent("Tests/Vectors/xwing-draft-06.json")

    static func vectors() throws -> [Vector] {
        struct File: Decodable { var vectors: [Vector] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: file)).vectors
    }

    /// Keys from the vectors' seeds, and their ciphertexts decapsulated (swift-crypto has no
    /// public derandomized encapsulation; the Python one reproduces the ciphertexts).
    @Test func swiftCryptoDerivesTheKeysAndSharedSecrets() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 3)
        for (i, vector) in vectors.enumerated() {
            let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: try #require(Data(hexString: vector.seed)), publicKey: nil)
            #expect(SHA3_256.hash(data: key.publicKey.rawRepresentation).hexString == vector.pk_sha3_256, "vector \(i): public key")
            let secret = try key.decapsulate(try #require(Data(hexString: vector.ct)))
            #expect(secret.withUnsafeBytes { Data($0) }.hexString == vector.ss, "vector \(i): shared secret")
        }
    }

    @Test func theIndependentXWingReproducesEveryVector() throws {
        #expect(FileManager.default.isExecutableFile(atPath: RetrievalPeer.python), "scripts/test makes .build-hpke-venv")
        let (status, output) = try RetrievalPeer.run(["xwing-vectors", Self.file.path])
        #expect(status == 0 && output == "ok", "\(output)")
    }
}
