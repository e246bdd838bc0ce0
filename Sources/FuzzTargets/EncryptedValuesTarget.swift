import Foundation
import FHEPrograms
import TFHE

extension FuzzTarget {
    /// The encrypted-values file of an `fhe_compute` job's inputs: named scalars and vectors,
    /// each a list of nested engine objects (full, seeded or compact block lists). Resealed as
    /// in `tfhe-objects`. A file that reads must write back as one that reads to itself: the
    /// first write may differ from the input (seeded and compact objects are expanded), never
    /// the second.
    static let encryptedValues = FuzzTarget(name: "encrypted-values", maximumInputLength: 32768, run: { data in
        let p = FuzzFixtures.parameters
        for input in [data, ObjectHeader.resealed(data)] {
            guard let values = try? EncryptedValues(serialized: input, parameters: p) else { continue }
            do {
                let written = try values.serialized()
                let again = try EncryptedValues(serialized: written, parameters: p).serialized()
                guard again == written else { throw InvariantViolation("encrypted values: a written file reads back as another") }
            } catch let violation as InvariantViolation {
                throw violation
            } catch {
                throw InvariantViolation("encrypted values: a file that read cannot be written and read again: \(error)")
            }
        }
    }, seeds: {
        let client = FuzzFixtures.clientKey
        let keySet = KeySetID(bytes: Array(repeating: 7, count: 32))!
        let values: [(String, ValueShape, ClearValue)] = [
            ("flag", .scalar(.bool), .bool(true)),
            ("a", .scalar(.uint8), .uint(200)),
            ("data", .vector(.uint8, length: 2), .vector([.uint(1), .uint(2)])),
        ]
        return [
            try EncryptedValues.encrypt(values, keySetID: keySet, with: client).serialized(),
            try EncryptedValues.encrypt(Array(values.prefix(1)), keySetID: keySet, with: client).serialized(),
            try EncryptedValues.encrypt(Array(values.prefix(2)), keySetID: keySet,
                                        publicKey: try PublicKey(clientKey: client, seed: Seed(high: 0xf022, low: 3))),
        ]
    })
}
