import ArgumentParser
import Jobs
import Logging
import ServiceLifecycle

/// `fhe-jobs migrate`: applies the database migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations not yet applied, and exit.")

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let logger = Logger(label: "fhe-jobs.migrate")
        let graph = try await ServiceGraph.open(storage, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in graph.backgroundServices { group.addTask { try await service.run() } }
            try await graph.waitForDatabase(timeout: .seconds(30), logger: logger)
            try await graph.store.migrate()
            group.cancelAll()
        }
        print("migrations applied")
    }
}
