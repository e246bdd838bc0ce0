import Foundation
@testable import Chain

/// A dev chain of its own for one test (`scripts/devchain`: eth-tester on py-evm, a real EVM,
/// with a geth-like mempool and test controls), so tests that stop mining or take the node
/// offline do not disturb each other. Stopped when released.
final class DevChain: @unchecked Sendable {
    let url: String
    let rpc: EthereumRPC
    private let process: Process

    /// Keys 0x01, 0x02 and 0x03, funded at genesis.
    static let owner = try! AccountKey(privateKey: Data(count: 31) + Data([1]))
    static let stranger = try! AccountKey(privateKey: Data(count: 31) + Data([2]))
    static let confirmator = try! AccountKey(privateKey: Data(count: 31) + Data([3]))

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process = Process()
        process.executableURL = root.appendingPathComponent("scripts/devchain")
        process.arguments = ["--port", "0"] + [Self.owner, Self.stranger, Self.confirmator].flatMap { ["--fund", $0.address.description] }
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The ready line names the port the dev chain bound.
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw ChainError.unexpected("scripts/devchain exited before it was ready") }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let start = text.range(of: "http://"), let end = text[start.lowerBound...].firstIndex(of: " ") else {
            throw ChainError.unexpected("unexpected dev chain output: \(text)")
        }
        url = String(text[start.lowerBound..<end])
        rpc = try EthereumRPC(url: url)
    }

    deinit {
        // SIGKILL: the dev chain keeps nothing worth a graceful stop, and a child of Foundation's
        // Process on Linux may not see SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Calls a test control (evm_mine, dev_setAutomine, ...), ignoring its answer.
    func control(_ method: String, _ params: [RPCParameter] = []) async throws {
        struct Anything: Decodable { init(from decoder: any Decoder) throws {} }
        _ = try await rpc.client.call(method, params, as: Anything?.self)
    }

    func mine(_ blocks: Int = 1) async throws { try await control("evm_mine", [.string(Quantity.encode(UInt64(blocks)))]) }

    func snapshot() async throws -> String { try await rpc.client.call("evm_snapshot", as: String.self) }

    func revert(to snapshot: String) async throws { try await control("evm_revert", [.string(snapshot)]) }

    /// The registry deployed by `owner`, with `confirmator` added.
    func deployRegistry() async throws -> JobsRegistry {
        let (registry, _) = try await JobsRegistry.deploy(rpc: rpc, key: Self.owner)
        _ = try await registry.addConfirmator(Self.confirmator.address, owner: Self.owner)
        return registry
    }
}
