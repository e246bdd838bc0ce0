import ArgumentParser
import Crypto
import FHEClient
import Foundation
import Jobs
import TFHE

/// What `submit` and `quote` send: the algorithm, its parameters, the encrypted inputs.
struct SubmissionOptions: ParsableArguments {
    @Option(help: "The algorithm: encrypted_statistical_analysis, confidential_transfer or program.")
    var algorithm: String

    @Option(help: "An encrypted-values file (`fhe client encrypt`); files over 1 MiB are uploaded first.")
    var data: String?

    @Option(help: "Or a URL the server fetches the encrypted inputs from (an allowed host).")
    var dataURL: String?

    @Option(help: "Pin the inputs' SHA-256 (hex), with --data-url.")
    var dataSHA256: String?

    @Option(help: "Your P-256 private key (`fhe client keygen`): its public key goes with the job and signs retrievals.")
    var key: String

    @Option(help: "An algorithm parameter, NAME=VALUE (VALUE as JSON, or else a string); repeat for more.")
    var param: [String] = []

    @Option(help: "All the algorithm's parameters as one JSON object (merged under --param).")
    var parameters: String?

    @Option(help: "Client-key mode: the id `fhe client upload-server-key` printed.")
    var serverKeyID: String?

    func body(_ client: ServiceClient) async throws -> [String: Any] {
        var parameterObject: [String: Any] = [:]
        if let parameters {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(parameters.utf8))) as? [String: Any] else {
                throw ClientError("--parameters must be a JSON object")
            }
            parameterObject = object
        }
        for pair in param {
            guard let equals = pair.firstIndex(of: "=") else { throw ClientError("--param \(pair.prefix(60)): expected NAME=VALUE") }
            let raw = String(pair[pair.index(after: equals)...])
            parameterObject[String(pair[..<equals])] = (try? JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])) ?? raw
        }
        let privateKey = try signingKey(at: key)
        var payload: [String: Any] = ["algorithm": algorithm, "parameters": parameterObject,
                                      "client_public_key": privateKey.publicKey.pemRepresentation]
        switch (data, dataURL) {
        case (let path?, nil):
            guard let bytes = FileManager.default.contents(atPath: path) else { throw ClientError("cannot read \(path)") }
            if bytes.count > 1 << 20 {
                let upload = try await client.send("POST", "/v1/fhe/ciphertexts", body: bytes).object()
                guard let id = upload["id"] as? String else { throw ClientError("the upload was answered without an id") }
                payload["encrypted_data_id"] = id
            } else {
                payload["encrypted_data"] = bytes.base64EncodedString()
            }
        case (nil, let url?):
            payload["encrypted_data_url"] = url
            if let dataSHA256 { payload["encrypted_data_sha256"] = dataSHA256 }
        default:
            throw ClientError("give the encrypted inputs as exactly one of --data and --data-url")
        }
        if let serverKeyID { payload["server_key_id"] = serverKeyID }
        return ["type": "fhe_compute", "useFHE": true, "payload": payload]
    }
}

func describe(quote: [String: Any]?) -> String {
    guard let quote, let bootstraps = quote["bootstraps"] as? Int else { return "no quote" }
    let seconds = quote["predictedSeconds"] as? Double ?? 0
    return "quote: \(bootstraps) bootstraps, about \(String(format: "%.1f", seconds)) s"
}

struct ClientSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Submit a confidential job; prints its id and quote.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var submission: SubmissionOptions

    @Option(help: "The Idempotency-Key (a fresh one by default): a retry with the same key and body is answered with the same job.")
    var idempotencyKey: String?

    func run() async throws {
        let client = try options.client()
        let answer = try await client.send("POST", "/v1/jobs", json: try await submission.body(client),
                                           headers: ["Idempotency-Key": idempotencyKey ?? UUID().uuidString]).object()
        guard let id = answer["id"] as? String else { throw ClientError("the server answered without a job id") }
        print(id)
        print(describe(quote: (answer["fhe"] as? [String: Any])?["quote"] as? [String: Any]))
    }
}

struct ClientQuote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quote", abstract: "The exact cost of a confidential job, without submitting it.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var submission: SubmissionOptions

    func run() async throws {
        let client = try options.client()
        print(describe(quote: try await client.send("POST", "/v1/fhe/quote", json: try await submission.body(client)).object()))
    }
}

struct ClientWait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait", abstract: "Wait for a job to finish, showing its progress; exits non-zero if it failed or was cancelled.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The job id.")
    var job: String

    @Option(help: "Give up after this many seconds (exit status 2).")
    var timeout: Double = 24 * 3600

    func run() async throws {
        let id = try jobID(job)
        let client = try options.client()
        let terminal = isatty(STDOUT_FILENO) == 1
        let started = ContinuousClock.now
        var delay = 0.2, lastLine = ""
        while true {
            let job = try await client.send("GET", "/v1/jobs/\(id.uuidString.lowercased())").object()
            let status = job["status"] as? String ?? "unknown"
            let progress = job["progress"] as? [String: Any]
            let done = progress?["bootstrapsDone"] as? Int, total = progress?["bootstrapsTotal"] as? Int
            let line = Self.line(status: status, done: done, total: total, elapsed: (ContinuousClock.now - started))
            if terminal {
                // Rewritten in place: carriage return, erase the line.
                FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
            } else if line != lastLine {
                print(line)
            }
            lastLine = line
            switch status {
            case "succeeded", "confirmed":
                if terminal { print("") }
                return
            case "failed", "cancelled":
                if terminal { print("") }
                let error = job["error"] as? [String: Any]
                throw ClientError("job \(status): \(error?["code"] as? String ?? "") \(error?["message"] as? String ?? "")")
            default:
                break
            }
            guard ContinuousClock.now - started < .seconds(timeout) else {
                if terminal { print("") }
                FileHandle.standardError.write(Data("still \(status) after \(Int(timeout)) s\n".utf8))
                throw ExitCode(2)
            }
            try await Task.sleep(for: .seconds(delay))
            delay = min(delay * 1.5, 2)
        }
    }

    /// `running  [########------------]  40%  1200/3000 bootstraps, about 12 s left`
    static func line(status: String, done: Int?, total: Int?, elapsed: Duration) -> String {
        guard let done, let total, total > 0 else { return status }
        let fraction = min(1, Double(done) / Double(total)), width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let seconds = elapsed.seconds
        let left = fraction > 0.02 && fraction < 1 ? String(format: ", about %.0f s left", seconds * (1 - fraction) / fraction) : ""
        return "\(status)  [\(bar)]  \(Int(fraction * 100))%  \(done)/\(total) bootstraps\(left)"
    }
}

struct ClientResult: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result", abstract: "Retrieve a finished job's result, check the service's signature, open it, and print the outputs as JSON.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The job id.")
    var job: String

    @Option(help: "Your P-256 private key, whose public key went with the job.")
    var key: String

    @Flag(help: "Seal the result to a fresh post-quantum hybrid key (X-Wing) instead of your P-256 key.")
    var postQuantum = false

    @Option(help: "Client-key mode: your client key (the service hands over the result ciphertext).")
    var clientKey: String?

    @Option(help: "The service's Ed25519 signing key (base64), instead of the one `fhe client keys` pinned.")
    var serviceKey: String?

    func run() async throws {
        let id = try jobID(job), privateKey = try signingKey(at: key)
        let client = try options.client()
        let state = try options.clientState(client)
        let pinned = try state.serviceKey(seen: nil, given: serviceKey)
        var secret: ClientKey<UInt64>?
        if let clientKey {
            let parameters = try state.keySet().0.readParameters()
            let bytes = try readSecretFile(clientKey)
            secret = try ClientKey<UInt64>(serialized: bytes, parameters: parameters)
        }
        print(try await ResultRetrievalClient(client: client, serviceKey: pinned)
            .outputs(jobID: id, key: privateKey, postQuantum: postQuantum, clientKey: secret))
    }
}
