import HTTPTypes
import Jobs
import Synchronization

/// Per-request values the middleware establishes for the generated handlers, which receive
/// only the OpenAPI input: the request id and the authenticated principal.
enum RequestScope {
    @TaskLocal static var requestID = "-"
    @TaskLocal static var principal: Principal?
    /// Where a handler notes the object it created (the new job's id) for the audit record.
    @TaskLocal static var auditTarget: AuditTarget?
    /// The request's headers as they came. The generated handlers' header values are
    /// percent-decoded (the runtime reads every parameter as a URI component, and drops one
    /// that does not decode), which RFC 9110 fields such as Range and If-None-Match are not.
    @TaskLocal static var headers: HTTPFields = [:]
}

final class AuditTarget: Sendable {
    private let value = Mutex<String?>(nil)
    func set(_ target: String) { value.withLock { $0 = target } }
    var current: String? { value.withLock { $0 } }
}
