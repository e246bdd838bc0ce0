/// Who is calling, as an authenticated token says: the subject, its tenant and its role.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable, Codable {
        /// Submits jobs and sees its own.
        case developer
        /// Sees and cancels every job of its tenant.
        case teamLead = "team_lead"
        /// Sees every tenant, usage and the audit trail.
        case admin
    }

    public var subject: String
    public var tenant: String
    public var role: Role

    public init(subject: String, tenant: String, role: Role) {
        self.subject = subject; self.tenant = tenant; self.role = role
    }

    /// Whether this principal may see (and so act on) the job. A job the principal may not
    /// see is reported as not found, so its existence does not leak across tenants.
    public func canSee(_ job: Job) -> Bool {
        switch role {
        case .admin: true
        case .teamLead: job.tenant == tenant
        case .developer: job.tenant == tenant && job.owner == subject
        }
    }

    /// The narrowest listing filter this principal is allowed.
    public var visibility: JobQuery.Visibility {
        switch role {
        case .admin: .all
        case .teamLead: .tenant(tenant)
        case .developer: .owner(tenant: tenant, subject: subject)
        }
    }
}
