import Foundation
import TFHE

extension FuzzTarget {
    /// The engine's serialized objects (ciphertexts, block lists, compact lists, keys): what a
    /// client uploads. Each input goes to every reader twice, as given and resealed (its
    /// SHA-256 recomputed, as an attacker can), so the payload checks behind the checksum are
    /// reached. A reader either refuses with `SerializationError` or `TFHEError`, or reads an
    /// object whose serialization is the input itself (the format is canonical).
    static let tfheObjects = FuzzTarget(name: "tfhe-objects", maximumInputLength: 16384, run: { data in
        for input in [data, ObjectHeader.resealed(data)] {
            for reader in TFHEObjectReader.all {
                let written: Data
                do { written = try reader.readAndWrite(input) } catch is SerializationError { continue } catch is TFHEError { continue } catch {
                    throw InvariantViolation("\(reader.name): untyped error \(error)")
                }
                // A version-1 object is written back as version 2, the only form the writer knows,
                // and a reader may take a seeded (compressed) form and write the full one: then what it wrote
                // must read back as itself.
                let isVersion1 = input.count > 9 && input[input.startIndex + 8] == 1 && input[input.startIndex + 9] == 0
                let (header, writtenHeader) = (try? ObjectHeader.parse(prefix: input), try? ObjectHeader.parse(prefix: written))
                let sameForm = header?.kind == writtenHeader?.kind && header?.compressed == writtenHeader?.compressed
                if !isVersion1 && sameForm && written != input {
                    throw InvariantViolation("\(reader.name): read an object that writes back as other bytes")
                }
                if (try? reader.readAndWrite(written)) != written {
                    throw InvariantViolation("\(reader.name): what it wrote does not read back as itself")
                }
            }
        }
    }, seeds: {
        let client = FuzzFixtures.clientKey
        let seed = Seed(high: 0xf022, low: 2)
        let publicKey = try PublicKey(clientKey: client, seed: seed)
        return [
            try client.encrypt(1).serialized(),
            try client.encryptSeeded(2, seed: seed).serialized(),
            try client.encrypt(blocks: [1, 2, 3, 0]).serialized(kind: .fheUint8),
            try client.encrypt(blocks: [1]).serialized(kind: .blockList),
            try client.encryptSeeded(blocks: [1, 2, 3], seed: seed).serialized(),
            try publicKey.encryptCompact([1, 2, 3, 0]).serialized(kind: .fheUint8),
            client.serialized(),
            publicKey.serialized(),
            // Server keys (about a megabyte here) are left to the unit tests' mutations: too
            // long for a fuzzer's inputs. Their readers still see every input.
            try CompressedPublicKey(clientKey: client, seed: seed).serialized(),
        ]
    })
}

/// One reader of the envelope, with the writer of what it read.
struct TFHEObjectReader: Sendable {
    let name: String
    let readAndWrite: @Sendable (Data) throws -> Data

    static let all: [TFHEObjectReader] = {
        let p = FuzzFixtures.parameters
        return [
            TFHEObjectReader(name: "ciphertext") { try LWECiphertext<UInt64>(serialized: $0, parameters: p).serialized() },
            TFHEObjectReader(name: "seeded ciphertext") { try SeededLWECiphertext<UInt64>(serialized: $0, parameters: p).serialized() },
            TFHEObjectReader(name: "block list") {
                let (kind, list) = try BlockCiphertextList<UInt64>.deserialize($0, parameters: p)
                return try list.serialized(kind: kind)
            },
            TFHEObjectReader(name: "seeded block list") {
                let (kind, list) = try SeededBlockCiphertextList<UInt64>.deserialize($0, parameters: p)
                return try list.serialized(kind: kind)
            },
            TFHEObjectReader(name: "compact list") {
                let (kind, list) = try CompactCiphertextList<UInt64>.deserialize($0, parameters: p)
                return try list.serialized(kind: kind)
            },
            TFHEObjectReader(name: "client key") { try ClientKey<UInt64>(serialized: $0, parameters: p).serialized() },
            TFHEObjectReader(name: "public key") { try PublicKey<UInt64>(serialized: $0, parameters: p).serialized() },
            TFHEObjectReader(name: "compressed public key") { try CompressedPublicKey<UInt64>(serialized: $0, parameters: p).serialized() },
            TFHEObjectReader(name: "compressed server key") { try CompressedServerKey<UInt64>(serialized: $0, parameters: p).serialized() },
            TFHEObjectReader(name: "server key") { try ServerKey<UInt64>(serialized: $0, parameters: p).serialized() },
        ]
    }()
}
