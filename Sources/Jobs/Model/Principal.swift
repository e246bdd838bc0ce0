/// Who is calling, as an authenticated token says: the subject, its tenant and its role.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable, Codable {
        /// Submits jobs and sees its own.
        case developer
        /// Sees and cancels every job of its tenant.
        case teamLead = "team_lead"
        /// Sees and cancels every job of its tenant, and reads its usage and audit trail. An
        /// identity provider gives this role to a tenant's own people, so it stops at the tenant.
        case admin
        /// Runs the service: every tenant's jobs, usage and audit trail. Accepted only in tokens
        /// from the issuers configured for operators (`--operator-issuer`), never from a
        /// tenant's identity provider.
        case serviceOperator = "operator"
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
        case .serviceOperator: true
        case .admin, .teamLead: job.tenant == tenant
        case .developer: job.tenant == tenant && job.owner == subject
        }
    }

    /// The tenant whose rows this principal's requests may read from the store; nil for an
    /// operator (every tenant).
    public var storeTenant: String? { role == .serviceOperator ? nil : tenant }

    /// Whether this principal may read a tenant's usage and audit trail.
    public func canOverseeTenant(_ other: String) -> Bool {
        switch role {
        case .serviceOperator: true
        case .admin: other == tenant
        case .teamLead, .developer: false
        }
    }

    /// The narrowest listing filter this principal is allowed.
    public var visibility: JobQuery.Visibility {
        switch role {
        case .serviceOperator: .all
        case .admin, .teamLead: .tenant(tenant)
        case .developer: .owner(tenant: tenant, subject: subject)
        }
    }
}
