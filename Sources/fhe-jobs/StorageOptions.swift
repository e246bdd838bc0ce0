import ArgumentParser
import Foundation
import JobsServer

/// Where the service keeps its state; every option also reads an environment variable.
struct StorageOptions: ParsableArguments {
    @Option(help: "Folder for the SQLite database and the service's keys (env FHE_JOBS_DATA_DIR).")
    var dataDir: String = ProcessInfo.processInfo.environment["FHE_JOBS_DATA_DIR"] ?? "fhe-jobs-data"

    @Option(help: "postgres://user:password@host:port/database to share the work between processes (env FHE_JOBS_DATABASE_URL); SQLite in the data folder if absent.")
    var databaseURL: String? = ProcessInfo.processInfo.environment["FHE_JOBS_DATABASE_URL"]

    @Option(help: "PostgreSQL connections this process opens at most, the queue listener's one included: 2 to 1000 (env FHE_JOBS_DATABASE_POOL_SIZE; default 20). Give the database max_connections for every process's pool.")
    var databasePoolSize: Int?

    /// PostgresNIO's default, which the service used before the pool size was an option.
    static let defaultPoolSize = 20
    static let poolSizes = 2...1000
    private static let poolSizeVariable = "FHE_JOBS_DATABASE_POOL_SIZE"

    /// `--database-pool-size`, else the environment's, else the default (checked by `validate`).
    var poolSize: Int {
        databasePoolSize ?? ProcessInfo.processInfo.environment[Self.poolSizeVariable].flatMap { Int($0) } ?? Self.defaultPoolSize
    }

    @Option(help: "A JSON file of tenant plans: {\"default\": PLAN, \"tenants\": {NAME: PLAN}} (env FHE_JOBS_PLANS).")
    var plans: String? = ProcessInfo.processInfo.environment["FHE_JOBS_PLANS"]

    @Option(help: "The service's Ed25519 signing key (32 raw bytes, mode 0600), which signs ledger entries, ledger heads and retrieval answers: give every process of the service the same one (env FHE_JOBS_SIGNING_KEY_FILE). Default: ledger-signing.key in the data folder, created on first start.")
    var signingKey: String? = ProcessInfo.processInfo.environment["FHE_JOBS_SIGNING_KEY_FILE"]

    var dataDirectory: URL { URL(fileURLWithPath: dataDir, isDirectory: true) }

    func validate() throws {
        if let url = databaseURL, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw ValidationError("--database-url must start with postgres:// or postgresql://")
        }
        let range = "\(Self.poolSizes.lowerBound) to \(Self.poolSizes.upperBound)"
        if databasePoolSize == nil, let raw = ProcessInfo.processInfo.environment[Self.poolSizeVariable], Int(raw) == nil {
            throw ValidationError("\(Self.poolSizeVariable) must be a whole number from \(range), not \"\(raw.prefix(32))\"")
        }
        guard Self.poolSizes.contains(poolSize) else {
            throw ValidationError("--database-pool-size (or \(Self.poolSizeVariable)) must be \(range), not \(poolSize): the queue listener holds one connection")
        }
    }
}

struct TokenOptions: ParsableArguments {
    @Option(help: "Expected token issuer, `iss` (env FHE_JOBS_TOKEN_ISSUER).")
    var issuer: String = ProcessInfo.processInfo.environment["FHE_JOBS_TOKEN_ISSUER"] ?? "fhe-jobs"

    @Option(help: "Expected token audience, `aud` (env FHE_JOBS_TOKEN_AUDIENCE).")
    var audience: String = ProcessInfo.processInfo.environment["FHE_JOBS_TOKEN_AUDIENCE"] ?? "fhe-jobs-api"

    @Option(name: .customLong("operator-issuer"),
            help: "An issuer whose tokens may carry the cross-tenant `operator` role; repeatable (env FHE_JOBS_OPERATOR_ISSUERS, comma-separated). None by default; in dev mode, the dev tokens' issuer.")
    var operatorIssuers: [String] = (ProcessInfo.processInfo.environment["FHE_JOBS_OPERATOR_ISSUERS"] ?? "")
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

    /// The dev issuer mints tokens that this service's own verifier expects.
    var devIssuerConfiguration: DevTokenIssuer.Configuration {
        var configuration = DevTokenIssuer.Configuration()
        configuration.issuer = issuer
        configuration.audience = audience
        return configuration
    }
}
