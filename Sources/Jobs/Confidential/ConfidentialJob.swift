import Foundation

/// What the service records of a confidential (`useFHE`) job besides its payload: the key
/// set its inputs were made under, the blob that holds them, the key that will sign its
/// retrieval, and its cost quote. Never a ciphertext: those live in the blob store.
public struct ConfidentialJob: Sendable, Equatable, Codable {
    /// The key set the inputs were made under (hex SHA-256 of its compressed server key).
    public var keySetID: String
    /// Client-key mode: the uploaded server key the job is computed under (its SHA-256);
    /// nil in network-key mode, where the key set is the owner's own, held by the key service.
    public var serverKeyID: String?
    /// The parameter set's name and fingerprint (hex), as the key set has them.
    public var parameterSet: String
    public var parameterFingerprint: String
    /// The SHA-256 (hex) of the encrypted-values file of the inputs, in the tenant's blob store.
    public var inputBlob: String
    public var inputBytes: Int
    /// The owner's P-256 public key (SPKI PEM) that signs result retrievals.
    public var clientPublicKey: String
    public var quote: FHEQuote

    public init(keySetID: String, serverKeyID: String?, parameterSet: String, parameterFingerprint: String,
                inputBlob: String, inputBytes: Int, clientPublicKey: String, quote: FHEQuote) {
        self.keySetID = keySetID; self.serverKeyID = serverKeyID; self.parameterSet = parameterSet
        self.parameterFingerprint = parameterFingerprint; self.inputBlob = inputBlob; self.inputBytes = inputBytes
        self.clientPublicKey = clientPublicKey; self.quote = quote
    }
}

/// The cost of a confidential job, fixed at submission.
public struct FHEQuote: Sendable, Equatable, Codable {
    /// Exactly the programmable bootstraps the job performs (counted by running the program
    /// over the inputs' metadata, without cryptography).
    public var bootstraps: Int
    /// bootstraps × the per-bootstrap time measured on the worker machines, divided by their cores.
    public var predictedSeconds: Double
    /// The per-bootstrap seconds and the core count the prediction used.
    public var secondsPerBootstrap: Double
    public var cores: Int
    /// Every output, in the result file's order, with its type (`u16`, `bool`, `u32[4]`).
    public var outputs: [FHEOutput]

    public init(bootstraps: Int, secondsPerBootstrap: Double, cores: Int, outputs: [FHEOutput]) {
        self.bootstraps = bootstraps
        self.secondsPerBootstrap = secondsPerBootstrap
        self.cores = max(1, cores)
        self.predictedSeconds = Double(bootstraps) * secondsPerBootstrap / Double(max(1, cores))
        self.outputs = outputs
    }
}

public struct FHEOutput: Sendable, Equatable, Codable {
    public var name: String
    public var type: String
    public init(name: String, type: String) { self.name = name; self.type = type }
}

/// How far a running confidential job is: bootstraps done of the quoted total.
public struct FHEProgress: Sendable, Equatable, Codable {
    public var bootstrapsDone: Int
    public var bootstrapsTotal: Int
    public var updatedAt: Date
    public init(bootstrapsDone: Int, bootstrapsTotal: Int, updatedAt: Date) {
        self.bootstrapsDone = bootstrapsDone; self.bootstrapsTotal = bootstrapsTotal; self.updatedAt = updatedAt
    }
}
