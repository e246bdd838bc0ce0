import Foundation

/// One parser of outside bytes, driven by the coverage-guided fuzzers (tools/fuzz, run by
/// `scripts/fuzz`) and by the replay of their committed corpora (Tests/FuzzCorpora) in the
/// test suite.
///
/// `run` hands the bytes to the project's real parser. The parser refusing them with its typed
/// error is the ordinary outcome; what a target reports is a broken invariant (a read that does
/// not write back what it read, an error of a type the parser does not promise). Crashes, traps,
/// hangs and huge allocations are caught by the fuzzer itself.
public struct FuzzTarget: Sendable {
    /// The corpus folder's name (Tests/FuzzCorpora/<name>) and `scripts/fuzz`'s argument.
    public let name: String
    /// The largest input worth trying: the biggest real encoding of the kind, with room to grow.
    public let maximumInputLength: Int
    /// Feeds one input to the parser; throws `InvariantViolation`.
    public let run: @Sendable (Data) throws -> Void
    /// Real encodings made by the project's own writers: where the corpus starts.
    public let seeds: @Sendable () throws -> [Data]

    package init(name: String, maximumInputLength: Int, run: @escaping @Sendable (Data) throws -> Void,
         seeds: @escaping @Sendable () throws -> [Data]) {
        self.name = name; self.maximumInputLength = maximumInputLength; self.run = run; self.seeds = seeds
    }
}

/// A parser accepted or refused an input in a way it must not.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String
    package init(_ description: String) { self.description = description }
}

extension FuzzTarget {
    /// The targets of the libFuzzer build, in the order `scripts/fuzz all` runs them. The
    /// access-token and JWKS targets are apart (`AuthFuzzTargets`): see there.
    public static let all: [FuzzTarget] = [.tfheObjects, .encryptedValues, .programParameters, .jobBody, .rlp, .abi]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
