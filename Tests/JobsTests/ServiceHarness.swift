import ComputeJobs
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import JobsServer
import Prometheus

/// A job service over a test store, with the HTTP app the executable builds and dev tokens.
struct ServiceHarness: Sendable {
    let store: any JobStore
    let service: JobService
    let server: JobsHTTPServer
    let secret: SymmetricKey
    let wakeup: QueueWakeup

    init(store: any JobStore, context: StoreContext, plans: TenantPlans = TenantPlans(), maxBodyBytes: Int = 2 * 1024 * 1024,
         extraExecutors: [any JobExecutor] = [], confidential: (any ConfidentialJobs)? = nil,
         webhooks: (any WebhookTransport)? = nil,
         configure: @Sendable (inout JobsHTTPServer.Configuration, JobService, SymmetricKey) -> Void = { _, _, _ in },
         configureService: (inout JobService.Configuration) -> Void = { _ in }) async throws {
        self.store = store
        secret = SymmetricKey(size: .bits256)
        wakeup = QueueWakeup()
        var configuration = JobService.Configuration()
        configuration.plans = plans
        configureService(&configuration)
        service = JobService(store: store, executors: ExecutorRegistry(ComputeAlgorithms.all() + extraExecutors),
                             confidential: confidential, webhooks: webhooks, configuration: configuration, wakeup: wakeup)
        var http = JobsHTTPServer.Configuration()
        http.maxBodyBytes = maxBodyBytes
        http.operatorIssuers = [Self.operatorIssuer]
        http.ledger = LocalLedger(store: store, signingKey: FHETestService.serviceKey)
        configure(&http, service, secret)
        server = JobsHTTPServer(configuration: http, service: service,
                                authKeys: try await AuthKeys.load(jwksFile: nil, devSecret: secret),
                                rateLimiter: context.rateLimiter, registry: PrometheusCollectorRegistry(),
                                health: HealthChecks([HealthChecks.database(store)]))
    }

    /// The one issuer whose tokens may carry the operator role here.
    static let operatorIssuer = "fhe-jobs-operators"

    func token(tenant: String = "acme", role: String = "developer", subject: String = "alice",
               issuer: String = "fhe-jobs", audience: String = "fhe-jobs-api", lifetime: TimeInterval = 900, now: Date = Date()) async throws -> String {
        try await AuthKeys.mintDevToken(secret: secret, issuer: issuer, audience: audience, subject: subject, tenant: tenant,
                                        role: role, lifetime: lifetime, now: now)
    }

    func test<R: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> R) async throws -> R {
        let app = Application(router: try server.router())
        return try await app.test(.router, body)
    }
}

extension HTTPFields {
    static func bearer(_ token: String, _ extra: [(HTTPField.Name, String)] = []) -> HTTPFields {
        var h: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        for (n, v) in extra { h[n] = v }
        return h
    }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }
    var problemCode: String? { json["code"] as? String }
}

func jsonBuffer(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

nonisolated(unsafe) let sha256Submission: [String: Any] = ["type": "compute", "payload": ["algorithm": "sha256", "input": ["data": "abc"]]]
