import ArgumentParser

@main
struct FHEJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhe-jobs",
        abstract: "The confidential-compute job service: REST API, queue workers and confirmations.",
        subcommands: [Serve.self, Worker.self, KeyServiceCommand.self, Migrate.self, Token.self, ChainCommand.self, LedgerCommand.self, FHECommand.self],
        defaultSubcommand: Serve.self)
}
