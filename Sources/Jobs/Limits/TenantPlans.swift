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
        try parse(Data(contentsOf: url))
    }

    /// Plans from the file's JSON, each checked against `Plan.limits`.
    public static func parse(_ json: Data) throws -> TenantPlans {
        let plans = try JSONDecoder().decode(TenantPlans.self, from: json)
        for plan in [plans.default] + plans.tenants.values.sorted(by: { $0.name < $1.name }) { try plan.validate() }
        return plans
    }
}

extension Plan {
    /// The ranges a plan's figures must fall in. A bucket refills at least one token in 1,000 s
    /// and holds at most a million, so every time the limiter reports (the window, Retry-After)
    /// is a whole number of seconds below 10^9.
    public enum Limits {
        public static let ratePerSecond: ClosedRange<Double> = 0.001...1_000_000
        public static let burst: ClosedRange<Int> = 1...1_000_000
        public static let jobs: ClosedRange<Int> = 1...1_000_000_000_000
    }

    public func validate() throws(JobServiceError) {
        func invalid(_ what: String) -> JobServiceError { .invalidConfiguration("plan \(name): \(what)") }
        guard Limits.ratePerSecond.contains(ratePerSecond) else { throw invalid("ratePerSecond must be from 0.001 to 1000000, not \(ratePerSecond)") }
        guard Limits.burst.contains(burst) else { throw invalid("burst must be from 1 to 1000000, not \(burst)") }
        guard Limits.jobs.contains(maxActiveJobs) else { throw invalid("maxActiveJobs must be from 1 to 10^12, not \(maxActiveJobs)") }
        guard Limits.jobs.contains(maxJobsPerMonth) else { throw invalid("maxJobsPerMonth must be from 1 to 10^12, not \(maxJobsPerMonth)") }
        if let most = maxBootstrapsPerJob, !Limits.jobs.contains(most) {
            throw invalid("maxBootstrapsPerJob must be from 1 to 10^12, not \(most)")
        }
    }
}
