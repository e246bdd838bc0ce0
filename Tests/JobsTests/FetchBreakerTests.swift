import FHEJobs
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import SafeFetch
import Testing

/// The circuit breaker of `encrypted_data_url`'s hosts, end to end: submissions through the
/// HTTP API whose data host (a real server on loopback) fails, then recovers. The breaker's
/// clock is the test's, so the open interval passes without a sleep.
@Suite("Fetch circuit breaker") struct FetchBreakerTests {
    @Test func aFailingHostIsLeftAloneAndUsedAgainOnceItRecovers() async throws {
        try await withStore(.sqlite) { store, context in
            let root = try FHETestService.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let clock = CircuitBreakerTests.ManualClock()
            let breakers = CircuitBreakers(configuration: .init(failureThreshold: 2, openInterval: .seconds(30), halfOpenProbes: 1),
                                           now: { clock.now })
            let host = ScriptedServer([ScriptedServer.Answer(status: .serviceUnavailable)])
            try await host.run { port in
                let policy = FetchPolicy(allowedHosts: [AllowedHost(host: "127.0.0.1", port: port)], allowsHTTP: true,
                                         allowPrivateAddresses: true, maxBytes: 1 << 26, timeout: .seconds(30))
                let api = try FHETestService.make(store: store, root: root, fetcher: SafeInputFetcher(policy: policy, breakers: breakers))
                let h = try await ServiceHarness(store: store, context: context, confidential: api)
                let alice = try await h.token()
                try await h.test { client in
                    let owner = try await FHETestClient.fetch(client, token: alice)
                    let file = try owner.encrypt([("data", .vector(.uint16, length: 4), .vector([3, 1, 4, 1].map { .uint($0) }))])
                    var submission = fheSubmission("encrypted_statistical_analysis", data: Data(), parameters: ["statistics": ["sum"]])
                    var payload = submission["payload"] as! [String: Any]
                    payload["encrypted_data"] = nil
                    payload["encrypted_data_url"] = "http://127.0.0.1:\(port)/data.enc"
                    submission["payload"] = payload
                    let body = submission
                    func submit() async throws -> TestResponse {
                        try await client.execute(uri: "/v1/jobs", method: .post, headers: .bearer(alice), body: jsonBuffer(body))
                    }

                    // The host answers 503 twice: each submission's fetch fails, and may be retried.
                    for _ in 0..<2 {
                        let failed = try await submit()
                        #expect(failed.status == .unprocessableContent && failed.problemCode == "FETCH_FAILED", "\(failed.json)")
                        #expect(failed.json["retryable"] as? Bool == true)
                        #expect(failed.headers[.retryAfter] == nil, "the host's recovery time is not known")
                    }
                    // Open: refused at once with the breaker's time left; the host is not asked.
                    let refused = try await submit()
                    #expect(refused.status == .serviceUnavailable && refused.problemCode == "SERVICE_UNAVAILABLE", "\(refused.json)")
                    #expect(refused.json["retryable"] as? Bool == true)
                    #expect(refused.headers[.retryAfter] == "30")
                    clock.advance(.seconds(20))
                    #expect(try await submit().headers[.retryAfter] == "10")
                    #expect(host.requests.count == 2)

                    // The host is back: after the interval, one probe goes through and closes it.
                    host.script([ScriptedServer.Answer(status: .ok, headers: [.contentType: "application/octet-stream"], body: file)])
                    clock.advance(.seconds(10))
                    let accepted = try await submit()
                    #expect(accepted.status == .accepted, "\(accepted.json)")
                    #expect(try await submit().status == .accepted)
                    #expect(host.requests.count == 4)

                    // A 404 is the URL's fault, not the host's: not retryable, and the breaker stays closed.
                    host.script([ScriptedServer.Answer(status: .notFound)])
                    for _ in 0..<3 {
                        let missing = try await submit()
                        #expect(missing.status == .unprocessableContent && missing.problemCode == "FETCH_FAILED")
                        #expect(missing.json["retryable"] as? Bool == false)
                    }
                    #expect(host.requests.count == 7)
                }
            }
        }
    }
}
