import ArgumentParser
import BlobStoreS3
import Foundation
import Jobs
import Logging

/// Where ciphertexts, server keys and results are kept: the data folder's `blobs` (one machine,
/// or a volume the processes share) or an S3 bucket that every machine reaches.
struct BlobStoreOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "Where blobs live: `file` (the data folder's blobs/) or s3://BUCKET[/PREFIX] (env FHE_JOBS_BLOB_STORE).")
    var blobStore: String = Self.environment["FHE_JOBS_BLOB_STORE"] ?? "file"

    @Option(help: "The S3 endpoint, http(s)://HOST[:PORT] (env FHE_JOBS_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3); AWS's regional endpoint if absent.")
    var s3Endpoint: String? = Self.environment["FHE_JOBS_S3_ENDPOINT"] ?? Self.environment["AWS_ENDPOINT_URL_S3"]

    @Option(help: "The bucket's region (env FHE_JOBS_S3_REGION, else AWS_REGION, else AWS_DEFAULT_REGION; us-east-1 if none).")
    var s3Region: String = Self.environment["FHE_JOBS_S3_REGION"] ?? Self.environment["AWS_REGION"] ?? Self.environment["AWS_DEFAULT_REGION"] ?? "us-east-1"

    @Option(help: "A file (mode 0600) of AWS_ACCESS_KEY_ID=…, AWS_SECRET_ACCESS_KEY=… and optionally AWS_SESSION_TOKEN=… lines (env FHE_JOBS_S3_CREDENTIALS_FILE); else those environment variables.")
    var s3CredentialsFile: String? = Self.environment["FHE_JOBS_S3_CREDENTIALS_FILE"]

    func validate() throws {
        guard blobStore == "file" || blobStore.hasPrefix("s3://") else {
            throw ValidationError("--blob-store must be `file` or s3://BUCKET[/PREFIX], not \(blobStore)")
        }
        if blobStore.hasPrefix("s3://") {
            do { _ = try S3Location(blobStore: blobStore, endpoint: s3Endpoint, region: s3Region) } catch {
                throw ValidationError(Self.message(error))
            }
        }
    }

    /// The store; credentials are read here, at start, and never logged.
    func makeStore(dataDirectory: URL, breakers: CircuitBreaker.Configuration, logger: Logger) throws -> any BlobStore {
        guard blobStore.hasPrefix("s3://") else { return try FileBlobStore(root: dataDirectory.appendingPathComponent("blobs")) }
        do {
            let location = try S3Location(blobStore: blobStore, endpoint: s3Endpoint, region: s3Region)
            let credentials = try AWSCredentials.load(file: s3CredentialsFile, environment: Self.environment)
            logger.info("blobs in S3", metadata: ["endpoint": "\(location.endpoint.absoluteString)", "bucket": "\(location.bucket)",
                                                  "prefix": "\(location.prefix)", "region": "\(location.region)",
                                                  "accessKeyID": "\(credentials.accessKeyID)"])
            return try S3BlobStore(location: location, credentials: credentials, breaker: CircuitBreaker(name: "s3", configuration: breakers))
        } catch {
            throw StartupError("--blob-store \(blobStore): \(Self.message(error))")
        }
    }

    /// The one line a start-up failure prints.
    static func message(_ error: any Error) -> String {
        switch error as? BlobStoreError {
        case .invalidConfiguration(let text)?, .denied(let text)?, .unavailable(let text)?, .io(let text)?: text
        default: "\(error)"
        }
    }
}
