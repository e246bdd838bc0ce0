import Foundation
import TFHE

/// The fixed keys and settings the targets parse against, made once per process. The insecure
/// test parameter set keeps the objects small (N = 256, n = 64), so inputs stay short and
/// executions fast; the readers' checks do not depend on the dimensions' size.
package enum FuzzFixtures {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let parameters: ParameterSet = fixture("the insecure test parameter set") {
        try ParameterSet.load(contentsOf: repository.appendingPathComponent("params/insecure_test_64.json"), allowInsecure: true)
    }

    static let clientKey: ClientKey<UInt64> = fixture("the client key") {
        try ClientKey<UInt64>(parameters: parameters, seed: Seed(high: 0xf022, low: 1))
    }

    /// A fixture that cannot be made is a broken checkout, not a finding: stop with the reason.
    package static func fixture<T>(_ what: String, _ make: () throws -> T) -> T {
        do { return try make() } catch { fatalError("fuzz fixture: cannot make \(what): \(error)") }
    }
}
