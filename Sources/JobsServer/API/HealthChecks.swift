import Foundation
import Jobs

/// Readiness: each named check answers nil when healthy, or what is wrong.
public struct HealthChecks: Sendable {
    public typealias Check = @Sendable () async -> String?
    private let checks: [(String, Check)]

    public init(_ checks: [(String, Check)]) { self.checks = checks }

    /// The database answers a trivial query within two seconds.
    public static func database(_ store: any JobStore) -> (String, Check) {
        ("database", {
            await withTaskGroup(of: String?.self) { group in
                group.addTask { do { try await store.ping(); return nil } catch { return "unreachable: \(error)" } }
                group.addTask { try? await Task.sleep(for: .seconds(2)); return "no answer within 2 s" }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        })
    }

    struct Outcome { var results: [String: String]; var allHealthy: Bool }

    func run() async -> Outcome {
        var results: [String: String] = [:]
        var healthy = true
        for (name, check) in checks {
            if let problem = await check() { results[name] = problem; healthy = false } else { results[name] = "ok" }
        }
        return Outcome(results: results, allHealthy: healthy)
    }
}
