import Foundation
import Jobs
import PostgresNIO

/// A row the store cannot turn back into a model value: a value no version of the store
/// writes (an unknown status, a payload that is not JSON). It means the table was edited by
/// hand or by an incompatible version.
public struct CorruptRowError: Error, CustomStringConvertible {
    public var table: String
    public var key: String
    public var reason: String
    public var description: String { "corrupt \(table) row \(key): \(reason)" }
}

/// Decoding of the stores' rows (`SELECT *` / `RETURNING *`) by column name, so the column
/// order of the table does not matter.
extension Job {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        func date(_ column: String) throws -> Date? {
            try cells[column].decode(Int64?.self).map(Date.init(microsecondsSince1970:))
        }
        func json(_ column: String) throws -> JSONValue? {
            try cells[column].decode(String?.self).map { try JSONValue.decode(Data($0.utf8)) }
        }
        let id = try cells["id"].decode(UUID.self)
        func corrupt(_ reason: String) -> CorruptRowError { CorruptRowError(table: "jobs", key: id.uuidString, reason: reason) }

        let typeName = try cells["type"].decode(String.self)
        guard let type = JobType(rawValue: typeName) else { throw corrupt("unknown type \(typeName)") }
        let statusName = try cells["status"].decode(String.self)
        guard let status = JobStatus(rawValue: statusName) else { throw corrupt("unknown status \(statusName)") }
        let rank = try cells["priority"].decode(Int.self)
        guard let priority = Priority(rank: rank) else { throw corrupt("unknown priority \(rank)") }
        guard let payload = try json("payload") else { throw corrupt("no payload") }

        self.init(id: id, tenant: try cells["tenant"].decode(String.self), owner: try cells["owner"].decode(String.self),
                  type: type, priority: priority, useFHE: try cells["use_fhe"].decode(Bool.self), payload: payload,
                  createdAt: Date(microsecondsSince1970: try cells["created_at"].decode(Int64.self)),
                  maxAttempts: try cells["max_attempts"].decode(Int.self),
                  timeoutSeconds: try cells["timeout_seconds"].decode(Int.self))
        self.status = status
        updatedAt = Date(microsecondsSince1970: try cells["updated_at"].decode(Int64.self))
        startedAt = try date("started_at")
        finishedAt = try date("finished_at")
        runAfter = Date(microsecondsSince1970: try cells["run_after"].decode(Int64.self))
        attempts = try cells["attempts"].decode(Int.self)
        leaseOwner = try cells["lease_owner"].decode(String?.self)
        leaseExpiresAt = try date("lease_expires_at")
        result = try json("result")
        resultHash = try cells["result_hash"].decode(String?.self)
        if let code = try cells["error_code"].decode(String?.self) {
            failure = JobFailure(code: code, message: try cells["error_message"].decode(String?.self) ?? "")
        }
        if let kind = try cells["confirmation_kind"].decode(String?.self).flatMap(Confirmation.Kind.init(rawValue:)),
           let confirmedAt = try date("confirmed_at") {
            confirmation = Confirmation(kind: kind, reference: try cells["confirmation_ref"].decode(String?.self) ?? "",
                                        blockNumber: try cells["confirmation_block"].decode(Int64?.self), confirmedAt: confirmedAt)
        }
        fhe = try cells["fhe"].decode(String?.self).map { try JSONDecoder().decode(ConfidentialJob.self, from: Data($0.utf8)) }
        progress = try cells["progress"].decode(String?.self).map { try JSONDecoder().decode(FHEProgress.self, from: Data($0.utf8)) }
        callbackURL = try cells["callback_url"].decode(String?.self)
    }
}

extension KeySetRecord {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(id: try cells["id"].decode(String.self), tenant: try cells["tenant"].decode(String.self),
                  owner: try cells["owner"].decode(String.self), parameterSet: try cells["parameter_set"].decode(String.self),
                  parameterFingerprint: try cells["parameter_fingerprint"].decode(String.self),
                  wrappedSecretKey: try cells["wrapped_secret_key"].decode(Data.self), kekID: try cells["kek_id"].decode(String.self),
                  publicKeyBlob: try cells["public_key_blob"].decode(String.self),
                  publicKeyBytes: Int(try cells["public_key_bytes"].decode(Int64.self)),
                  serverKeyBlob: try cells["server_key_blob"].decode(String.self),
                  serverKeyBytes: Int(try cells["server_key_bytes"].decode(Int64.self)),
                  createdAt: Date(microsecondsSince1970: try cells["created_at"].decode(Int64.self)))
    }
}

extension UploadedServerKey {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(id: try cells["id"].decode(String.self), tenant: try cells["tenant"].decode(String.self),
                  owner: try cells["owner"].decode(String.self), parameterSet: try cells["parameter_set"].decode(String.self),
                  parameterFingerprint: try cells["parameter_fingerprint"].decode(String.self),
                  bytes: Int(try cells["bytes"].decode(Int64.self)),
                  createdAt: Date(microsecondsSince1970: try cells["created_at"].decode(Int64.self)))
    }
}

extension LedgerEntry {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        let sequence = try cells["sequence"].decode(Int64.self)
        let statusName = try cells["status"].decode(String.self)
        guard let status = JobStatus(rawValue: statusName) else {
            throw CorruptRowError(table: "ledger", key: "\(sequence)", reason: "unknown status \(statusName)")
        }
        self.init(sequence: sequence, jobID: try cells["job_id"].decode(UUID.self),
                  resultHash: try cells["result_hash"].decode(String.self), status: status,
                  previousHash: try cells["previous_hash"].decode(String?.self),
                  entryHash: try cells["entry_hash"].decode(String.self), signature: try cells["signature"].decode(String.self),
                  recordedAt: Date(microsecondsSince1970: try cells["recorded_at"].decode(Int64.self)))
    }
}

extension AuditRecord {
    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(id: try cells["id"].decode(Int64.self), at: Date(microsecondsSince1970: try cells["at"].decode(Int64.self)),
                  tenant: try cells["tenant"].decode(String.self), actor: try cells["actor"].decode(String.self),
                  action: try cells["action"].decode(String.self), target: try cells["target"].decode(String?.self),
                  outcome: try cells["outcome"].decode(String.self), requestID: try cells["request_id"].decode(String.self))
    }
}

extension Usage {
    init(tenant: String, month: String, row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        self.init(tenant: tenant, month: month, jobsSubmitted: try cells["jobs_submitted"].decode(Int64.self),
                  jobsSucceeded: try cells["jobs_succeeded"].decode(Int64.self),
                  jobsFailed: try cells["jobs_failed"].decode(Int64.self),
                  computeSeconds: try cells["compute_seconds"].decode(Double.self),
                  bytesStored: try cells["bytes_stored"].decode(Int64.self),
                  fheBootstraps: try cells["fhe_bootstraps"].decode(Int64.self),
                  fheComputeSeconds: try cells["fhe_compute_seconds"].decode(Double.self))
    }
}
