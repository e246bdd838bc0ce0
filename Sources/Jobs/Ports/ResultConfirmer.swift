/// Commits finished jobs' result hashes somewhere others can check them later: the local
/// signed ledger by default, an EVM registry contract when a chain is configured.
public protocol ResultConfirmer: Sendable {
    /// Commits the jobs (idempotently: a job already committed keeps its first commitment)
    /// and returns the confirmations that are final now. A job missing from the answer is not
    /// final yet (for example, still waiting for block confirmations); the caller asks again
    /// later. Several jobs at once let a chain confirmer put them in one transaction.
    func confirm(_ jobs: [Job]) async throws -> [JobID: Confirmation]
}
