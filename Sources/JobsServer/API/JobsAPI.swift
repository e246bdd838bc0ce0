import Foundation
import HTTPTypes
import Jobs
import OpenAPIRuntime
import Prometheus

/// The handlers of openapi.yml's operations: each translates its input to one `JobService`
/// call and the answer back. Errors are thrown and answered as problem+json by the
/// middleware, so no rule lives here.
struct JobsAPI: APIProtocol {
    let service: JobService
    let health: HealthChecks
    /// The local ledger, signed with the service's key (whose public half `GET /v1/fhe/keys`
    /// and `GET /v1/ledger/head` publish); nil in processes that sign nothing.
    let ledger: LocalLedger?
    /// The largest encrypted-values upload.
    let maxUploadBytes: Int
    /// The largest server-key upload (client-key mode).
    let maxServerKeyBytes: Int
    /// `POST /v1/auth/token`: the dev issuer and the endpoint's rate limit.
    let tokens: TokenEndpoint
    let rateLimiter: any RateLimiter

    private var principal: Principal {
        get throws(APIProblem) {
            guard let p = RequestScope.principal else { throw .unauthenticated("an Authorization: Bearer token is required") }
            return p
        }
    }

    private func jobID(_ raw: String) throws(APIProblem) -> JobID {
        guard let id = UUID(uuidString: raw) else { throw .invalid("jobId must be a UUID") }
        return id
    }

    func submitJob(_ input: Operations.SubmitJob.Input) async throws -> Operations.SubmitJob.Output {
        guard case .json(let body) = input.body else { throw APIProblem(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/json") }
        let audit = RequestScope.audit
        let submitted = try await service.submit(try Representations.submission(body), by: try principal,
                                                 idempotencyKey: input.headers.idempotencyKey,
                                                 audit: audit.map { JobService.SubmissionAudit(action: $0.action, requestID: RequestScope.requestID) })
        audit?.set(submitted.job.id.uuidString.lowercased())
        // A replay inserted nothing, so its record is the middleware's to write.
        if !submitted.replayed { audit?.stored(outcome: "\(JobService.acceptedStatus)") }
        return .accepted(.init(headers: .init(idempotentReplayed: submitted.replayed ? true : nil),
                               body: .json(try Representations.job(submitted.job))))
    }

    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let q = input.query
        var cursor: JobQuery.Cursor?
        if let raw = q.cursor {
            guard let c = JobQuery.Cursor(encoded: raw) else { throw APIProblem.invalid("cursor is not one this API returned") }
            cursor = c
        }
        let limit = q.limit ?? 20
        guard (1...100).contains(limit) else { throw APIProblem.invalid("limit must be from 1 to 100") }
        let query = JobQuery(visibility: .all, status: q.status.flatMap { JobStatus(rawValue: $0.rawValue) },
                             type: q._type.flatMap { JobType(rawValue: $0.rawValue) }, createdAfter: q.createdAfter,
                             createdBefore: q.createdBefore, after: cursor, limit: limit)
        let page = try await service.list(query, for: try principal)
        return .ok(.init(body: .json(.init(items: try page.jobs.map(Representations.job), nextCursor: page.next?.encoded))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let job = try await service.job(id: try jobID(input.path.jobId), for: try principal)
        return .ok(.init(body: .json(try Representations.job(job))))
    }

    func listJobWebhooks(_ input: Operations.ListJobWebhooks.Input) async throws -> Operations.ListJobWebhooks.Output {
        let deliveries = try await service.webhookDeliveries(id: try jobID(input.path.jobId), for: try principal)
        return .ok(.init(body: .json(.init(items: try deliveries.map(Representations.webhookDelivery)))))
    }

    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        let job = try await service.cancel(id: try jobID(input.path.jobId), by: try principal)
        return .ok(.init(body: .json(try Representations.job(job))))
    }

    func retrieveFheResult(_ input: Operations.RetrieveFheResult.Input) async throws -> Operations.RetrieveFheResult.Output {
        let answer = try await service.retrieveResult(id: try jobID(input.path.jobId), request: { () throws(JobServiceError) in
            guard case .json(let body) = input.body else { throw .invalidRequest("the body must be application/json") }
            if let extra = body.additionalProperties.value.keys.sorted().first {
                throw .invalidRequest("unknown field \(extra.prefix(64)): the body has retrievalNonce, clientSignature and sealingKey")
            }
            return try ResultRetrievalRequest(retrievalNonce: body.retrievalNonce, clientSignature: body.clientSignature,
                                              sealingKey: body.sealingKey)
        }, by: try principal)
        return .ok(.init(body: .json(Representations.retrieval(answer))))
    }

    // MARK: Confidential jobs

    private var confidential: any ConfidentialJobs {
        get throws(JobServiceError) {
            guard let c = service.confidential else {
                throw .unsupportedJobType("confidential (useFHE) jobs are not enabled on this server")
            }
            return c
        }
    }

    func getFheKeys(_ input: Operations.GetFheKeys.Input) async throws -> Operations.GetFheKeys.Output {
        let keys = try await confidential.keys(for: try principal)
        let base = "/v1/fhe/keys/\(keys.keySetID)"
        return .ok(.init(body: .json(.init(
            parameterSet: .init(name: keys.parameterSet, fingerprint: keys.parameterFingerprint, securityBits: keys.securityBits,
                                definition: .init(additionalProperties: try Representations.container(keys.parameterDefinition))),
            keySetId: keys.keySetID,
            publicKey: .init(url: "\(base)/public-key", sha256: keys.publicKey.sha256, bytes: Int64(keys.publicKey.bytes)),
            serverKey: .init(url: "\(base)/server-key", sha256: keys.serverKey.sha256, bytes: Int64(keys.serverKey.bytes)),
            serviceSigningKey: ledger?.publicKey.rawRepresentation.base64EncodedString() ?? ""))))
    }

    func downloadFheKey(_ input: Operations.DownloadFheKey.Input) async throws -> Operations.DownloadFheKey.Output {
        guard let part = FHEKeyPart(rawValue: input.path.part.rawValue) else { throw APIProblem.invalid("part must be public-key or server-key") }
        guard let file = try await confidential.keyFile(keySetID: input.path.keySetId, part: part, for: try principal) else {
            throw APIProblem(.notFound, .notFound, "no such key set for this owner")
        }
        // Blobs are content-addressed: the id is the SHA-256, a strong validator as it is.
        let etag = "\"\(file.sha256)\""
        // Limits and the range as sent, not as the runtime percent-decoded them (RequestScope.headers).
        let rangeHeader = RequestScope.headers[.range]
        if let match = RequestScope.headers[.ifNoneMatch], match.utf8.count > Self.maximumIfNoneMatchLength {
            throw APIProblem.invalid("If-None-Match must be at most \(Self.maximumIfNoneMatchLength) characters")
        }
        // The validator is compared as the runtime decodes it: the runtime sends the ETag
        // percent-encoded (%22…%22), and clients send it back as they got it.
        if let match = input.headers.ifNoneMatch ?? RequestScope.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            return .notModified(.init(headers: .init(eTag: etag)))
        }
        if let header = rangeHeader, let range = try ByteRange.parse(header, length: file.bytes) {
            return .partialContent(.init(
                headers: .init(eTag: etag, contentRange: "bytes \(range.lowerBound)-\(range.upperBound)/\(file.bytes)"),
                body: .binary(Self.body(try await file.read(range), length: range.count))))
        }
        return .ok(.init(headers: .init(eTag: etag, acceptRanges: "bytes"), body: .binary(Self.body(try await file.read(nil), length: file.bytes))))
    }

    /// openapi.yml's `maxLength` of the If-None-Match header.
    static let maximumIfNoneMatchLength = 200

    /// A body sent as it is read.
    private static func body(_ chunks: AsyncThrowingStream<Data, any Error>, length: Int) -> HTTPBody {
        HTTPBody(chunks.map { ArraySlice($0) }, length: .known(Int64(length)), iterationBehavior: .single)
    }

    func uploadFheCiphertexts(_ input: Operations.UploadFheCiphertexts.Input) async throws -> Operations.UploadFheCiphertexts.Output {
        guard case .binary(let body) = input.body else {
            throw APIProblem(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/octet-stream")
        }
        let upload = try await confidential.upload(body.map { Data($0) }, limit: maxUploadBytes, for: try principal, now: Date())
        RequestScope.audit?.set(upload.id)
        return .created(.init(body: .json(.init(id: upload.id, bytes: Int64(upload.bytes), keySetId: upload.keySetID,
                                                expiresAt: upload.expiresAt))))
    }

    func uploadFheServerKey(_ input: Operations.UploadFheServerKey.Input) async throws -> Operations.UploadFheServerKey.Output {
        guard case .binary(let body) = input.body else {
            throw APIProblem(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/octet-stream")
        }
        let key = try await confidential.uploadServerKey(body.map { Data($0) }, limit: maxServerKeyBytes, for: try principal, now: Date())
        RequestScope.audit?.set(key.id)
        return .created(.init(body: .json(Representations.serverKey(key))))
    }

    func getFheServerKey(_ input: Operations.GetFheServerKey.Input) async throws -> Operations.GetFheServerKey.Output {
        guard let key = try await confidential.serverKey(id: input.path.serverKeyId, for: try principal) else {
            throw APIProblem(.notFound, .notFound, "no such server key for this owner")
        }
        return .ok(.init(body: .json(Representations.serverKey(key))))
    }

    func deleteFheServerKey(_ input: Operations.DeleteFheServerKey.Input) async throws -> Operations.DeleteFheServerKey.Output {
        guard try await confidential.deleteServerKey(id: input.path.serverKeyId, for: try principal) else {
            throw APIProblem(.notFound, .notFound, "no such server key for this owner")
        }
        return .noContent(.init())
    }

    func quoteFheJob(_ input: Operations.QuoteFheJob.Input) async throws -> Operations.QuoteFheJob.Output {
        guard case .json(let body) = input.body else { throw APIProblem(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/json") }
        let quote = try await service.quote(try Representations.submission(body), by: try principal)
        return .ok(.init(body: .json(Representations.quote(quote))))
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        if input.query.probe == .live {
            return .ok(.init(body: .json(.init(status: .ok, checks: .init(additionalProperties: ["process": "ok"])))))
        }
        let checks = await health.run()
        let body = Components.Schemas.Health(status: checks.allHealthy ? .ok : .unavailable,
                                             checks: .init(additionalProperties: checks.results))
        return checks.allHealthy ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
    }

    func getLedgerHead(_ input: Operations.GetLedgerHead.Input) async throws -> Operations.GetLedgerHead.Output {
        _ = try principal
        let ledger = try self.localLedger
        let head = try await ledger.head()
        return .ok(.init(body: .json(.init(size: head.size, head: head.headHash, signature: head.signature,
                                           signingKey: ledger.publicKey.rawRepresentation.base64EncodedString()))))
    }

    func listLedgerEntries(_ input: Operations.ListLedgerEntries.Input) async throws -> Operations.ListLedgerEntries.Output {
        _ = try principal
        let from = input.query.from ?? 1, limit = input.query.limit ?? 100
        guard from >= 1 else { throw APIProblem.invalid("from must be at least 1") }
        guard (1...1000).contains(limit) else { throw APIProblem.invalid("limit must be from 1 to 1000") }
        let entries = try await self.localLedger.entries(fromSequence: from, limit: limit)
        return .ok(.init(body: .json(.init(entries: entries.map(Representations.ledgerEntry)))))
    }

    private var localLedger: LocalLedger {
        get throws(APIProblem) {
            guard let ledger else { throw APIProblem(.notFound, .notFound, "this process does not serve the ledger") }
            return ledger
        }
    }

    func getUsage(_ input: Operations.GetUsage.Input) async throws -> Operations.GetUsage.Output {
        if let month = input.query.month, month.wholeMatch(of: /[0-9]{4}-(0[1-9]|1[0-2])/) == nil {
            throw APIProblem.invalid("month must be YYYY-MM")
        }
        if let tenant = input.query.tenant, !TokenVerifier.isValidName(tenant) {
            throw APIProblem.invalid("tenant must be 1 to 128 letters, digits, '-', '_' or '.'")
        }
        let usage = try await service.usage(tenant: input.query.tenant, month: input.query.month, for: try principal)
        return .ok(.init(body: .json(Representations.usage(usage))))
    }

    func listAudit(_ input: Operations.ListAudit.Input) async throws -> Operations.ListAudit.Output {
        if let tenant = input.query.tenant, !TokenVerifier.isValidName(tenant) {
            throw APIProblem.invalid("tenant must be 1 to 128 letters, digits, '-', '_' or '.'")
        }
        var before: Int64?
        if let raw = input.query.cursor {
            // A cursor is the record id the next page starts below. Any number the schema
            // allows (1 to 19 digits) is a position: one above every id the store can hold
            // (beyond Int64.max) is the newest page, as no cursor is.
            guard let id = UInt64(raw) else { throw APIProblem.invalid("cursor is not one this API returned") }
            before = Int64(clamping: id)
        }
        let limit = input.query.limit ?? 100
        guard (1...500).contains(limit) else { throw APIProblem.invalid("limit must be from 1 to 500") }
        let records = try await service.audit(tenant: input.query.tenant, before: before, limit: limit + 1, for: try principal)
        let page = Array(records.prefix(limit))
        let next = records.count > limit ? page.last?.id.map(String.init) : nil
        return .ok(.init(body: .json(.init(items: page.map(Representations.audit), nextCursor: next))))
    }
}
