import Foundation
import TFHE

/// An algorithm on encrypted integers (TFHE-rs's high-level API over radix integers).
///
/// A program is prepared at submission: `prepare` reads the algorithm's parameters and checks
/// them against the shapes of the inputs, so that anything a client can get wrong is refused
/// before a job is queued. The prepared program then runs with a server key only: it never sees
/// a secret key, and it never branches on encrypted data, so what it does (and the number of
/// bootstraps it performs) depends only on the inputs' metadata. `PreparedProgram.quote`
/// relies on that: it runs the same code over metadata alone.
public protocol FHEProgram: Sendable {
    /// The name clients put in `payload.algorithm`.
    var name: String { get }

    /// Reads `parameters` (the bytes of a JSON object, `{}` when there are none; unknown
    /// fields are refused) and checks them against the inputs' shapes.
    func prepare(parameters: Data, inputs: [String: ValueShape]) throws(ProgramError) -> PreparedProgram
}

/// A program with its parameters read and its inputs' shapes checked.
public struct PreparedProgram: Sendable {
    /// The algorithm's name.
    public let algorithm: String
    /// Every output, in the order the result file lists them, with its shape.
    public let outputs: [(name: String, shape: ValueShape)]
    private let body: @Sendable (EncryptedValues, IntegerServerKey<UInt64>) throws -> [(String, EncryptedValue)]

    /// `body` computes the outputs from inputs whose shapes were checked by `prepare`.
    public init(algorithm: String, outputs: [(name: String, shape: ValueShape)],
                body: @escaping @Sendable (EncryptedValues, IntegerServerKey<UInt64>) throws -> [(String, EncryptedValue)]) {
        self.algorithm = algorithm
        self.outputs = outputs
        self.body = body
    }

    /// Computes the outputs under `key` (a server key; see `IntegerServerKey.observing` for
    /// progress and cancellation between bootstrap layers).
    public func run(_ inputs: EncryptedValues, key: IntegerServerKey<UInt64>) throws -> EncryptedValues {
        try EncryptedValues(keySetID: inputs.keySetID, try body(inputs, key))
    }

    /// The exact number of bootstraps `run` performs on `inputs`: the same code, run over a
    /// key that keeps the ciphertexts' metadata (degree, noise level) and performs no
    /// cryptography (`IntegerServerKey.metadataOnly`).
    public func quote(_ inputs: EncryptedValues, parameters: ParameterSet) throws -> Int {
        let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: parameters)
        _ = try run(inputs, key: key)
        return key.bootstrapCount
    }
}
