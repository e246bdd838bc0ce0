import ArgumentParser
import Crypto
import FHEJobs
import Foundation
import Jobs
import Logging
import SafeFetch
import TFHE

/// How the service runs confidential (`fhe_compute`) jobs; every option also reads an
/// environment variable.
struct FHEOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @OptionGroup var blobs: BlobStoreOptions

    @Option(help: "The TFHE parameter set of every key set: a file, or a name in ./params or $FHE_PARAMS_DIR (env FHE_JOBS_FHE_PARAMETERS).")
    var fheParameters: String = Self.environment["FHE_JOBS_FHE_PARAMETERS"] ?? "tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128"

    @Flag(help: "Allow an insecure test parameter set (tests only: NO SECURITY).")
    var fheAllowInsecureParameters = false

    @Option(help: "File holding the key-encryption key, base64 of 32 bytes (else env FHE_JOBS_KEK). Needed by `serve`, never by `worker`. With SQLite and neither given, one is made in the data folder.")
    var kekFile: String? = Self.environment["FHE_JOBS_KEK_FILE"]

    @Option(help: "Confidential jobs run at once per process (env FHE_JOBS_FHE_CONCURRENCY); each takes every core.")
    var fheConcurrency: Int = Self.environment["FHE_JOBS_FHE_CONCURRENCY"].flatMap(Int.init) ?? 1

    @Option(help: "Seconds of one bootstrap on one worker core, for quotes (env FHE_JOBS_FHE_SECONDS_PER_BOOTSTRAP); measured on this machine if absent.")
    var fheSecondsPerBootstrap: Double? = Self.environment["FHE_JOBS_FHE_SECONDS_PER_BOOTSTRAP"].flatMap(Double.init)

    @Option(help: "Memory for expanded server keys in this process, MiB (env FHE_JOBS_FHE_KEY_CACHE_MB).")
    var fheKeyCacheMB: Int = Self.environment["FHE_JOBS_FHE_KEY_CACHE_MB"].flatMap(Int.init) ?? 2048

    @Option(help: "Largest encrypted input, MiB (env FHE_JOBS_FHE_MAX_INPUT_MB).")
    var fheMaxInputMB: Int = Self.environment["FHE_JOBS_FHE_MAX_INPUT_MB"].flatMap(Int.init) ?? 64

    @Option(help: "Largest server key an owner may upload (client-key mode), MiB (env FHE_JOBS_FHE_MAX_SERVER_KEY_MB).")
    var fheMaxServerKeyMB: Int = Self.environment["FHE_JOBS_FHE_MAX_SERVER_KEY_MB"].flatMap(Int.init) ?? 256

    @Option(help: "A host (host or host:port) whose URLs may be given as encrypted_data_url; repeat for more (env FHE_JOBS_FETCH_ALLOW_HOSTS, comma-separated). None by default: no URL is fetched.")
    var fetchAllowHost: [String] = Self.environment["FHE_JOBS_FETCH_ALLOW_HOSTS"].map { $0.split(separator: ",").map(String.init) } ?? []

    @Flag(help: "Also fetch http:// URLs of allowed hosts (https only by default).")
    var fetchAllowHTTP = false

    @Flag(help: "Let fetched URLs resolve to loopback and private addresses (tests only).")
    var fetchAllowPrivateAddresses = false

    @Option(help: "A folder whose files may be given as file: URLs (it must not contain the data folder).")
    var fetchFileRoot: String?

    @Option(help: "Seconds a fetch of encrypted_data_url may take in all.")
    var fetchTimeoutSeconds: Int = 60

    func validate() throws {
        for host in fetchAllowHost where AllowedHost(parsing: host) == nil {
            throw ValidationError("--fetch-allow-host \(host) is not a host or host:port")
        }
        guard (1...3600).contains(fetchTimeoutSeconds) else { throw ValidationError("--fetch-timeout-seconds must be 1 to 3600") }
        guard (1...64).contains(fheConcurrency) else { throw ValidationError("--fhe-concurrency must be 1 to 64") }
        guard fheKeyCacheMB >= 0 else { throw ValidationError("--fhe-key-cache-mb must be 0 or more") }
        guard (1...4096).contains(fheMaxInputMB) else { throw ValidationError("--fhe-max-input-mb must be 1 to 4096") }
        guard (1...4096).contains(fheMaxServerKeyMB) else { throw ValidationError("--fhe-max-server-key-mb must be 1 to 4096") }
        if let s = fheSecondsPerBootstrap, !(s > 0 && s < 10) { throw ValidationError("--fhe-seconds-per-bootstrap must be a positive number of seconds") }
    }

    /// The parameter set and its JSON.
    func parameterSet() throws -> (ParameterSet, JSONValue) {
        let url: URL
        if fheParameters.contains("/") || fheParameters.hasSuffix(".json") {
            url = URL(fileURLWithPath: fheParameters)
        } else {
            let folder = Self.environment["FHE_PARAMS_DIR"].map { URL(fileURLWithPath: $0) }
                ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("params")
            url = folder.appendingPathComponent(fheParameters + ".json")
        }
        guard let data = try? Data(contentsOf: url) else {
            throw StartupError("cannot read the FHE parameter set \(url.path) (--fhe-parameters; run from the repository, or set FHE_PARAMS_DIR)")
        }
        do {
            let set = try ParameterSet.parse(json: data, allowInsecure: fheAllowInsecureParameters)
            // Owners' keys are production keys: a set kept for benchmarks is refused.
            if !set.insecure { try set.checkUsableForProductionKeys() }
            return (set, try JSONValue.decode(data))
        } catch {
            throw StartupError("the FHE parameter set \(url.path): \(error)")
        }
    }

    /// The embedded key service (`serve` without `--key-service`, `keyservice`, the key commands).
    func localKeyService(store: any JobStore, blobs: FHEBlobs, parameters: ParameterSet, kek: KeyEncryptionKey?,
                         logger: Logger) -> LocalKeyService {
        LocalKeyService(store: store, blobs: blobs, parameters: parameters, kek: kek, maxResultBytes: fheMaxInputMB << 20, logger: logger)
    }

    /// Whether a key-encryption key was given (`--kek-file`, `FHE_JOBS_KEK_FILE` or `FHE_JOBS_KEK`).
    var kekGiven: Bool { kekFile != nil || Self.environment["FHE_JOBS_KEK"] != nil }

    /// The key-encryption key: given, or (SQLite only, where one machine holds everything)
    /// made in the data folder on first start, mode 0600 from the first byte.
    func keyEncryptionKey(dataDirectory: URL, allowGenerated: Bool, logger: Logger) throws -> KeyEncryptionKey {
        do {
            if let kek = try KeyEncryptionKey.load(file: kekFile) { return kek }
        } catch {
            throw StartupError("\(error)")
        }
        guard allowGenerated else { throw StartupError("\(KeyServiceError.keyEncryptionKeyMissing)") }
        let file = dataDirectory.appendingPathComponent("key-encryption.key")
        do {
            if let existing = try SecretFile.read(file.path) {
                do { return try KeyEncryptionKey(base64: String(decoding: existing, as: UTF8.self)) } catch { throw StartupError("\(file.path): \(error)") }
            }
        } catch let error as SecretFileError { throw StartupError("\(error)") }
        let text = KeyEncryptionKey.generateBase64() + "\n"
        do { try SecretFile.create(file.path, contents: Data(text.utf8)) } catch { throw StartupError("\(error)") }
        logger.warning("made a key-encryption key beside the database (single-machine default); give --kek-file from a secret store in production",
                       metadata: ["file": "\(file.path)"])
        return try KeyEncryptionKey(base64: text)
    }

    /// The confidential half of the service. `kek` is nil in worker processes: they compute
    /// under server keys only, and in API processes given `keyService`, which reach
    /// `fhe-jobs keyservice` instead of holding the key-encryption key.
    /// `signingKey` signs retrieval answers (API processes).
    func confidentialJobs(store: any JobStore, dataDirectory: URL, kek: KeyEncryptionKey?, keyService: KeyServiceClientOptions? = nil,
                          signingKey: Curve25519.Signing.PrivateKey? = nil, breakers: CircuitBreaker.Configuration = .init(),
                          logger: Logger) throws -> ConfidentialJobsService {
        let (parameters, definition) = try parameterSet()
        // Which of the engine's kernel sets this process runs, chosen for its CPU (or by FHE_KERNELS).
        logger.info("TFHE engine kernels", metadata: ["kernels": "\(EngineKernels.selected.name)", "choice": "\(EngineKernels.selectionNote)",
                                                      "shape": "\(EngineKernels.selected.vectorShape)"])
        let blobs = FHEBlobs(try self.blobs.makeStore(dataDirectory: dataDirectory, breakers: breakers, logger: logger))
        let keys: any KeyService
        if let remote = try keyService?.remote(parameters: parameters,
                                               breaker: CircuitBreaker(name: RemoteKeyService.dependency, configuration: breakers)) {
            keys = remote
        } else {
            keys = localKeyService(store: store, blobs: blobs, parameters: parameters, kek: kek, logger: logger)
        }
        var configuration = ConfidentialJobsService.Configuration()
        configuration.maxInputBytes = fheMaxInputMB << 20
        configuration.maxServerKeyBytes = fheMaxServerKeyMB << 20
        configuration.secondsPerBootstrap = fheSecondsPerBootstrap
        configuration.parameterDefinition = definition
        configuration.signingKey = signingKey
        let fetcher: SafeInputFetcher? = fetchAllowHost.isEmpty && fetchFileRoot == nil ? nil : SafeInputFetcher(policy: FetchPolicy(
            allowedHosts: Set(fetchAllowHost.compactMap(AllowedHost.init(parsing:))), allowsHTTP: fetchAllowHTTP,
            allowPrivateAddresses: fetchAllowPrivateAddresses, fileRoot: fetchFileRoot.map { URL(fileURLWithPath: $0, isDirectory: true) },
            forbiddenRoot: dataDirectory, maxBytes: configuration.maxInputBytes, timeout: .seconds(fetchTimeoutSeconds)),
            breakers: CircuitBreakers(configuration: breakers))
        return ConfidentialJobsService(store: store, blobs: blobs, keys: keys, cache: ServerKeyCache(capacityBytes: fheKeyCacheMB << 20),
                                       fetcher: fetcher, configuration: configuration, logger: logger)
    }
}
