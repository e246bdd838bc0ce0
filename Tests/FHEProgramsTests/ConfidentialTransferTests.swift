import Foundation
import Testing
@testable import FHEPrograms
import TFHE

@Suite("confidential_transfer")
struct ConfidentialTransferTests {
    let program = ConfidentialTransfer()

    /// The documented semantics in the clear.
    func expected(_ balances: [UInt64], _ amounts: [UInt64], _ transfers: [(Int, Int)], max: UInt64) -> ([UInt64], [Bool]) {
        var b = balances
        var ok: [Bool] = []
        for ((from, to), amount) in zip(transfers, amounts) {
            let success = amount <= b[from] && amount <= max - b[to]
            if success { b[from] -= amount; b[to] += amount }
            ok.append(success)
        }
        return (b, ok)
    }

    func parameters(_ transfers: [(Int, Int)]) -> Data {
        Data(("{\"transfers\": [" + transfers.map { "{\"from\": \($0.0), \"to\": \($0.1)}" }.joined(separator: ", ") + "]}").utf8)
    }

    func check(_ kind: ValueKind, balances: [UInt64], amounts: [UInt64], transfers: [(Int, Int)],
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let inputs = try ProgramTestKeys.shared.inputs([
            ("balances", .vector(kind, length: balances.count), uintVector(balances)),
            ("amounts", .vector(kind, length: amounts.count), uintVector(amounts)),
        ])
        let prepared = try program.prepare(parameters: parameters(transfers), inputs: inputs.shapes)
        #expect(prepared.outputs.map(\.name) == ["balances", "succeeded"])
        let outputs = try runChecked(prepared, inputs, sourceLocation: sourceLocation)
        let (b, ok) = expected(balances, amounts, transfers, max: kind.maximum)
        #expect(outputs["balances"] == uintVector(b), sourceLocation: sourceLocation)
        #expect(outputs["succeeded"] == .vector(ok.map { .bool($0) }), sourceLocation: sourceLocation)
    }

    /// A covered transfer, one the sender cannot cover, one that would overflow the receiver,
    /// one of exactly the balance, and one that depends on an earlier transfer.
    @Test func u16Ledger() throws {
        try check(.uint16, balances: [1000, 5, 65000], amounts: [300, 305, 600, 5, 1300],
                  transfers: [(0, 1), (1, 0), (0, 2), (1, 2), (1, 0)])
    }

    /// The documented limits: 256 accounts and 64 transfers in one job, on random data.
    @Test func longestBatch() throws {
        var rng = SplitMix(256)
        let balances = (0..<ConfidentialTransfer.accountRange.upperBound).map { _ in UInt64.random(in: 0...40000, using: &rng) }
        let transfers = (0..<ConfidentialTransfer.transferRange.upperBound).map { _ -> (Int, Int) in
            let from = Int.random(in: 0..<balances.count, using: &rng)
            return (from, (from + Int.random(in: 1..<balances.count, using: &rng)) % balances.count)
        }
        let amounts = transfers.map { _ in UInt64.random(in: 0...30000, using: &rng) }
        try check(.uint16, balances: balances, amounts: amounts, transfers: transfers)
    }

    @Test func u64Ledger() throws {
        try check(.uint64, balances: [UInt64.max - 1, 10], amounts: [2, 3], transfers: [(1, 0), (0, 1)])
    }

    @Test func refusesBadParametersAndInputs() {
        let inputs: [String: ValueShape] = ["balances": .vector(.uint32, length: 3), "amounts": .vector(.uint32, length: 2)]
        let bad = [
            #"{}"#, #"{"transfers": [{"from": 0, "to": 1}]}"#, #"{"transfers": [{"from": 0, "to": 1}, {"from": 1, "to": 1}]}"#,
            #"{"transfers": [{"from": 0, "to": 1}, {"from": 3, "to": 1}]}"#, #"{"transfers": [{"from": 0, "to": 1}, {"from": -1, "to": 1}]}"#,
            #"{"transfers": [{"from": 0, "to": 1}, {"from": 2, "to": 1, "memo": "x"}]}"#,
            #"{"transfers": [{"from": 0, "to": 1}, {"from": 2}]}"#, #"{"transfers": [], "fee": 1}"#,
        ]
        for parameters in bad {
            #expect(throws: ProgramError.self, "\(parameters)") {
                do { _ = try program.prepare(parameters: Data(parameters.utf8), inputs: inputs) } catch let error as ProgramError {
                    #expect(error.code == .invalidParameters, "\(parameters): \(error)")
                    throw error
                }
            }
        }
        let ok = #"{"transfers": [{"from": 0, "to": 1}]}"#
        let badInputs: [[String: ValueShape]] = [
            ["balances": .vector(.uint32, length: 3)],
            ["balances": .vector(.uint32, length: 3), "amounts": .vector(.uint16, length: 1)],
            ["balances": .vector(.uint8, length: 3), "amounts": .vector(.uint8, length: 1)],
            ["balances": .vector(.uint32, length: 1), "amounts": .vector(.uint32, length: 1)],
            ["balances": .vector(.uint32, length: 257), "amounts": .vector(.uint32, length: 1)],
            ["balances": .vector(.uint32, length: 3), "amounts": .scalar(.uint32)],
            ["balances": .vector(.uint32, length: 3), "amounts": .vector(.uint32, length: 1), "x": .scalar(.bool)],
        ]
        for shapes in badInputs {
            #expect(throws: ProgramError.self, "\(shapes)") {
                do { _ = try program.prepare(parameters: Data(ok.utf8), inputs: shapes) } catch let error as ProgramError {
                    #expect(error.code == .invalidInput, "\(shapes): \(error)")
                    throw error
                }
            }
        }
        #expect(throws: ProgramError.self) {
            _ = try program.prepare(parameters: Data(ok.utf8), inputs: ["balances": .vector(.uint32, length: 3), "amounts": .vector(.uint32, length: 65)])
        }
    }
}

@Suite("Program registry")
struct ProgramRegistryTests {
    @Test func standardPrograms() {
        let registry = ProgramRegistry.standard
        #expect(registry.names.contains("encrypted_statistical_analysis"))
        #expect(registry.names.contains("confidential_transfer"))
        #expect(Set(registry.names).count == registry.names.count)
        #expect(registry.program(named: "confidential_transfer")?.name == "confidential_transfer")
        #expect(registry.program(named: "nope") == nil)
        #expect(ProgramRegistry([ConfidentialTransfer(), ConfidentialTransfer()]).names == ["confidential_transfer"])
    }
}
