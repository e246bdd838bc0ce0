import Foundation

/// The durable queue of webhook deliveries (``WebhookDelivery``). Deliveries are made by the
/// stores themselves when a job with a callback URL reaches a state that is announced; this
/// port leases them to dispatchers and records what each attempt came to.
public protocol WebhookStore: Sendable {
    /// Leases the pending delivery that is due soonest (`nextAttemptAt <= now`, its lease free
    /// or expired, and no earlier delivery of its job still pending, so a job's deliveries go
    /// in order), counting an attempt; nil when none is due. Concurrent callers (replicas)
    /// never lease one delivery twice while its lease runs.
    func leaseWebhookDelivery(owner: String, leaseDuration: TimeInterval, now: Date) async throws -> WebhookDelivery?
    /// Records `attempt` and moves the delivery on (delivered, retried at a time, given up);
    /// false if `owner` no longer holds the lease (it expired and another took it over).
    func recordWebhookAttempt(jobID: JobID, sequence: Int, owner: String, attempt: WebhookAttempt,
                              next: WebhookNextStep, now: Date) async throws -> Bool
    /// The job's deliveries in order, each with its attempts.
    func webhookDeliveries(jobID: JobID) async throws -> [WebhookDelivery]
    /// Deliveries pending (due or not), for the metrics gauge.
    func countPendingWebhookDeliveries() async throws -> Int
}
