import Foundation

/// What a tenant may do: its request rate and its quotas.
public struct Plan: Sendable, Equatable, Codable {
    public var name: String
    public var ratePerSecond: Double
    public var burst: Int
    public var maxActiveJobs: Int
    public var maxJobsPerMonth: Int
    /// The most bootstraps one confidential job may perform (its quote); nil for no limit.
    public var maxBootstrapsPerJob: Int?

    public init(name: String, ratePerSecond: Double, burst: Int, maxActiveJobs: Int, maxJobsPerMonth: Int,
                maxBootstrapsPerJob: Int? = nil) {
        self.name = name; self.ratePerSecond = ratePerSecond; self.burst = burst
        self.maxActiveJobs = maxActiveJobs; self.maxJobsPerMonth = maxJobsPerMonth
        self.maxBootstrapsPerJob = maxBootstrapsPerJob
    }

    public var rateLimit: RateLimitPolicy { RateLimitPolicy(name: name, ratePerSecond: ratePerSecond, burst: burst) }
    public var quota: Quota { Quota(maxActiveJobs: maxActiveJobs, maxJobsPerMonth: maxJobsPerMonth) }

    /// 10 million bootstraps are about three hours of a 2_2 set's bootstraps on one 2-core
    /// machine (BENCHMARKS.md): a job past that is more likely a mistake than a plan.
    public static let standard = Plan(name: "standard", ratePerSecond: 20, burst: 40, maxActiveJobs: 1_000, maxJobsPerMonth: 100_000,
                                      maxBootstrapsPerJob: 10_000_000)
}

/// Plans by tenant, from a JSON file: `{"default": PLAN, "tenants": {"acme": PLAN}}`.
public struct TenantPlans: Sendable, Equatable, Codable {
    public var `default`: Plan
    public var tenants: [String: Plan]

    public init(default: Plan = .standard, tenants: [String: Plan] = [:]) { self.default = `default`; self.tenants = tenants }

    public func plan(for tenant: String) -> Plan { tenants[tenant] ?? self.default }

    public static func load(from url: URL) throws -> TenantPlans {
        let plans = try JSONDecoder().decode(TenantPlans.self, from: Data(contentsOf: url))
        for plan in [plans.default] + Array(plans.tenants.values) {
            guard plan.ratePerSecond > 0, plan.burst >= 1, plan.maxActiveJobs >= 1, plan.maxJobsPerMonth >= 1,
                  (plan.maxBootstrapsPerJob ?? 1) >= 1 else {
                throw JobServiceError.invalidConfiguration("plan \(plan.name): rates, bursts and quotas must be positive")
            }
        }
        return plans
    }
}
