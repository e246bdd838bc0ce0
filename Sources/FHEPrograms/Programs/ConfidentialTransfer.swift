import Foundation
import TFHE

/// Transfers between the accounts of an encrypted ledger (`confidential_transfer`).
///
/// Inputs: `balances`, a vector of u16, u32 or u64 (2 to 256 accounts), and `amounts`, a vector
/// of the same kind (1 to 64 transfers). Parameters: `transfers`, an array of as many
/// `{"from": i, "to": j}` objects as there are amounts, with clear account indices in range and
/// i ≠ j. Who pays whom is public; how much, and whether it succeeded, is not.
///
/// Transfers apply in order. Transfer t moves amount_t from `from` to `to` when
/// amount_t ≤ balances[from] and balances[to] + amount_t does not exceed the type's maximum
/// (checked as amount_t ≤ ~balances[to], the receiver's headroom), and moves nothing otherwise:
///
///     ok    = amount ≤ balances[from]  ∧  amount ≤ ~balances[to]
///     moved = ok ? amount : 0
///     balances[from] -= moved;  balances[to] += moved
///
/// so no balance ever wraps and the ledger's total is preserved. Outputs: `balances` (the
/// vector after all transfers) and `succeeded` (one boolean per transfer, ok).
public struct ConfidentialTransfer: FHEProgram {
    public static let accountRange = 2...256
    public static let transferRange = 1...64

    public init() {}

    public var name: String { "confidential_transfer" }

    struct Transfer: Decodable, Sendable, Hashable {
        var from: Int
        var to: Int

        enum CodingKeys: String, CodingKey { case from, to }

        init(from decoder: any Decoder) throws {
            try ProgramParameterReader.refuseUnknownKeys(decoder, known: ["from", "to"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            from = try container.decode(Int.self, forKey: .from)
            to = try container.decode(Int.self, forKey: .to)
        }
    }

    struct Parameters: Decodable {
        var transfers: [Transfer]

        enum CodingKeys: String, CodingKey { case transfers }

        init(from decoder: any Decoder) throws {
            try ProgramParameterReader.refuseUnknownKeys(decoder, known: ["transfers"])
            transfers = try decoder.container(keyedBy: CodingKeys.self).decode([Transfer].self, forKey: .transfers)
        }
    }

    public func prepare(parameters: Data, inputs: [String: ValueShape]) throws(ProgramError) -> PreparedProgram {
        let p = try ProgramParameterReader.decode(Parameters.self, from: parameters, program: name)
        if let extra = inputs.keys.sorted().first(where: { $0 != "balances" && $0 != "amounts" }) {
            throw ProgramError(.invalidInput, "\(name) reads \"balances\" and \"amounts\"; \"\(extra.prefix(64))\" is not expected")
        }
        guard let balances = inputs["balances"], let amounts = inputs["amounts"] else {
            throw ProgramError(.invalidInput, "\(name) needs the inputs \"balances\" and \"amounts\"")
        }
        guard let accounts = balances.length, [.uint16, .uint32, .uint64].contains(balances.kind) else {
            throw ProgramError(.invalidInput, "\"balances\" must be a vector of u16, u32 or u64, not \(balances)")
        }
        guard Self.accountRange.contains(accounts) else {
            throw ProgramError(.invalidInput, "\"balances\" has \(accounts) accounts; \(Self.accountRange.lowerBound) to \(Self.accountRange.upperBound) are accepted")
        }
        guard let count = amounts.length, amounts.kind == balances.kind else {
            throw ProgramError(.invalidInput, "\"amounts\" must be a vector of \(balances.kind), like \"balances\", not \(amounts)")
        }
        guard Self.transferRange.contains(count) else {
            throw ProgramError(.invalidInput, "\"amounts\" has \(count) transfers; \(Self.transferRange.lowerBound) to \(Self.transferRange.upperBound) are accepted")
        }
        guard p.transfers.count == count else {
            throw ProgramError(.invalidParameters, "transfers lists \(p.transfers.count) transfers for \(count) amounts")
        }
        for (t, transfer) in p.transfers.enumerated() {
            guard (0..<accounts).contains(transfer.from), (0..<accounts).contains(transfer.to) else {
                throw ProgramError(.invalidParameters, "transfer \(t) names an account outside 0..<\(accounts)")
            }
            guard transfer.from != transfer.to else {
                throw ProgramError(.invalidParameters, "transfer \(t) is from account \(transfer.from) to itself")
            }
        }
        let kind = balances.kind
        let transfers = p.transfers
        let outputs: [(name: String, shape: ValueShape)] = [
            ("balances", .vector(kind, length: accounts)), ("succeeded", .vector(.bool, length: count)),
        ]
        return PreparedProgram(algorithm: name, outputs: outputs) { inputs, key in
            try Self.run(inputs, kind: kind, accounts: accounts, transfers: transfers, key: key)
        }
    }

    static func run(_ inputs: EncryptedValues, kind: ValueKind, accounts: Int, transfers: [Transfer],
                    key: IntegerServerKey<UInt64>) throws -> [(String, EncryptedValue)] {
        guard case .vector(kind, let balanceValues)? = inputs["balances"], balanceValues.count == accounts,
              case .vector(kind, let amountValues)? = inputs["amounts"], amountValues.count == transfers.count else {
            throw ProgramError(.invalidInput, "the inputs are not the shapes the job was prepared for")
        }
        var balances = balanceValues.map(\.radix)
        let zero = key.trivial(0, blockCount: balances[0].blockCount)
        var succeeded: [ShortintCiphertext<UInt64>] = []
        for (transfer, amountValue) in zip(transfers, amountValues) {
            let amount = amountValue.radix
            let covered = try key.le(amount, balances[transfer.from])
            let fits = try key.le(amount, try key.bitNot(balances[transfer.to]))
            let ok = try key.and(covered, fits)
            let moved = try key.select(ok, amount, zero)
            balances[transfer.from] = try key.sub(balances[transfer.from], moved)
            balances[transfer.to] = try key.add(balances[transfer.to], moved)
            succeeded.append(ok)
        }
        return [
            ("balances", .vector(kind, balances.map { EncryptedInteger(kind: kind, radix: $0) })),
            ("succeeded", .vector(.bool, succeeded.map { EncryptedInteger(kind: .bool, radix: RadixCiphertext(blocks: [$0])) })),
        ]
    }
}
