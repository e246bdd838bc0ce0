import ArgumentParser
import FHEJobs
import Foundation
import Jobs
import Logging

/// `fhe-jobs fhe ...`: the key service's operations.
struct FHECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhe",
        abstract: "Manage owners' TFHE key sets and the key-encryption key; time confidential jobs.",
        subcommands: [NewKEK.self, Keygen.self, ExportKeys.self, ImportKeys.self, RotateKEK.self, DeleteKeys.self, FHEBench.self])

    /// Runs `body` with the store migrated and its database clients running.
    static func withStore<R: Sendable>(_ storage: StorageOptions, _ body: @escaping @Sendable (ServiceGraph) async throws -> R) async throws -> R {
        let logger = Logger(label: "fhe-jobs.fhe")
        let graph = try await ServiceGraph.open(storage, logger: logger)
        return try await withThrowingTaskGroup(of: R?.self) { group in
            for service in graph.backgroundServices { group.addTask { try await service.run(); return nil } }
            group.addTask {
                try await graph.waitForDatabase(timeout: .seconds(30), logger: logger)
                try await graph.store.migrate()
                return try await body(graph)
            }
            defer { group.cancelAll() }
            while let next = try await group.next() { if let result = next { return result } }
            throw StartupError("the database client stopped")
        }
    }

    struct NewKEK: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new-kek", abstract: "Print a new random key-encryption key (base64 of 32 bytes).")
        func run() { print(KeyEncryptionKey.generateBase64()) }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an owner's key set ahead of its first use (prints its id).")
        @OptionGroup var storage: StorageOptions
        @OptionGroup var fhe: FHEOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The owner: the token subject (`sub`).") var owner: String

        func run() async throws {
            let (storage, fhe, tenant, owner) = (storage, fhe, tenant, owner)
            let id = try await FHECommand.withStore(storage) { graph in
                let logger = Logger(label: "fhe-jobs.fhe")
                let kek = try fhe.keyEncryptionKey(dataDirectory: storage.dataDirectory, allowGenerated: !graph.isPostgres, logger: logger)
                let service = try fhe.confidentialJobs(store: graph.store, dataDirectory: storage.dataDirectory, kek: kek, logger: logger)
                return try await service.keys.ownerKeySet(tenant: tenant, owner: owner).id
            }
            print(id)
        }
    }

    /// The wrapped key sets as JSON (still wrapped: the export opens nothing without the
    /// key-encryption key). Their public and server key blobs stay in the blob store.
    struct ExportKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export-keys", abstract: "Write every wrapped key set as JSON to standard output.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let records = try await FHECommand.withStore(storage) { graph in try await graph.store.allKeySets() }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(records.map(ExportedKeySet.init)), as: UTF8.self))
        }
    }

    struct ImportKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-keys", abstract: "Restore wrapped key sets from an export (standard input); existing owners keep theirs.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            let exported: [ExportedKeySet]
            do { exported = try JSONDecoder().decode([ExportedKeySet].self, from: data) } catch {
                throw StartupError("standard input is not an export of `fhe-jobs fhe export-keys`: \(error)")
            }
            let restored = try await FHECommand.withStore(storage) { graph in
                var count = 0
                for record in exported.map(\.record) where try await graph.store.insertKeySet(record).id == record.id { count += 1 }
                return count
            }
            print("\(restored) of \(exported.count) key sets restored")
        }
    }

    struct RotateKEK: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rotate-kek", abstract: "Re-wrap every key set under a new key-encryption key.")
        @OptionGroup var storage: StorageOptions
        @OptionGroup var fhe: FHEOptions
        @Option(help: "File holding the new key-encryption key (base64 of 32 bytes).") var newKekFile: String

        func run() async throws {
            let (storage, fhe, file) = (storage, fhe, newKekFile)
            let count = try await FHECommand.withStore(storage) { graph in
                let logger = Logger(label: "fhe-jobs.fhe")
                guard let newKey = try KeyEncryptionKey.load(file: file) else { throw StartupError("no key in \(file)") }
                let kek = try fhe.keyEncryptionKey(dataDirectory: storage.dataDirectory, allowGenerated: false, logger: logger)
                let service = try fhe.confidentialJobs(store: graph.store, dataDirectory: storage.dataDirectory, kek: kek, logger: logger)
                guard let keys = service.localKeys else { throw StartupError("rotate-kek runs where the key-encryption key is") }
                return try await keys.rotate(to: newKey)
            }
            print("\(count) key sets re-wrapped; start the service with the new key now")
        }
    }

    /// Crypto-shredding: with its secret key gone, no result of the owner can be opened again.
    struct DeleteKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-keys", abstract: "Delete an owner's key sets: its results become unrecoverable, on purpose.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The owner (`sub`).") var owner: String
        @Flag(help: "Confirm that the owner's results are to become unrecoverable.") var yes = false

        func run() async throws {
            guard yes else { throw ValidationError("this makes the owner's results unrecoverable: add --yes") }
            let (storage, tenant, owner) = (storage, tenant, owner)
            let deleted = try await FHECommand.withStore(storage) { graph in try await graph.store.deleteKeySets(tenant: tenant, owner: owner) }
            print("\(deleted.count) key sets deleted")
        }
    }
}

/// A key set in an export: every field, the secret key still wrapped.
struct ExportedKeySet: Codable {
    var id, tenant, owner, parameterSet, parameterFingerprint, kekID: String
    var wrappedSecretKey: Data
    var publicKeyBlob: String, publicKeyBytes: Int, serverKeyBlob: String, serverKeyBytes: Int
    var createdAt: Date

    init(_ r: KeySetRecord) {
        id = r.id; tenant = r.tenant; owner = r.owner; parameterSet = r.parameterSet; parameterFingerprint = r.parameterFingerprint
        kekID = r.kekID; wrappedSecretKey = r.wrappedSecretKey; publicKeyBlob = r.publicKeyBlob; publicKeyBytes = r.publicKeyBytes
        serverKeyBlob = r.serverKeyBlob; serverKeyBytes = r.serverKeyBytes; createdAt = r.createdAt
    }

    var record: KeySetRecord {
        KeySetRecord(id: id, tenant: tenant, owner: owner, parameterSet: parameterSet, parameterFingerprint: parameterFingerprint,
                     wrappedSecretKey: wrappedSecretKey, kekID: kekID, publicKeyBlob: publicKeyBlob, publicKeyBytes: publicKeyBytes,
                     serverKeyBlob: serverKeyBlob, serverKeyBytes: serverKeyBytes, createdAt: createdAt)
    }
}
