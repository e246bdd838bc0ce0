import ArgumentParser
import Crypto
import FHEClient
import Foundation

/// `fhe client ...`: the confidential-job flow against a running fhe-jobs server.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Run confidential jobs on an fhe-jobs server: keys, encrypt, submit, wait, result.",
        discussion: """
            fhe client keygen --out me.pem
            fhe client keys
            fhe client encrypt --type u16 --values 3,1,4,1,5 --out data.ct
            fhe client submit --algorithm encrypted_statistical_analysis --data data.ct --key me.pem
            fhe client wait JOB
            fhe client result JOB --key me.pem
            fhe client verify JOB --data data.ct --rpc-url URL --registry ADDRESS
            """,
        subcommands: [ClientKeygen.self, ClientKeys.self, ClientEncrypt.self, ClientUploadServerKey.self,
                      ClientSubmit.self, ClientQuote.self, ClientWait.self, ClientResult.self, ClientVerify.self])
}

/// Where the server is and who the caller is.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server's base URL (env FHE_JOBS_URL).")
    var server: String = ProcessInfo.processInfo.environment["FHE_JOBS_URL"] ?? "http://127.0.0.1:8080"

    @Option(help: "The access token (env FHE_JOBS_TOKEN; `fhe-jobs token` makes one in dev mode).")
    var token: String? = ProcessInfo.processInfo.environment["FHE_JOBS_TOKEN"]

    @Option(help: "The client's folder of saved keys and pins (env FHE_CLIENT_HOME; default ~/.fhe-client).")
    var state: String?

    @Option(help: "Attempts per request, the first included: a failure the server calls retryable (429, 503, ...) is sent again, a GET or an idempotent POST only; 1 never retries.")
    var maxAttempts: Int = 4

    @Option(help: "The longest wait before one retry, in seconds: the server's Retry-After, else a jittered exponential backoff; a longer Retry-After gives up at once.")
    var maxRetryWait: Double = 60

    func validate() throws {
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be 1 to 100") }
        guard maxRetryWait >= 0, maxRetryWait <= 3600 else { throw ValidationError("--max-retry-wait must be 0 to 3600 seconds") }
    }

    func client() throws -> ServiceClient {
        guard let token, !token.isEmpty else { throw ClientError("no access token: give --token or set FHE_JOBS_TOKEN") }
        return try ServiceClient(server: server, token: token,
                                 retry: ClientRetryPolicy(maxAttempts: maxAttempts, maxWait: .milliseconds(Int64(maxRetryWait * 1000))),
                                 onRetry: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
    }

    func clientState(_ client: ServiceClient) throws -> ClientState { try ClientState(root: state, server: client.server) }
}

/// A job id argument.
func jobID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ClientError("\(text.prefix(60)) is not a job id (a UUID)") }
    return id
}

/// The owner's P-256 private key, from the PEM file `fhe client keygen` wrote.
func signingKey(at path: String) throws -> P256.Signing.PrivateKey {
    let pem = String(decoding: try readSecretFile(path), as: UTF8.self)
    guard let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) else {
        throw ClientError("\(path) is not a P-256 private key in PEM (`fhe client keygen` makes one)")
    }
    return key
}
