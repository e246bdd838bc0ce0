import ArgumentParser
import Foundation
import Jobs
import JobsServer

/// `fhe-jobs token`: mints a dev-mode access token with the data folder's dev key.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a dev-mode access token (HS256, 15 minutes) for a tenant and role.")

    @OptionGroup var storage: StorageOptions
    @OptionGroup var tokens: TokenOptions

    @Option(help: "The tenant the token acts for.") var tenant: String
    @Option(help: "developer, team_lead, admin (its tenant) or operator (every tenant).") var role: String
    @Option(help: "The subject (user) of the token.") var subject: String = "dev-user"
    @Option(help: "Lifetime in seconds.") var lifetime: Int = 900

    func validate() throws {
        guard Principal.Role(rawValue: role) != nil else { throw ValidationError("--role must be developer, team_lead, admin or operator") }
        guard (1...86_400).contains(lifetime) else { throw ValidationError("--lifetime must be 1 to 86400 seconds") }
        guard !tenant.isEmpty, tenant.utf8.count <= 128,
              tenant.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ValidationError("--tenant must be 1 to 128 letters, digits, '-', '_' or '.'")
        }
    }

    func run() async throws {
        let secret = try AuthKeys.devSecret(inDataDirectory: storage.dataDirectory)
        print(try await AuthKeys.mintDevToken(secret: secret, issuer: tokens.issuer, audience: tokens.audience,
                                              subject: subject, tenant: tenant, role: role, lifetime: TimeInterval(lifetime)))
    }
}
