import ArgumentParser
import Crypto
import FHEClient
import Foundation
import Jobs

/// `fhe-jobs ledger ...`: the service's signing key, and a check of its local ledger that
/// anyone with a token can run.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Print the service's signing key, or verify its local ledger over the API.",
        subcommands: [Key.self, Verify.self])

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the service's Ed25519 public key (base64), which signs the ledger and retrieval answers.")
        @OptionGroup var storage: StorageOptions
        func run() async throws {
            print(try oneLine { try ServiceGraph.signingKey(storage, create: false).publicKey.rawRepresentation.base64EncodedString() })
        }
    }

    /// Every entry from the first, against the signed head and the given key.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry of a service's ledger (hashes, links, signatures) up to its signed head.",
            discussion: "With --state, the newest head verified is kept there, and a later ledger that is shorter or rewritten below it fails.")
        @Option(help: "The server's base URL (env FHE_JOBS_URL).")
        var server: String = ProcessInfo.processInfo.environment["FHE_JOBS_URL"] ?? "http://127.0.0.1:8080"
        @Option(help: "An access token (env FHE_JOBS_TOKEN).")
        var token: String? = ProcessInfo.processInfo.environment["FHE_JOBS_TOKEN"]
        @Option(help: "The service's Ed25519 public key, base64, as `fhe-jobs ledger key` prints it (without it, the key the server publishes, which proves only that the ledger is consistent).")
        var serviceKey: String?
        @Option(help: "A file keeping the newest head verified.")
        var state: String?

        func run() async throws {
            let line = try await oneLine { () async throws -> String in
                let client = try ServiceClient(server: server, token: token)
                let (head, published) = try await LedgerClient.head(client)
                guard let chosen = serviceKey ?? published, let raw = Data(base64Encoded: chosen),
                      let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                    throw ValidationError("--service-key must be an Ed25519 public key in base64")
                }
                if serviceKey == nil { FileHandle.standardError.write(Data("warning: checking against the key the server publishes; give --service-key to check against one you trust\n".utf8)) }
                let seen = try state.flatMap { path in
                    try FileManager.default.contents(atPath: path).map { try JSONDecoder().decode(LedgerHead.self, from: $0) }
                }
                do { try await LedgerClient(client: client, serviceKey: key).verify(head: head, seen: seen, toInclude: 1) } catch let error as LedgerVerificationError {
                    throw ClientError("the ledger does not verify: \(error)")
                }
                if let state { try JSONEncoder().encode(head).write(to: URL(fileURLWithPath: state), options: .atomic) }
                return "verified: \(head.size) entries, head \(head.headHash ?? "none")"
            }
            print(line)
        }
    }
}
