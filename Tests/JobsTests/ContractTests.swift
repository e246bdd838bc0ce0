import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// openapi.yml is the contract: the generated types make the handlers match its schemas at
/// compile time; these tests check the rest at run time, so the implementation cannot drift
/// from it unnoticed.
@Suite("Contract") struct ContractTests {
    static let spec: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("openapi.yml"), encoding: .utf8)) ?? ""
    }()

    /// (method, path) of every operation in the spec.
    static var operations: [(String, String)] {
        var result: [(String, String)] = []
        var path: String?
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
            if !line.hasPrefix("  ") { path = nil }
            if let p = path, let m = line.wholeMatch(of: #/    (get|post|put|patch|delete):/#) { result.append((String(m.1), p)) }
        }
        return result
    }

    @Test func everyOperationOfTheSpecIsServed() async throws {
        let operations = Self.operations
        #expect(operations.count == 19, "openapi.yml lists \(operations.count) operations")
        try await withStore(.sqlite) { store, context in
            let h = try await ServiceHarness(store: store, context: context)
            let admin = try await h.token(role: "admin")
            try await h.test { client in
                for (method, path) in operations {
                    let uri = path.replacingOccurrences(of: "{jobId}", with: UUID().uuidString)
                        .replacingOccurrences(of: "{keySetId}", with: String(repeating: "0", count: 64))
                        .replacingOccurrences(of: "{part}", with: "public-key")
                        .replacingOccurrences(of: "{serverKeyId}", with: String(repeating: "0", count: 64))
                    let r = try await client.execute(uri: uri, method: HTTPRequest.Method(method.uppercased())!, headers: .bearer(admin),
                                                     body: method == "post" ? jsonBuffer(["clientSignature": "0", "retrievalNonce": "n"]) : nil)
                    // A route the router does not know answers 404 with no problem code
                    // from a handler; every answer here must come from the API's own code.
                    #expect(r.status != .methodNotAllowed, "\(method) \(path)")
                    if r.status == .notFound { #expect(r.json["detail"] as? String == "no such job", "\(method) \(path) is not routed") }
                }
            }
        }
    }
}
