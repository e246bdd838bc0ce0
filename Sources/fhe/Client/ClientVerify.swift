import ArgumentParser
import Chain
import Crypto
import FHEClient
import Foundation
import Jobs

/// `fhe client verify`: what was computed, checked against where it was confirmed. With the
/// inputs the client sent (`--data`), the job's result hash is recomputed from them
/// (`ConfidentialResultDigest`: the inputs, the algorithm and its parameters, the key and the
/// result blob), so the service cannot confirm one computation and report another. Then, on
/// chain, the registry must hold that hash for the job, deep enough, from the transaction the
/// job names; on the service's local ledger, the job's entry must hold it and the entries from
/// there must chain to the ledger's signed head, signed by the pinned service key and passing
/// unchanged through the newest head this client verified before.
struct ClientVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a confidential job's result hash against its inputs and its confirmation on chain.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The job id.")
    var job: String

    @Option(help: "The encrypted-values file the job was submitted with: its result hash is recomputed from it.")
    var data: String?

    @Option(help: "JSON-RPC URL of a node of the chain the service confirms on.")
    var rpcURL: String?

    @Option(help: "The JobsRegistry contract's address.")
    var registry: String?

    @Option(help: "Blocks the confirmation must be deep.")
    var confirmations: Int = 3

    @Option(help: "The service's Ed25519 signing key, base64 (else the one pinned by `fhe client keys`), for a ledger confirmation.")
    var serviceKey: String?

    func run() async throws {
        let id = try jobID(job)
        let client = try options.client()
        let object = try await client.send("GET", "/v1/jobs/\(id.uuidString.lowercased())").object()
        guard let resultHash = object["resultHash"] as? String, let fhe = object["fhe"] as? [String: Any],
              let payload = object["payload"] as? [String: Any], let algorithm = payload["algorithm"] as? String,
              let keySetID = fhe["keySetId"] as? String, let inputBlob = fhe["inputBlob"] as? String,
              let resultBlob = (object["result"] as? [String: Any])?["result_blob"] as? String else {
            throw ClientError("job \(id.uuidString.lowercased()) is not a finished confidential job (no result hash yet?)")
        }
        if let data {
            guard let bytes = FileManager.default.contents(atPath: data) else { throw ClientError("cannot read \(data)") }
            guard SHA256.hash(data: bytes).hexString == inputBlob else {
                throw ClientError("MISMATCH: the job was computed on other inputs than \(data) (its input blob is \(inputBlob))")
            }
            let parameters = try JSONValue.decode(try JSONSerialization.data(withJSONObject: payload["parameters"] ?? [String: Any]()))
            let digest = ConfidentialResultDigest.digest(algorithm: algorithm, parameters: parameters, keySetID: keySetID,
                                                         serverKeyID: fhe["serverKeyId"] as? String, inputBlob: inputBlob, resultBlob: resultBlob)
            guard digest == resultHash else {
                throw ClientError("MISMATCH: the job's result hash \(resultHash) is not the digest of its inputs, algorithm, parameters, key and result (\(digest))")
            }
        }
        guard let confirmation = object["confirmation"] as? [String: Any], let kind = confirmation["kind"] as? String,
              let reference = confirmation["reference"] as? String else {
            throw ClientError("job \(id.uuidString.lowercased()) is not confirmed yet")
        }
        guard kind == "chain" else {
            guard let sequence = (confirmation["blockNumber"] as? NSNumber)?.int64Value else {
                throw ClientError("job \(id.uuidString.lowercased())'s ledger confirmation names no entry")
            }
            let entry = try await verifyOnLedger(id, sequence: sequence, reference: reference, resultHash: resultHash, client: client)
            print("verified: job \(id.uuidString.lowercased()) result \(resultHash)\(data == nil ? "" : " (recomputed from \(data!))") "
                  + "is entry \(sequence) of the service's ledger (\(entry))")
            return
        }
        guard let rpcURL, let registry else { throw ClientError("the job is confirmed on chain: give --rpc-url and --registry to check it") }
        let contract: JobsRegistry
        do { contract = JobsRegistry(rpc: try EthereumRPC(url: rpcURL), address: try EthereumAddress(registry)) } catch {
            throw ClientError("--rpc-url or --registry: \(error)")
        }
        do {
            guard let onChain = try await contract.confirmation(of: id) else {
                throw ClientError("MISMATCH: the registry holds no confirmation of job \(id.uuidString.lowercased())")
            }
            guard onChain.resultHash.hexString == resultHash.lowercased() else {
                throw ClientError("MISMATCH: the registry holds result hash \(onChain.resultHash.hexString), the job \(resultHash)")
            }
            let depth = try await contract.rpc.blockNumber() + 1 - onChain.blockNumber
            guard depth >= UInt64(max(1, confirmations)) else {
                throw ClientError("job confirmed in block \(onChain.blockNumber) but only \(depth) blocks deep (\(confirmations) required)")
            }
            let transaction = try await contract.confirmationTransaction(of: id, inBlock: onChain.blockNumber)
            guard transaction?.ethereumHex.lowercased() == reference.lowercased() else {
                throw ClientError("MISMATCH: the job names transaction \(reference), the registry's event \(transaction?.ethereumHex ?? "none")")
            }
            print("verified: job \(id.uuidString.lowercased()) result \(resultHash)\(data == nil ? "" : " (recomputed from \(data!))") "
                  + "confirmed in block \(onChain.blockNumber) (\(depth) deep), transaction \(reference)")
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError("the chain: \(error)")
        }
    }

    /// The job's entry at `sequence`, checked through to the signed head; the head is kept as
    /// the newest seen. Answers a line saying how far the ledger was checked.
    func verifyOnLedger(_ id: UUID, sequence: Int64, reference: String, resultHash: String, client: ServiceClient) async throws -> String {
        let state = try options.clientState(client)
        let (head, published) = try await LedgerClient.head(client)
        let ledger = LedgerClient(client: client, serviceKey: try state.serviceKey(seen: published, given: serviceKey))
        let seen = try state.seenLedgerHead()
        var found: LedgerEntry?
        do {
            try await ledger.verify(head: head, seen: seen, toInclude: sequence) { entry in
                if entry.sequence == sequence { found = entry }
            }
        } catch let error as LedgerVerificationError {
            throw ClientError("MISMATCH: the service's ledger does not verify: \(error)")
        }
        guard let found else { throw ClientError("MISMATCH: the ledger's signed head has \(head.size) entries; the job names entry \(sequence)") }
        guard found.jobID == id, found.entryHash == reference.lowercased(), found.resultHash == resultHash.lowercased() else {
            throw ClientError("MISMATCH: ledger entry \(sequence) commits job \(found.jobID.uuidString.lowercased()) to \(found.resultHash) "
                + "(entry \(found.entryHash)); the job names entry \(reference) and result \(resultHash)")
        }
        try state.saveLedgerHead(head)
        return "checked through the signed head of \(head.size) entries\(seen.map { ", which extends the head of \($0.size) seen before" } ?? "")"
    }
}
