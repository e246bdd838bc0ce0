import Jobs

/// `prime_factorization`: the prime factors of an integer of up to 100 digits.
///
/// Input `{"number": "8051"}` (a decimal string), or a JSON integer up to 2^53 (a JSON number
/// above that is not exact). Output `{"number": "8051", "factors": ["83", "97"], "complete":
/// true}`: the primes ascending, repeated by multiplicity, as decimal strings.
///
/// Numbers with two large prime factors (two 45-digit primes, say) can take hours with the
/// elliptic curve method; such a job runs until its timeout cancels it.
public struct PrimeFactorizationExecutor: JobExecutor {
    public static let maxDigits = 100

    public let algorithm = "prime_factorization"

    public init() {}

    public func validate(input: JSONValue) throws(JobInputError) {
        _ = try parse(input)
    }

    public func run(input: JSONValue) async throws -> JSONValue {
        let number = try parse(input)
        // GMP objects stay inside the closure; only strings cross back to the caller's thread.
        let factors = try await withTaskExecutorPreference(DedicatedThreadExecutor(label: "prime_factorization")) {
            guard let value = GMPInteger(decimal: number) else { preconditionFailure("parse returns decimal digits") }
            return try PrimeFactorizer.factor(value).map(\.decimalString)
        }
        return .object([
            "number": .string(number),
            "factors": .array(factors.map(JSONValue.string)),
            "complete": .bool(true),
        ])
    }

    /// The number in canonical decimal (no leading zeros).
    func parse(_ input: JSONValue) throws(JobInputError) -> String {
        let fields = try InputFields(input, algorithm: algorithm, known: ["number"])
        let digits: String
        switch fields["number"] {
        case nil:
            throw JobInputError("input.number is required: the integer to factor, as a decimal string such as \"8051\"")
        case .string(let text):
            guard !text.isEmpty, text.utf8.count <= Self.maxDigits,
                  text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                throw JobInputError("input.number must be a positive decimal integer of at most \(Self.maxDigits) digits")
            }
            let significant = text.drop(while: { $0 == "0" })
            guard significant.count > 1 || significant >= "2" else { throw Self.tooSmall }
            digits = String(significant)
        case .number(let value):
            // integerValue is nil for fractions and beyond 2^53, where a double no longer
            // holds every integer and the client's number may already have been rounded.
            guard let integer = JSONValue.number(value).integerValue else {
                throw JobInputError("input.number must be an integer; pass integers above 2^53 (9007199254740992) as decimal strings")
            }
            guard integer >= 2 else { throw Self.tooSmall }
            digits = String(integer)
        default:
            throw JobInputError("input.number must be a decimal string (or a JSON integer up to 2^53)")
        }
        return digits
    }

    private static let tooSmall = JobInputError("input.number must be at least 2")
}
