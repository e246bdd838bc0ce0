import ArgumentParser
import Foundation
import TFHE

@main
struct FHE: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhe",
        abstract: "Keys, encryption and benchmarks of the pure-Swift TFHE engine, and the client of fhe-jobs' confidential jobs.",
        subcommands: [Keygen.self, Encrypt.self, Decrypt.self, Inspect.self, Bench.self, Params.self, ClientCommand.self])
}

/// Prints one line for a failure and exits non-zero: the CLI's contract for bad input.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func loadParameters(_ name: String, allowInsecure: Bool) throws -> ParameterSet {
    do { return try ParameterLocation.load(name, allowInsecure: allowInsecure) } catch let error as ParameterError {
        throw CLIError("\(error)")
    }
}

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the parameter sets, or check and show one.")

    @Argument(help: "A parameter file or the name of one in the parameter folder.")
    var params: String?

    func run() throws {
        guard let params else {
            for name in ParameterLocation.availableNames() { print(name) }
            return
        }
        let set = try loadParameters(params, allowInsecure: true)
        let model = NoiseModel(parameters: set)
        print("""
        \(set.name)\(set.insecure ? "  (INSECURE: tests and benchmarks only)" : "")
          source: \(set.source)
          security: \(set.securityBits.map { "\($0) bits" } ?? "none"), stated p-fail 2^\(set.failureProbabilityLog2)
          torus: \(set.torusBits) bits; n=\(set.lweDimension) k=\(set.glweDimension) N=\(set.polynomialSize)
          PBS \(set.bootstrapDecomposition.baseLog)/\(set.bootstrapDecomposition.levelCount), KS \(set.keySwitchDecomposition.baseLog)/\(set.keySwitchDecomposition.levelCount)\(set.usesKeySwitch32 ? " to 2^\(set.postKeySwitchModulusBits) (KS32)" : ""), order \(set.order.rawValue), modulus switch \(set.modulusSwitch.rawValue), blind rotation \(set.blindRotation.summary)
          message \(set.messageBits) bits, carry \(set.carryBits) bits
          noise model: key switch 2^\(String(format: "%.2f", log2(model.keySwitchAddedVariance))), modulus switch 2^\(String(format: "%.2f", log2(model.modulusSwitchVariance))), bootstrap output variance 2^\(String(format: "%.2f", log2(model.bootstrapOutputVariance))); p-fail of one bootstrap of a bootstrapped input 2^\(String(format: "%.1f", model.failureProbabilityLog2)), at noise level \(set.maxNoiseLevel) in the worst case 2^\(String(format: "%.2f", model.failureProbabilityAtMaxNoiseLog2))
          fingerprint: \(String(set.fingerprint, radix: 16))
        """)
    }
}
