/// Why a program refused its parameters or inputs, or stopped. `code` is stable: the job
/// service maps it to the problem code of its HTTP answer.
public struct ProgramError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The algorithm's parameters are malformed or out of range.
        case invalidParameters = "INVALID_PARAMETERS"
        /// An input is missing, unexpected, of the wrong type or shape, or too long.
        case invalidInput = "INVALID_FHE_INPUT"
        /// The input file is not a valid encrypted-values file (truncated, corrupted, foreign).
        case malformedCiphertext = "MALFORMED_CIPHERTEXT"
        /// The inputs were made under another key set than the job's.
        case keySetMismatch = "KEY_SET_MISMATCH"
        /// The computation was stopped (cancelled or timed out) between two bootstrap layers.
        case stopped = "STOPPED"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }

    public var description: String { message }
}
