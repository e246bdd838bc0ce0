import ArgumentParser
import Foundation
import Jobs
import JobsServer

/// `fhe-jobs token`: mints a dev-mode access token with the data folder's dev key; with
/// `--refresh`, starts a session that `POST /v1/auth/token` renews (refresh-token rotation).
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a dev-mode access token (HS256, 15 minutes) for a tenant and role; with --refresh, also a refresh token.",
        discussion: """
            With --refresh the answer is RFC 6749 section 5.1 JSON (access_token, token_type, expires_in, \
            refresh_token), and the refresh token is stored (its SHA-256 only) in the service's database: \
            give the same --data-dir or --database-url as the server. POST /v1/auth/token with \
            grant_type=refresh_token&refresh_token=... exchanges it for a new pair, once.
            """)

    @OptionGroup var storage: StorageOptions
    @OptionGroup var tokens: TokenOptions

    @Option(help: "The tenant the token acts for.") var tenant: String
    @Option(help: "developer, team_lead, admin (its tenant) or operator (every tenant).") var role: String
    @Option(help: "The subject (user) of the token.") var subject: String = "dev-user"
    @Option(help: "Lifetime in seconds (without --refresh; a refreshed session's access tokens last 900).") var lifetime: Int = 900
    @Flag(help: "Also issue a refresh token (24 hours, rotated on each use) and print both as JSON.") var refresh = false

    func validate() throws {
        guard Principal.Role(rawValue: role) != nil else { throw ValidationError("--role must be developer, team_lead, admin or operator") }
        guard (1...86_400).contains(lifetime) else { throw ValidationError("--lifetime must be 1 to 86400 seconds") }
        guard !tenant.isEmpty, tenant.utf8.count <= 128,
              tenant.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ValidationError("--tenant must be 1 to 128 letters, digits, '-', '_' or '.'")
        }
        guard !subject.isEmpty, subject.utf8.count <= 256 else { throw ValidationError("--subject must be 1 to 256 bytes") }
        if refresh, lifetime != 900 { throw ValidationError("--lifetime does not apply with --refresh (its access tokens last 900 seconds)") }
    }

    func run() async throws {
        let secret = try AuthKeys.devSecret(inDataDirectory: storage.dataDirectory)
        guard refresh, let role = Principal.Role(rawValue: role) else {
            print(try await AuthKeys.mintDevToken(secret: secret, issuer: tokens.issuer, audience: tokens.audience,
                                                  subject: subject, tenant: tenant, role: role, lifetime: TimeInterval(lifetime)))
            return
        }
        let (tenant, subject, configuration) = (self.tenant, self.subject, tokens.devIssuerConfiguration)
        let pair = try await FHECommand.withStore(storage) { graph in
            let issuer = DevTokenIssuer(secret: secret, store: graph.store, configuration: configuration,
                                        audit: { record in
                                            do { try await graph.store.appendAudit(record) } catch {
                                                FileHandle.standardError.write(Data("warning: audit record not stored: \(error)\n".utf8))
                                            }
                                        })
            return try await issuer.signIn(tenant: tenant, subject: subject, role: role, requestID: "cli")
        }
        // RFC 6749 section 5.1's member names, so one parser reads this and the endpoint's answers.
        let answer: [String: Any] = ["access_token": pair.accessToken, "token_type": "Bearer", "expires_in": pair.expiresIn,
                                     "refresh_token": pair.refreshToken.text]
        print(String(decoding: try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys]), as: UTF8.self))
    }
}
