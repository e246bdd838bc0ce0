import Foundation
import Hummingbird
import Jobs
import OpenAPIRuntime

/// Records every state-changing request (POST, DELETE) of an authenticated caller in the append-only
/// audit trail: who, tenant, what, on which job, when, request id and the status answered.
struct AuditMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: JobService
    let responder: ProblemResponder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .delete, let principal = RequestScope.principal else { return try await next(request, context) }
        let (action, target) = Self.action(for: request.uri.path)
        let audit = RequestAudit(action: action)
        var response: Response
        do {
            response = try await RequestScope.$audit.withValue(audit) { try await next(request, context) }
        } catch {
            response = responder.response(for: error, request: request)
            // Load shed is not recorded, as RATE_LIMITED is not (refused before this middleware):
            // it changed nothing, and a record per refusal would spend the writes that the
            // workers draining the full queue need (`fhe_jobs_submissions_shed_total` counts it).
            if Self.isQueueFull(error) { return response }
        }
        // A submission's record went into the store with the job; an answer other than the one
        // it records (the response could not be made) gets a record of its own.
        if audit.storedOutcome == "\(response.status.code)" { return response }
        let record = AuditRecord(
            at: Date(), tenant: principal.tenant, actor: principal.subject, action: action,
            target: target ?? audit.target,
            outcome: "\(response.status.code)", requestID: RequestScope.requestID)
        // A 503 says a dependency, usually the database the record goes to, is failing: the
        // answer goes first and the record is written after it, so that the request is not held
        // for a second wait on that database (the record is still written if it answers).
        if response.status == .serviceUnavailable {
            let service = service
            Task { await service.record(record) }
            return response
        }
        await service.record(record)
        return response
    }

    static func isQueueFull(_ error: any Error) -> Bool {
        if case .queueFull? = ((error as? ServerError)?.underlyingError ?? error) as? JobServiceError { return true }
        return false
    }

    /// `job.submit`, `job.cancel`, `job.fhe_result`, with the job id from the path;
    /// `fhe.upload`, `fhe.quote`, `fhe.server_key.upload`, and `fhe.server_key.delete` with
    /// the key's id from the path.
    static func action(for path: String) -> (String, String?) {
        let parts = path.split(separator: "/").map(String.init)
        if parts.count == 4, parts[2] == "server-keys" { return ("fhe.server_key.delete", String(parts[3].prefix(64))) }
        switch (parts.count, parts.last) {
        case (2, "jobs"): return ("job.submit", nil)
        case (3, "ciphertexts"): return ("fhe.upload", nil)
        case (3, "quote"): return ("fhe.quote", nil)
        case (3, "server-keys"): return ("fhe.server_key.upload", nil)
        case (4, "cancel"): return ("job.cancel", parts[2])
        case (4, "fhe-result"): return ("job.fhe_result", parts[2])
        default: return ("request \(path.prefix(100))", nil)
        }
    }
}
