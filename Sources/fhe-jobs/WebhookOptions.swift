import ArgumentParser
import Crypto
import FHEJobs
import Foundation
import Jobs
import Logging
import SafeFetch

/// Where and how job-completion webhooks (a submission's `callbackUrl`) are delivered; every
/// option also reads an environment variable. Without an allowed host no callback URL is
/// accepted and no delivery is attempted.
struct WebhookOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "A host (host or host:port) whose URLs may be given as callbackUrl; repeat for more (env FHE_JOBS_WEBHOOK_ALLOW_HOSTS, comma-separated). None by default: no webhook is accepted.")
    var webhookAllowHost: [String] = Self.environment["FHE_JOBS_WEBHOOK_ALLOW_HOSTS"].map { $0.split(separator: ",").map(String.init) } ?? []

    @Flag(help: "Also deliver to http:// callback URLs of allowed hosts (https only by default).")
    var webhookAllowHTTP = false

    @Flag(help: "Let callback hosts resolve to loopback and private addresses (tests only).")
    var webhookAllowPrivateAddresses = false

    @Option(help: "Seconds one delivery attempt may take in all (env FHE_JOBS_WEBHOOK_TIMEOUT_SECONDS).")
    var webhookTimeoutSeconds: Int = Self.environment["FHE_JOBS_WEBHOOK_TIMEOUT_SECONDS"].flatMap(Int.init) ?? 10

    @Option(help: "Attempts of one delivery before it is given up (env FHE_JOBS_WEBHOOK_MAX_ATTEMPTS).")
    var webhookMaxAttempts: Int = Self.environment["FHE_JOBS_WEBHOOK_MAX_ATTEMPTS"].flatMap(Int.init) ?? 8

    @Option(help: "Hours after the job's transition when its delivery is given up (env FHE_JOBS_WEBHOOK_MAX_AGE_HOURS).")
    var webhookMaxAgeHours: Int = Self.environment["FHE_JOBS_WEBHOOK_MAX_AGE_HOURS"].flatMap(Int.init) ?? 24

    func validate() throws {
        for host in webhookAllowHost where AllowedHost(parsing: host) == nil {
            throw ValidationError("--webhook-allow-host \(host) is not a host or host:port")
        }
        guard (1...120).contains(webhookTimeoutSeconds) else { throw ValidationError("--webhook-timeout-seconds must be 1 to 120") }
        guard (1...50).contains(webhookMaxAttempts) else { throw ValidationError("--webhook-max-attempts must be 1 to 50") }
        guard (1...168).contains(webhookMaxAgeHours) else { throw ValidationError("--webhook-max-age-hours must be 1 to 168") }
    }

    /// The transport, nil when no host is allowed (webhooks off).
    var transport: SafeWebhookTransport? {
        guard !webhookAllowHost.isEmpty else { return nil }
        // What a receiver answers is not read beyond a few KiB: its status is what counts.
        return SafeWebhookTransport(policy: FetchPolicy(
            allowedHosts: Set(webhookAllowHost.compactMap(AllowedHost.init(parsing:))), allowsHTTP: webhookAllowHTTP,
            allowPrivateAddresses: webhookAllowPrivateAddresses, maxBytes: 4096, timeout: .seconds(webhookTimeoutSeconds)))
    }

    /// The dispatcher that delivers with `transport`, signing with the service's key.
    func dispatcher(store: any JobStore, transport: SafeWebhookTransport, signingKey: Curve25519.Signing.PrivateKey,
                    logger: Logger) -> WebhookDispatcher {
        var configuration = WebhookDispatcher.Configuration()
        configuration.maxAttempts = webhookMaxAttempts
        configuration.maxAge = TimeInterval(webhookMaxAgeHours) * 3600
        // The lease outlives the attempt, so no other replica takes a delivery still in flight.
        configuration.leaseDuration = TimeInterval(webhookTimeoutSeconds) + 30
        return WebhookDispatcher(store: store, transport: transport, signingKey: signingKey, configuration: configuration, logger: logger)
    }
}
