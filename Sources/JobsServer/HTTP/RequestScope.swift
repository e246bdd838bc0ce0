import HTTPTypes
import Jobs
import Synchronization

/// Per-request values the middleware establishes for the generated handlers, which receive
/// only the OpenAPI input: the request id and the authenticated principal.
enum RequestScope {
    @TaskLocal static var requestID = "-"
    @TaskLocal static var principal: Principal?
    /// The audit record the middleware writes at the end of a state-changing request, and
    /// where a handler notes the object it created (the new job's id) for it.
    @TaskLocal static var audit: RequestAudit?
    /// The request's headers as they came. The generated handlers' header values are
    /// percent-decoded (the runtime reads every parameter as a URI component, and drops one
    /// that does not decode), which RFC 9110 fields such as Range and If-None-Match are not.
    @TaskLocal static var headers: HTTPFields = [:]
}

final class RequestAudit: Sendable {
    /// The request's action, such as `job.submit`.
    let action: String
    private let state = Mutex<(target: String?, storedOutcome: String?)>((nil, nil))

    init(action: String) { self.action = action }

    func set(_ target: String) { state.withLock { $0.target = target } }
    var target: String? { state.withLock { $0.target } }

    /// The store wrote the request's record, with this outcome, in the transaction of the
    /// change itself (a submission); the middleware writes none unless the answer differs.
    func stored(outcome: String) { state.withLock { $0.storedOutcome = outcome } }
    var storedOutcome: String? { state.withLock { $0.storedOutcome } }
}
