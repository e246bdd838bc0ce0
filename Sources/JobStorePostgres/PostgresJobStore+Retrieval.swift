import Foundation
import Jobs
import PostgresNIO

extension PostgresJobStore {
    public func consumeRetrievalNonce(jobID: JobID, nonce: String, limit: Int, now: Date) async throws -> NonceConsumption {
        // The primary key makes one of concurrent inserts of a nonce win; the others do nothing.
        let inserted = try await client.rows("""
            INSERT INTO fhe_retrieval_nonces (job_id, nonce, used_at)
            SELECT \(jobID), \(nonce), \(now.microsecondsSince1970)
            WHERE (SELECT count(*) FROM fhe_retrieval_nonces WHERE job_id = \(jobID)) < \(Int64(limit))
            ON CONFLICT DO NOTHING RETURNING nonce
            """, logger: logger)
        if !inserted.isEmpty { return .consumed }
        let used = try await client.rows("""
            SELECT nonce FROM fhe_retrieval_nonces WHERE job_id = \(jobID) AND nonce = \(nonce)
            """, logger: logger)
        return used.isEmpty ? .limitReached : .reused
    }
}
