/// Runs one algorithm of the job type `compute` (or, later, `fhe_compute`).
///
/// `validate` runs at submission, so bad input is a 400 before anything is stored; `run`
/// runs on a worker and must return promptly once its task is cancelled (job cancelled,
/// timed out, or the worker shutting down).
public protocol JobExecutor: Sendable {
    /// The name clients put in `payload.algorithm`.
    var algorithm: String { get }
    func validate(input: JSONValue) throws(JobInputError)
    func run(input: JSONValue) async throws -> JSONValue
}

/// Input that an executor refuses, with a message for the client.
public struct JobInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
