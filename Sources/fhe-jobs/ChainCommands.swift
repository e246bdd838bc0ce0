import ArgumentParser
import Chain
import Crypto
import Foundation
import Jobs

/// `fhe-jobs chain ...`: set up and check on-chain confirmation.
struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain", abstract: "Deploy the JobsRegistry contract, manage confirmators, and verify confirmations.",
        subcommands: [NewKey.self, Deploy.self, AddConfirmator.self, Verify.self])

    struct NewKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new-key", abstract: "Create an account key file (mode 0600) and print its address.")
        @Option(help: "The key file to create.") var out: String
        func run() async throws { print(try oneLine { try AccountKeyFile.create(out).address }) }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deploy the registry from a funded key, which becomes its owner and first confirmator; prints its address.")
        @Option(help: "JSON-RPC URL of the node.") var rpcURL: String
        @Option(help: "The deployer's key file.") var keyFile: String
        func run() async throws {
            let (registry, receipt) = try await oneLine {
                try await JobsRegistry.deploy(rpc: try EthereumRPC(url: rpcURL), key: try AccountKeyFile.load(keyFile))
            }
            print(registry.address)
            FileHandle.standardError.write(Data("deployed in block \(receipt.blockNumber), transaction \(receipt.transactionHash.ethereumHex), gas \(receipt.gasUsed)\n".utf8))
        }
    }

    struct AddConfirmator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-confirmator", abstract: "Let an account confirm jobs (the owner's key signs).")
        @Option(help: "JSON-RPC URL of the node.") var rpcURL: String
        @Option(help: "The registry's address.") var registry: String
        @Option(help: "The owner's key file.") var keyFile: String
        @Argument(help: "The account to add.") var account: String
        func run() async throws {
            let receipt = try await oneLine {
                try await JobsRegistry(rpc: try EthereumRPC(url: rpcURL), address: try EthereumAddress(registry))
                    .addConfirmator(try EthereumAddress(account), owner: try AccountKeyFile.load(keyFile))
            }
            print("added in block \(receipt.blockNumber)")
        }
    }

    /// What a client runs to check a result it holds against the chain, trusting nothing of the service.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a job's result against its confirmation on chain.")
        @Option(help: "JSON-RPC URL of a node.") var rpcURL: String
        @Option(help: "The registry's address.") var registry: String
        @Option(help: "The job id.") var jobID: String
        @Option(help: "The result hash, 64 hex digits (SHA-256 of the result's canonical JSON).") var resultHash: String?
        @Option(help: "A file holding the job's result JSON (the `result` of GET /v1/jobs/{id}); its hash is computed.") var resultFile: String?
        @Option(help: "Blocks the confirmation must be deep.") var confirmations: Int = 3

        func validate() throws {
            guard (resultHash == nil) != (resultFile == nil) else { throw ValidationError("give one of --result-hash and --result-file") }
            guard UUID(uuidString: jobID) != nil else { throw ValidationError("--job-id must be a UUID") }
        }

        func run() async throws {
            let expected = try oneLine { try expectedHash() }
            let contract = try oneLine { JobsRegistry(rpc: try EthereumRPC(url: rpcURL), address: try EthereumAddress(registry)) }
            let id = UUID(uuidString: jobID)!
            guard let onChain = try await oneLine({ try await contract.confirmation(of: id) }) else {
                throw failure("job \(jobID) has no confirmation in the registry")
            }
            let head = try await oneLine { try await contract.rpc.blockNumber() }
            let depth = head + 1 - onChain.blockNumber
            guard onChain.resultHash == expected else {
                throw failure("MISMATCH: the registry holds result hash \(onChain.resultHash.ethereumHex) for job \(jobID), not \(expected.ethereumHex)")
            }
            guard depth >= UInt64(confirmations) else {
                throw failure("job \(jobID) is confirmed in block \(onChain.blockNumber) but only \(depth) blocks deep (\(confirmations) required)")
            }
            let transaction = try await oneLine { try await contract.confirmationTransaction(of: id, inBlock: onChain.blockNumber) }
            print("verified: job \(jobID) result \(expected.ethereumHex) confirmed in block \(onChain.blockNumber) (\(depth) confirmations) by \(onChain.confirmator), transaction \(transaction?.ethereumHex ?? "unknown")")
        }

        private func expectedHash() throws -> Data {
            if let resultHash {
                let bytes = try Data(ethereumHex: resultHash)
                guard bytes.count == 32 else { throw ChainError.unexpected("--result-hash must be 64 hex digits") }
                return bytes
            }
            guard let file = resultFile, let contents = FileManager.default.contents(atPath: file) else {
                throw ChainError.unexpected("cannot read \(resultFile ?? "")")
            }
            guard let result = try? JSONDecoder().decode(JSONValue.self, from: contents) else {
                throw ChainError.unexpected("\(file) is not JSON")
            }
            return Data(SHA256.hash(data: result.canonicalData()))
        }
    }
}

/// A failed check: one line on stderr, exit status 1.
private func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("fhe-jobs: \(message)\n".utf8))
    return ExitCode.failure
}

/// Runs `body`, turning any error into one line on stderr and exit status 1.
func oneLine<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as ExitCode { throw error } catch { throw failure("\(error)") }
}

func oneLine<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ExitCode { throw error } catch { throw failure("\(error)") }
}
