import Foundation
import Jobs
import Testing

/// Refresh-token rotation in both stores: each token is exchanged once, a used one revokes its
/// family, an expired one is refused, and of concurrent exchanges of one token exactly one wins.
@Suite("Refresh token store") struct RefreshTokenStoreSuite {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func hash(_ n: Int) -> String { String(repeating: String(n % 10), count: 64) }

    static func family(_ store: any JobStore, first: String, expiresIn: TimeInterval = 3600) async throws -> RefreshTokenFamily {
        let family = RefreshTokenFamily(tenant: "acme", subject: "alice", role: "developer", createdAt: t0)
        try await store.insertRefreshTokenFamily(family, firstToken: RefreshTokenRecord(
            tokenHash: first, familyID: family.id, issuedAt: t0, expiresAt: t0.addingTimeInterval(expiresIn)))
        return family
    }

    @Test(arguments: StoreKind.available)
    func rotatesOnceAndReuseRevokesTheFamily(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let family = try await Self.family(store, first: Self.hash(1))
            let later = Self.t0.addingTimeInterval(60)
            #expect(try await store.exchangeRefreshToken(tokenHash: Self.hash(1), successorHash: Self.hash(2),
                                                         successorExpiresAt: later.addingTimeInterval(3600), now: later) == .rotated(family))
            #expect(try await store.exchangeRefreshToken(tokenHash: Self.hash(2), successorHash: Self.hash(3),
                                                         successorExpiresAt: later.addingTimeInterval(3600), now: later) == .rotated(family))
            // Token 1 again: a copy is in other hands, so the whole family goes, token 3 with it.
            guard case .reused(let revoked) = try await store.exchangeRefreshToken(
                tokenHash: Self.hash(1), successorHash: Self.hash(4), successorExpiresAt: later.addingTimeInterval(3600), now: later) else {
                Issue.record("a used token was not reported as reused"); return
            }
            #expect(revoked.id == family.id && revoked.revokedAt == later && revoked.revocationReason == "reuse")
            guard case .familyRevoked = try await store.exchangeRefreshToken(
                tokenHash: Self.hash(3), successorHash: Self.hash(5), successorExpiresAt: later.addingTimeInterval(3600), now: later) else {
                Issue.record("the family's current token still works after a reuse"); return
            }
            let stored = try #require(try await store.refreshTokenFamily(id: family.id))
            #expect(stored.family.revokedAt == later)
            #expect(stored.tokens.map(\.tokenHash) == [Self.hash(1), Self.hash(2), Self.hash(3)])
            #expect(stored.tokens.map { $0.usedAt != nil } == [true, true, false])
            #expect(try await store.exchangeRefreshToken(tokenHash: Self.hash(9), successorHash: Self.hash(8),
                                                         successorExpiresAt: later, now: later) == .unknown)
        }
    }

    @Test(arguments: StoreKind.available)
    func expiredTokenIsRefusedAndKept(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let family = try await Self.family(store, first: Self.hash(1), expiresIn: 60)
            let atExpiry = Self.t0.addingTimeInterval(60)
            #expect(try await store.exchangeRefreshToken(tokenHash: Self.hash(1), successorHash: Self.hash(2),
                                                         successorExpiresAt: atExpiry.addingTimeInterval(60), now: atExpiry) == .expired(family))
            // Nothing changed: no successor, the family not revoked, the token unused.
            let stored = try #require(try await store.refreshTokenFamily(id: family.id))
            #expect(stored.family.revokedAt == nil && stored.tokens.count == 1 && stored.tokens[0].usedAt == nil)
            // Just before expiry it works.
            let family2 = try await Self.family(store, first: Self.hash(3), expiresIn: 60)
            #expect(try await store.exchangeRefreshToken(tokenHash: Self.hash(3), successorHash: Self.hash(4),
                                                         successorExpiresAt: atExpiry, now: atExpiry.addingTimeInterval(-0.001)) == .rotated(family2))
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentExchangesOfOneTokenHaveOneWinner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            for round in 0..<5 {
                let first = String(format: "%064x", round * 100)
                let family = try await Self.family(store, first: first)
                let outcomes = try await withThrowingTaskGroup(of: RefreshTokenExchange.self) { group in
                    for racer in 1...8 {
                        group.addTask {
                            try await store.exchangeRefreshToken(tokenHash: first, successorHash: String(format: "%064x", round * 100 + racer),
                                                                 successorExpiresAt: Self.t0.addingTimeInterval(7200), now: Self.t0.addingTimeInterval(1))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = outcomes.filter { if case .rotated = $0 { true } else { false } }
                #expect(winners.count == 1, "round \(round): \(outcomes)")
                // The losers saw a used token (or, after the first loser, a revoked family).
                #expect(outcomes.allSatisfy { if case .rotated = $0 { true } else if case .reused = $0 { true } else if case .familyRevoked = $0 { true } else { false } })
                let stored = try #require(try await store.refreshTokenFamily(id: family.id))
                #expect(stored.tokens.count == 2, "exactly one successor was stored")
                #expect(stored.family.revocationReason == "reuse")
            }
        }
    }
}
