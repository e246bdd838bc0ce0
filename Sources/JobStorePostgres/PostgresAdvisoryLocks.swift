/// The keys of the transaction-scoped advisory locks (`pg_advisory_xact_lock`) the store
/// takes, in one place so that no two uses share a key by accident. Advisory locks are per
/// database and released at commit or rollback.
///
/// Single-key locks use 64-bit keys outside the 32-bit range, so they never equal a key
/// derived from `hashtext` (a 32-bit value); per-tenant locks use the two-key form, whose key
/// space is separate from the single-key one.
enum PostgresAdvisoryLocks {
    /// Serializes migrations across processes starting at once.
    static let migrations: Int64 = 0x6668_655F_6D69_6772  // "fhe_migr"
    /// Serializes lease rescues, so two processes rescuing at once do not contend for the
    /// same expired jobs' rows (the second finds them rescued).
    static let leaseRescue: Int64 = 0x6668_655F_7265_7363  // "fhe_resc"
    /// With `hashtext(tenant)` as the second key: serializes one tenant's job inserts, so the
    /// quotas are checked against every insert that committed before.
    static let tenantInserts: Int32 = 0x6A6F_6273  // "jobs"
    /// With `hashtext(account)` as the second key, held for a session (not a transaction):
    /// one chain confirmer round at a time per sending account, across every process.
    static let chainAccount: Int32 = 0x6368_6169  // "chai"
}
