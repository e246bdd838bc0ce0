/// Commits a finished job's result hash somewhere others can check it later: the local
/// signed ledger by default, an EVM registry contract when a chain is configured.
public protocol ResultConfirmer: Sendable {
    /// Commits the job (idempotently: a job already committed returns its confirmation) and
    /// returns the confirmation once it is final, or nil if it is not final yet (for example,
    /// still waiting for block confirmations); the caller asks again later.
    func confirm(_ job: Job) async throws -> Confirmation?
}
