import Foundation

/// What can go wrong talking to a chain, each case a clear message for logs and the CLI.
public enum ChainError: Error, CustomStringConvertible, Equatable {
    /// The node could not be reached, or answered something other than JSON-RPC.
    case transport(String)
    /// No answer within the deadline.
    case timeout(method: String, seconds: Double)
    /// The node answered with a JSON-RPC error.
    case rpc(method: String, code: Int, message: String)
    /// The call or transaction reverted; `reason` is the contract's revert string when it gave one.
    case reverted(reason: String)
    /// A well-formed answer that breaks an expectation (wrong chain id, missing contract, ...).
    case unexpected(String)

    public var description: String {
        switch self {
        case .transport(let detail): "chain RPC unreachable: \(detail)"
        case .timeout(let method, let seconds): "chain RPC \(method) timed out after \(seconds) s"
        case .rpc(let method, let code, let message): "chain RPC \(method) failed (\(code)): \(message)"
        case .reverted(let reason): "execution reverted: \(reason)"
        case .unexpected(let detail): detail
        }
    }

    /// Node errors meaning the nonce is already used (by a mined transaction).
    public var isNonceTooLow: Bool {
        if case .rpc(_, _, let message) = self { return message.lowercased().contains("nonce too low") }
        return false
    }

    /// The node already has this exact transaction.
    public var isAlreadyKnown: Bool {
        if case .rpc(_, _, let message) = self {
            let lower = message.lowercased()
            return lower.contains("already known") || lower.contains("known transaction")
        }
        return false
    }
}
