import Foundation
import Jobs
import OpenAPIRuntime

/// Conversions between the domain's types and the wire types generated from openapi.yml.
enum Representations {
    static func job(_ job: Job) throws -> Components.Schemas.Job {
        Components.Schemas.Job(
            id: job.id.uuidString.lowercased(), _type: .init(rawValue: job.type.rawValue)!, status: .init(rawValue: job.status.rawValue)!,
            priority: .init(rawValue: job.priority.rawValue)!, useFHE: job.useFHE, tenant: job.tenant, owner: job.owner,
            payload: try job.payload.objectValue.map { _ in .init(additionalProperties: try container(job.payload)) },
            createdAt: job.createdAt, updatedAt: job.updatedAt, startedAt: job.startedAt, finishedAt: job.finishedAt,
            attempts: job.attempts, maxAttempts: job.maxAttempts,
            result: try job.result.map { .init(additionalProperties: try container($0)) },
            resultHash: job.resultHash,
            error: job.failure.map { .init(code: $0.code, message: $0.message) },
            confirmation: job.confirmation.map(confirmation),
            fhe: job.fhe.map(confidential), progress: job.progress.map(progress), callbackUrl: job.callbackURL)
    }

    static func webhookDelivery(_ d: WebhookDelivery) throws -> Components.Schemas.WebhookDelivery {
        guard let event = Components.Schemas.WebhookDelivery.EventPayload(rawValue: d.event),
              let state = Components.Schemas.WebhookDelivery.StatePayload(rawValue: d.state.rawValue) else { throw APIProblem.internalError }
        return .init(deliveryId: d.deliveryID, sequence: d.sequence, event: event, state: state, attempts: d.attempts, createdAt: d.createdAt, nextAttemptAt: d.nextAttemptAt,
                     finishedAt: d.finishedAt,
                     history: d.history.map { .init(number: $0.number, at: $0.at, statusCode: $0.statusCode, error: $0.error,
                                                    durationSeconds: $0.durationSeconds) })
    }

    static func confidential(_ c: ConfidentialJob) -> Components.Schemas.ConfidentialJob {
        .init(keySetId: c.keySetID, serverKeyId: c.serverKeyID, parameterSet: c.parameterSet,
              parameterFingerprint: c.parameterFingerprint, inputBlob: c.inputBlob, inputBytes: c.inputBytes, quote: quote(c.quote))
    }

    static func quote(_ q: FHEQuote) -> Components.Schemas.FheQuote {
        .init(bootstraps: Int64(q.bootstraps), predictedSeconds: q.predictedSeconds, secondsPerBootstrap: q.secondsPerBootstrap,
              cores: q.cores, outputs: q.outputs.map { .init(name: $0.name, _type: $0.type) })
    }

    static func serverKey(_ k: UploadedServerKey) -> Components.Schemas.FheServerKey {
        .init(id: k.id, parameterSet: k.parameterSet, parameterFingerprint: k.parameterFingerprint, bytes: Int64(k.bytes),
              createdAt: k.createdAt)
    }

    static func retrieval(_ a: ResultRetrievalAnswer) -> Components.Schemas.FheResult {
        var result = Components.Schemas.FheResult(jobId: a.jobID.uuidString.lowercased(), resultHash: a.resultHash,
                                                  confirmation: a.confirmation.map(confirmation),
                                                  serviceSignature: a.serviceSignature.base64EncodedString())
        switch a.payload {
        case .sealed(let suite, let enc, let ciphertext):
            result.sealed = .init(suite: .init(kem: Int(suite.kem), kdf: Int(suite.kdf), aead: Int(suite.aead)),
                                  enc: enc.base64EncodedString(), ciphertext: ciphertext.base64EncodedString())
        case .ciphertext(let file):
            result.ciphertext = file.base64EncodedString()
        }
        return result
    }

    static func progress(_ p: FHEProgress) -> Components.Schemas.FheProgress {
        .init(bootstrapsDone: Int64(p.bootstrapsDone), bootstrapsTotal: Int64(p.bootstrapsTotal), updatedAt: p.updatedAt)
    }

    static func confirmation(_ c: Confirmation) -> Components.Schemas.Confirmation {
        .init(kind: c.kind == .ledger ? .ledger : .chain, reference: c.reference, blockNumber: c.blockNumber, confirmedAt: c.confirmedAt)
    }

    static func submission(_ body: Components.Schemas.JobSubmission) throws -> JobSubmission {
        JobSubmission(type: JobType(rawValue: body._type.rawValue)!, payload: try jsonValue(body.payload.additionalProperties),
                      priority: body.priority.flatMap { Priority(rawValue: $0.rawValue) } ?? .normal, useFHE: body.useFHE ?? false,
                      callbackURL: body.callbackUrl)
    }

    static func usage(_ u: Usage) -> Components.Schemas.Usage {
        .init(tenant: u.tenant, month: u.month, jobsSubmitted: u.jobsSubmitted, jobsSucceeded: u.jobsSucceeded,
              jobsFailed: u.jobsFailed, computeSeconds: u.computeSeconds, bytesStored: u.bytesStored,
              fheBootstraps: u.fheBootstraps, fheComputeSeconds: u.fheComputeSeconds)
    }

    static func ledgerEntry(_ e: LedgerEntry) -> Components.Schemas.LedgerEntry {
        .init(sequence: e.sequence, jobId: e.jobID.uuidString.lowercased(), resultHash: e.resultHash, status: e.status.rawValue,
              previousHash: e.previousHash, entryHash: e.entryHash, signature: e.signature, recordedAt: e.recordedAt)
    }

    static func audit(_ r: AuditRecord) -> Components.Schemas.AuditEntry {
        .init(id: r.id ?? 0, at: r.at, tenant: r.tenant, actor: r.actor, action: r.action, target: r.target,
              outcome: r.outcome, requestId: r.requestID)
    }

    /// Free-form JSON crosses between the runtime's container and ours by walking the tree
    /// (no encode-and-decode round trip on every request).
    static func jsonValue(_ container: OpenAPIObjectContainer) throws -> JSONValue {
        .object(try container.value.mapValues(jsonValue(of:)))
    }

    static func container(_ value: JSONValue) throws -> OpenAPIObjectContainer {
        guard case .object(let members) = value else { throw APIProblem.internalError }
        return try OpenAPIObjectContainer(unvalidatedValue: members.mapValues(plain))
    }

    private static func jsonValue(of value: (any Sendable)?) throws -> JSONValue {
        switch value {
        case nil: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .number(Double(i))
        case let d as Double: return .number(d)
        case let s as String: return .string(s)
        case let a as [(any Sendable)?]: return .array(try a.map(jsonValue(of:)))
        case let o as [String: (any Sendable)?]: return .object(try o.mapValues(jsonValue(of:)))
        default: throw APIProblem.invalid("the body holds a value that is not JSON")
        }
    }

    /// The runtime's plain form: whole numbers as `Int`, as its own decoder makes them.
    private static func plain(_ value: JSONValue) -> (any Sendable)? {
        switch value {
        case .null: nil
        case .bool(let b): b
        case .number(let n): n.rounded() == n && abs(n) < 9.0e15 ? Int(n) : n
        case .string(let s): s
        case .array(let a): a.map(plain)
        case .object(let o): o.mapValues(plain)
        }
    }
}
