import Foundation
import Tracing

/// The service's tracing vocabulary: span names and attribute keys, in one place.
///
/// Spans go through swift-distributed-tracing's global tracer, which does nothing until a
/// process bootstraps one (`fhe-jobs serve --otlp-endpoint`, see TracingOptions.swift). A job is
/// followed across processes by its id: the API's `job.submit` span, the worker's `job` span
/// (with `job.queue_wait`, `job.execute` and the FHE layers under it), the confirmer's
/// `jobs.confirm` and the retrieval's `keyservice.open_sealed` all carry `fhe.job.id`, so
/// one query on that attribute finds a job's whole life. Attribute names follow OpenTelemetry's
/// convention of a dotted namespace (`fhe.` for ours).
public enum JobSpans {
    // Span names.
    public static let submit = "job.submit"
    public static let job = "job"
    public static let queueWait = "job.queue_wait"
    public static let execute = "job.execute"
    public static let confirm = "jobs.confirm"
    public static let serverKey = "fhe.server_key"
    public static let evaluate = "fhe.evaluate"
    public static let layer = "fhe.layer"
    public static let openSealed = "keyservice.open_sealed"
    public static let ownerKeySet = "keyservice.owner_key_set"

    // Attribute keys.
    public static let jobID = "fhe.job.id"
    public static let jobIDs = "fhe.job.ids"
    public static let jobType = "fhe.job.type"
    public static let attempt = "fhe.job.attempt"
    public static let tenant = "fhe.tenant"
    public static let outcome = "fhe.job.outcome"
    public static let replayed = "fhe.job.replayed"
    public static let bootstraps = "fhe.bootstraps"
    public static let layerIndex = "fhe.layer.index"
    public static let cacheHit = "fhe.server_key.cached"

    /// The job's identifying attributes on a span.
    public static func describe(_ job: Job, on span: any Span) {
        span.attributes[jobID] = job.id.uuidString.lowercased()
        span.attributes[jobType] = job.type.rawValue
        span.attributes[tenant] = job.tenant
        span.attributes[attempt] = job.attempts
    }
}

/// A wall-clock instant for spans that began before the process saw them (a job's wait in
/// the queue began when it was submitted, perhaps in another process).
public struct WallClockInstant: TracerInstant {
    public let nanosecondsSinceEpoch: UInt64

    public init(_ date: Date) {
        nanosecondsSinceEpoch = UInt64(max(0, date.timeIntervalSince1970 * 1e9))
    }

    public static func < (a: Self, b: Self) -> Bool { a.nanosecondsSinceEpoch < b.nanosecondsSinceEpoch }
}
