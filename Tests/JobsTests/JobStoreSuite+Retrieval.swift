import Foundation
import Jobs
import Testing

/// The stores' parts of client-key mode and result retrieval.
extension JobStoreSuite {
    @Test(arguments: StoreKind.available)
    func retrievalNoncesAreUsedOnceAndBoundedPerJob(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let job = UUID(), other = UUID(), now = Date()
            #expect(try await store.consumeRetrievalNonce(jobID: job, nonce: "nonce-aaaaaaaaaaaa", limit: 2, now: now) == .consumed)
            #expect(try await store.consumeRetrievalNonce(jobID: job, nonce: "nonce-aaaaaaaaaaaa", limit: 2, now: now) == .reused)
            #expect(try await store.consumeRetrievalNonce(jobID: job, nonce: "nonce-bbbbbbbbbbbb", limit: 2, now: now) == .consumed)
            #expect(try await store.consumeRetrievalNonce(jobID: job, nonce: "nonce-cccccccccccc", limit: 2, now: now) == .limitReached)
            #expect(try await store.consumeRetrievalNonce(jobID: job, nonce: "nonce-bbbbbbbbbbbb", limit: 2, now: now) == .reused)
            // Nonces are per job.
            #expect(try await store.consumeRetrievalNonce(jobID: other, nonce: "nonce-aaaaaaaaaaaa", limit: 2, now: now) == .consumed)
            // Of concurrent first uses of one nonce, exactly one consumes it.
            let outcomes = try await withThrowingTaskGroup(of: NonceConsumption.self) { group in
                for _ in 0..<16 {
                    group.addTask { try await store.consumeRetrievalNonce(jobID: other, nonce: "raced-nonce-000000", limit: 100, now: now) }
                }
                return try await group.reduce(into: [NonceConsumption]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .consumed }.count == 1 && outcomes.filter { $0 == .reused }.count == 15)
        }
    }

    @Test(arguments: StoreKind.available)
    func uploadedServerKeysArePerOwner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let id = String(repeating: "ab", count: 32), at = Date(timeIntervalSince1970: 1_800_000_000)
            let record = UploadedServerKey(id: id, tenant: "acme", owner: "alice", parameterSet: "P", parameterFingerprint: "f",
                                           bytes: 30, createdAt: at)
            let stored = try await store.insertServerKey(record)
            #expect(stored == record)
            var again = record
            again.createdAt = at.addingTimeInterval(60)
            let repeated = try await store.insertServerKey(again)
            #expect(repeated == record, "a repeated upload keeps the first record")
            #expect(try await store.serverKey(tenant: "acme", owner: "alice", id: id) == record)
            #expect(try await store.serverKey(tenant: "acme", owner: "bob", id: id) == nil)
            #expect(try await store.serverKey(tenant: "globex", owner: "alice", id: id) == nil)
            #expect(try await store.deleteServerKey(tenant: "acme", owner: "bob", id: id) == nil)
            #expect(try await store.deleteServerKey(tenant: "acme", owner: "alice", id: id) == record)
            #expect(try await store.serverKey(tenant: "acme", owner: "alice", id: id) == nil)
        }
    }
}
