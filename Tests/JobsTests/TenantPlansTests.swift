import Foundation
import Jobs
import Testing

/// The plans file is configuration: anything in it either loads into plans the limiter can
/// use at any time, or is refused with one line naming the plan, never a crash.
@Suite("Tenant plans") struct TenantPlansTests {
    func plans(_ json: String) throws -> TenantPlans { try TenantPlans.parse(Data(json.utf8)) }

    @Test func aTinyRateIsRefusedNotACrash() throws {
        let tiny = #"{"default": {"name": "tiny", "ratePerSecond": 1e-300, "burst": 40, "maxActiveJobs": 10, "maxJobsPerMonth": 10}, "tenants": {}}"#
        #expect(throws: JobServiceError.invalidConfiguration("plan tiny: ratePerSecond must be from 0.001 to 1000000, not 1e-300")) {
            try plans(tiny)
        }
        let slowest = try plans(#"{"default": {"name": "slow", "ratePerSecond": 0.001, "burst": 1000000, "maxActiveJobs": 1, "maxJobsPerMonth": 1}, "tenants": {}}"#)
        #expect(slowest.default.rateLimit.windowSeconds == 999_999_999)
    }

    @Test func fuzzedPlansFilesLoadOrAreRefusedAndNeverCrashTheLimiter() throws {
        var random = SeededGenerator(state: 20261201)
        let values = ["0", "-1", "1e-300", "0.0009", "0.001", "0.5", "1", "40", "1000000", "1000001", "1e308", "-1e308",
                      "9223372036854775807", "9223372036854775808", "1e19", "\"x\"", "null", "true", "[]", "{}"]
        let fields = ["ratePerSecond", "burst", "maxActiveJobs", "maxJobsPerMonth", "maxBootstrapsPerJob"]
        // Mostly values in range, so that whole plans load as often as they are refused.
        let good = ["ratePerSecond": ["0.001", "0.5", "40", "1000000"], "burst": ["1", "40", "1000000"]]
        var loaded = 0, refused = 0
        for _ in 0..<3000 {
            func plan() -> String {
                var parts = [#""name": "p\#(Int.random(in: 0..<5, using: &random))""#]
                for field in fields where Int.random(in: 0..<20, using: &random) > 0 {
                    let pool = Int.random(in: 0..<10, using: &random) < 8 ? good[field] ?? ["1", "40", "1000000"] : values
                    parts.append("\"\(field)\": \(pool.randomElement(using: &random)!)")
                }
                return "{" + parts.joined(separator: ", ") + "}"
            }
            let json = #"{"default": \#(plan()), "tenants": {"acme": \#(plan())}}"#
            guard let parsed = try? plans(json) else { refused += 1; continue }
            loaded += 1
            for plan in [parsed.default] + Array(parsed.tenants.values) {
                let policy = plan.rateLimit
                let now = Date()
                var bucket = TokenBucket(full: policy, at: now)
                for later in [0.0, 0.001, 1, 1e6, 1e9] {
                    let decision = bucket.take(policy: policy, now: now.addingTimeInterval(later))
                    #expect(decision.resetSeconds >= 0 && decision.retryAfterSeconds >= 0 && decision.remaining >= 0)
                }
                #expect(policy.windowSeconds >= 1)
            }
        }
        #expect(loaded > 0 && refused > 0, "the cases cover both outcomes: \(loaded) loaded, \(refused) refused")
    }
}
