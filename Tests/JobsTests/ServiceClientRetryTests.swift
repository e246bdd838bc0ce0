import FHEClient
import Foundation
import Jobs
import Synchronization
import Testing

/// `fhe client`'s ServiceClient against a real HTTP server on loopback that answers retryable
/// problems (503, 429 with Retry-After) before it succeeds: what it retries, how long it
/// waits, and the one line it says when it gives up.
@Suite("Service client retries") struct ServiceClientRetryTests {
    /// The lines the client reports as it retries.
    final class Notes: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func client(_ port: Int, retry: ClientRetryPolicy = ClientRetryPolicy(), notes: Notes? = nil) throws -> ServiceClient {
        var onRetry: (@Sendable (String) -> Void)?
        if let notes { onRetry = { @Sendable line in notes.append(line) } }
        return try ServiceClient(server: "http://127.0.0.1:\(port)", token: "t", retry: retry, onRetry: onRetry)
    }

    /// Waits without Retry-After stay short, so the tests do not sleep for the default backoff.
    static let quickBackoff = RetryPolicy(baseDelay: 0.05, maxDelay: 0.2)

    @Test func aRetryableFailureIsSentAgainAfterRetryAfterUntilItSucceeds() async throws {
        let server = ScriptedServer([
            .problem(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", retryable: true, retryAfter: "1"),
            .problem(.tooManyRequests, code: "RATE_LIMITED", retryable: true, retryAfter: "1"),
            .json(#"{"items":[]}"#),
        ])
        try await server.run { port in
            let notes = Notes()
            let answer = try await client(port, notes: notes).send("GET", "/v1/jobs")
            let object = try answer.object()
            #expect(answer.status == 200 && object["items"] != nil)
            let requests = server.requests
            #expect(requests.count == 3)
            for (earlier, later) in zip(requests, requests.dropFirst()) {
                #expect(earlier.at.duration(to: later.at) >= .milliseconds(950), "the client waited the server's Retry-After")
            }
            #expect(notes.all == [
                "HTTP 503 SERVICE_UNAVAILABLE: scripted; retrying in 1.0 s (attempt 2 of 4)",
                "HTTP 429 RATE_LIMITED: scripted; retrying in 1.0 s (attempt 3 of 4)",
            ])
        }
    }

    @Test func aFailureTheServerCallsNotRetryableIsNeverRetried() async throws {
        let server = ScriptedServer([.problem(.badRequest, code: "INVALID_REQUEST", retryable: false)])
        try await server.run { port in
            do {
                _ = try await client(port).send("GET", "/v1/jobs")
                Issue.record("a 400 was answered with success")
            } catch let error as ClientError {
                #expect(error.description == "HTTP 400 INVALID_REQUEST: scripted")
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func aPostIsRetriedOnlyWithAnIdempotencyKey() async throws {
        let failing = ScriptedServer.Answer.problem(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", retryable: true, retryAfter: "1")
        let server = ScriptedServer([failing, .json(#"{"id":"j"}"#)])
        try await server.run { port in
            do {
                _ = try await client(port).send("POST", "/v1/jobs", json: ["type": "compute"])
                Issue.record("a POST without Idempotency-Key was retried")
            } catch let error as ClientError {
                #expect(error.description == "HTTP 503 SERVICE_UNAVAILABLE: scripted (not retried: a POST without an Idempotency-Key might be done twice)")
            }
            #expect(server.requests.count == 1)
            server.script([failing, .json(#"{"id":"j"}"#)])
            let answer = try await client(port).send("POST", "/v1/jobs", json: ["type": "compute"], headers: ["Idempotency-Key": "k-1"])
            let object = try answer.object()
            #expect(object["id"] as? String == "j")
            let posts = server.requests.dropFirst()
            #expect(posts.count == 2 && posts.allSatisfy { $0.headers[.init("Idempotency-Key")!] == "k-1" }, "the retry carries the same key")
        }
    }

    @Test func itGivesUpAfterTheLastAttemptWithOneLine() async throws {
        // No Retry-After: the client backs off exponentially with jitter.
        let server = ScriptedServer([.problem(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", retryable: true)])
        try await server.run { port in
            let retry = ClientRetryPolicy(maxAttempts: 3, backoff: Self.quickBackoff)
            do {
                _ = try await client(port, retry: retry).send("GET", "/v1/jobs")
                Issue.record("a failing server was answered with success")
            } catch let error as ClientError {
                #expect(error.description.hasPrefix("HTTP 503 SERVICE_UNAVAILABLE: scripted (gave up after 3 attempts in "), "\(error)")
                #expect(!error.description.contains("\n"))
            }
            let requests = server.requests
            #expect(requests.count == 3)
            // Equal jitter: each wait is at least half its exponential step (0.05 s, then 0.1 s).
            #expect(requests[0].at.duration(to: requests[1].at) >= .milliseconds(25))
            #expect(requests[1].at.duration(to: requests[2].at) >= .milliseconds(50))
        }
    }

    @Test func aRetryAfterBeyondTheMaximumWaitGivesUpAtOnce() async throws {
        let server = ScriptedServer([.problem(.tooManyRequests, code: "QUOTA_EXCEEDED", retryable: true, retryAfter: "86400"), .json("{}")])
        try await server.run { port in
            do {
                _ = try await client(port).send("GET", "/v1/jobs")
                Issue.record("the client waited a day")
            } catch let error as ClientError {
                #expect(error.description == "HTTP 429 QUOTA_EXCEEDED: scripted (gave up: the server asks to retry in 86400 s, longer than this client waits, 60 s)")
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func anUnreachableServerIsRetriedThenReported() async throws {
        // A port that was bound and released: nothing listens there.
        let released = Notes()
        try await ScriptedServer().run { bound in released.append("\(bound)") }
        let port = try #require(released.all.first.flatMap { Int($0) })
        let retry = ClientRetryPolicy(maxAttempts: 2, backoff: Self.quickBackoff)
        do {
            _ = try await client(port, retry: retry).send("GET", "/v1/jobs")
            Issue.record("no server answered, yet the request succeeded")
        } catch let error as ClientError {
            #expect(error.description.hasPrefix("cannot reach http://127.0.0.1:\(port)"), "\(error)")
            #expect(error.description.contains("(gave up after 2 attempts in "), "\(error)")
        }
    }

    @Test func retryAfterIsReadAsSecondsOrAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)   // Tue, 14 Nov 2023 22:13:20 GMT
        #expect(ClientRetryPolicy.retryAfter("7", now: now) == .seconds(7))
        #expect(ClientRetryPolicy.retryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now: now) == .seconds(30))
        #expect(ClientRetryPolicy.retryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now: now) == .zero, "a date in the past is no wait")
        for unreadable in [nil, "", "soon", "-1", "1.5", "٣"] {
            #expect(ClientRetryPolicy.retryAfter(unreadable, now: now) == nil, "\(unreadable ?? "nil")")
        }
        #expect(ClientRetryPolicy.isRepeatable(method: "GET", headers: [:]))
        #expect(!ClientRetryPolicy.isRepeatable(method: "POST", headers: [:]))
        #expect(ClientRetryPolicy.isRepeatable(method: "POST", headers: ["idempotency-key": "x"]))
    }
}
