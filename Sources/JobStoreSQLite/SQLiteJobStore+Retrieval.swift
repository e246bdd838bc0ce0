import Foundation
import GRDB
import Jobs

extension SQLiteJobStore {
    public func consumeRetrievalNonce(jobID: JobID, nonce: String, limit: Int, now: Date) async throws -> NonceConsumption {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO fhe_retrieval_nonces (job_id, nonce, used_at)
                SELECT ?, ?, ? WHERE (SELECT count(*) FROM fhe_retrieval_nonces WHERE job_id = ?) < ?
                ON CONFLICT DO NOTHING
                """, arguments: [jobID.uuidString, nonce, now.microsecondsSince1970, jobID.uuidString, limit])
            if db.changesCount == 1 { return .consumed }
            let used = try Bool.fetchOne(db, sql: "SELECT 1 FROM fhe_retrieval_nonces WHERE job_id = ? AND nonce = ?",
                                         arguments: [jobID.uuidString, nonce]) ?? false
            return used ? .reused : .limitReached
        }
    }
}
