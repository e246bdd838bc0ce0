import ArgumentParser
import FHEJobs
import Foundation
import Jobs
import TFHE

/// How an API process reaches a key service of its own process (`fhe-jobs keyservice`); without
/// `--key-service` the key service runs inside `serve`, as on one machine by default.
struct KeyServiceClientOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "The key service to use instead of the embedded one: unix:/path/to/socket or https://host:port (mutual TLS); this process then holds no key-encryption key (env FHE_JOBS_KEY_SERVICE).")
    var keyService: String? = Self.environment["FHE_JOBS_KEY_SERVICE"]

    @Option(help: "This process's client certificate (PEM) for an https:// key service (env FHE_JOBS_KEY_SERVICE_CERTIFICATE).")
    var keyServiceCertificate: String? = Self.environment["FHE_JOBS_KEY_SERVICE_CERTIFICATE"]

    @Option(help: "Its private key (PEM, mode 0600) (env FHE_JOBS_KEY_SERVICE_KEY).")
    var keyServiceKey: String? = Self.environment["FHE_JOBS_KEY_SERVICE_KEY"]

    @Option(help: "The CA certificate(s) (PEM) that sign the key service's certificate (env FHE_JOBS_KEY_SERVICE_CA).")
    var keyServiceCa: String? = Self.environment["FHE_JOBS_KEY_SERVICE_CA"]

    @Option(help: "Seconds one key service operation may take, connection included (env FHE_JOBS_KEY_SERVICE_TIMEOUT_SECONDS).")
    var keyServiceTimeoutSeconds: Int = Self.environment["FHE_JOBS_KEY_SERVICE_TIMEOUT_SECONDS"].flatMap(Int.init) ?? 60

    func validate() throws {
        guard (1...600).contains(keyServiceTimeoutSeconds) else { throw ValidationError("--key-service-timeout-seconds must be 1 to 600") }
        guard let keyService else {
            if keyServiceCertificate != nil || keyServiceKey != nil || keyServiceCa != nil {
                throw ValidationError("--key-service-certificate, --key-service-key and --key-service-ca go with --key-service https://...")
            }
            return
        }
        let endpoint: KeyServiceEndpoint
        do { endpoint = try KeyServiceEndpoint(parsing: keyService) } catch { throw ValidationError("--key-service: \(error)") }
        let files = [keyServiceCertificate, keyServiceKey, keyServiceCa]
        switch endpoint {
        case .tls where files.contains(where: { $0 == nil }):
            throw ValidationError("--key-service https://... needs --key-service-certificate, --key-service-key and --key-service-ca")
        case .unix where files.contains(where: { $0 != nil }):
            throw ValidationError("--key-service unix:... takes no certificate: the key service checks the socket peer's user id")
        default: break
        }
    }

    /// The key service client, or nil without `--key-service`.
    func remote(parameters: ParameterSet, breaker: CircuitBreaker) throws -> RemoteKeyService? {
        guard let keyService else { return nil }
        do {
            let endpoint = try KeyServiceEndpoint(parsing: keyService)
            var files: KeyServiceTLSFiles?
            if case .tls = endpoint, let certificate = keyServiceCertificate, let key = keyServiceKey, let ca = keyServiceCa {
                files = KeyServiceTLSFiles(certificate: certificate, privateKey: key, trustedCA: ca)
            }
            return try RemoteKeyService(endpoint: endpoint, tlsFiles: files, parameters: parameters,
                                        timeout: .seconds(keyServiceTimeoutSeconds), breaker: breaker)
        } catch {
            throw StartupError("\(error)")
        }
    }
}
