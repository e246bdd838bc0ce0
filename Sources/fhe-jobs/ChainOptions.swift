import ArgumentParser
import Chain
import Crypto
import Foundation
import Jobs
import Logging

/// Where results are confirmed: the local signed ledger unless a chain RPC URL is given.
struct ChainOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(name: .customLong("chain-rpc-url"), help: "JSON-RPC URL of an EVM node; confirmations go to the registry there instead of the local ledger (env FHE_JOBS_CHAIN_RPC_URL).")
    var chainRPCURL: String? = Self.environment["FHE_JOBS_CHAIN_RPC_URL"]

    @Option(help: "Address of the JobsRegistry contract (env FHE_JOBS_CHAIN_REGISTRY).")
    var chainRegistry: String? = Self.environment["FHE_JOBS_CHAIN_REGISTRY"]

    @Option(help: "File holding the confirmator account's private key, 64 hex digits (env FHE_JOBS_CHAIN_KEY_FILE).")
    var chainKeyFile: String? = Self.environment["FHE_JOBS_CHAIN_KEY_FILE"]

    @Option(help: "Blocks a confirmation must be deep before a job is `confirmed` (env FHE_JOBS_CHAIN_CONFIRMATIONS).")
    var chainConfirmations: Int = Self.environment["FHE_JOBS_CHAIN_CONFIRMATIONS"].flatMap(Int.init) ?? 3

    @Option(help: "Seconds a confirmation transaction may stay pending before it is replaced with higher fees.")
    var chainReplaceAfter: Double = 60

    @Option(help: "The most to pay per gas, in gwei, base fee included; none by default (env FHE_JOBS_CHAIN_MAX_FEE_GWEI).")
    var chainMaxFeeGwei: Double? = Self.environment["FHE_JOBS_CHAIN_MAX_FEE_GWEI"].flatMap(Double.init)

    func validate() throws {
        guard chainRPCURL != nil else { return }
        guard chainRegistry != nil, chainKeyFile != nil else {
            throw ValidationError("--chain-rpc-url needs --chain-registry and --chain-key-file")
        }
        guard (1...10_000).contains(chainConfirmations) else { throw ValidationError("--chain-confirmations must be 1 to 10000") }
        guard chainReplaceAfter >= 1 else { throw ValidationError("--chain-replace-after must be at least 1 second") }
        if let cap = chainMaxFeeGwei, !(cap > 0 && cap < 1e9) { throw ValidationError("--chain-max-fee-gwei must be a positive number of gwei") }
    }

    /// The chain confirmer if a chain is configured, else the local ledger. A wrong registry
    /// or key stops the start; a node that does not answer yet does not (the confirmer
    /// retries with backoff, and jobs wait in `succeeded`).
    func confirmer(store: any JobStore, signingKey: Curve25519.Signing.PrivateKey?, breaker: CircuitBreaker.Configuration? = nil,
                   logger: Logger) async throws -> any ResultConfirmer {
        guard let url = chainRPCURL, let registryAddress = chainRegistry, let keyFile = chainKeyFile else {
            guard let signingKey else { throw StartupError("the local ledger needs the service's signing key") }
            return LocalLedger(store: store, signingKey: signingKey)
        }
        guard let log = store as? any ChainTransactionLog else { throw StartupError("this store cannot log chain transactions") }
        do {
            // The node's breaker: while it is down, the confirmer waits out the open interval
            // instead of timing out call after call (jobs wait in `succeeded` meanwhile).
            let rpc = try EthereumRPC(url: url, breaker: breaker.map { CircuitBreaker(name: "chain_rpc", configuration: $0) })
            let registry = JobsRegistry(rpc: rpc, address: try EthereumAddress(registryAddress))
            var configuration = ChainConfirmer.Configuration()
            configuration.requiredConfirmations = UInt64(chainConfirmations)
            configuration.replaceAfter = chainReplaceAfter
            if let cap = chainMaxFeeGwei { configuration.feePolicy.maxFeePerGasCap = UInt64(cap * 1e9) }
            let confirmer = ChainConfirmer(registry: registry, key: try AccountKeyFile.load(keyFile), log: log,
                                           configuration: configuration, logger: logger)
            do { try await confirmer.checkSetup() } catch let error as ChainError {
                switch error {
                case .transport, .timeout: logger.warning("the chain node does not answer yet; confirmations will wait", metadata: ["error": "\(error)"])
                default: throw error
                }
            }
            logger.info("confirming results on chain", metadata: ["rpc": "\(JSONRPCClient.redacted(url))", "registry": "\(registryAddress)"])
            return confirmer
        } catch {
            throw StartupError("the chain confirmer cannot start: \(error)")
        }
    }
}
