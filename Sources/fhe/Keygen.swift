import ArgumentParser
import Foundation
import TFHE

/// `fhe keygen`: a client key, a server key and a public key, compressed (seeded) by default.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a client key, a server key and a public key into a folder.")

    @Option(help: "A parameter file or the name of one in the parameter folder.")
    var params: String

    @Option(help: "The folder to write client.key, server.key, public.key and params.json into.")
    var out: String

    @Flag(help: "Write the server and public keys in full rather than seeded (compressed).")
    var uncompressed = false

    @Flag(help: "Accept an insecure (test-only) parameter set.")
    var allowInsecure = false

    @Flag(help: "Accept a set kept for benchmarks only (its security rests on an outdated estimate).")
    var allowBenchmarkOnly = false

    func run() throws {
        let set = try loadParameters(params, allowInsecure: allowInsecure)
        if !set.insecure {
            do { try set.checkUsableForProductionKeys(allowBenchmarkOnly: allowBenchmarkOnly) } catch {
                throw CLIError("\(error) (--allow-benchmark-only to make keys for a benchmark)")
            }
        }
        let folder = URL(fileURLWithPath: out)
        // For its owner alone: it will hold the client key.
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw CLIError("cannot create \(out): \(error.localizedDescription)")
        }
        // Nothing is written over an existing key set: its client key would be lost.
        let clientKeyPath = folder.appendingPathComponent("client.key").path
        guard !FileManager.default.fileExists(atPath: clientKeyPath) else {
            throw CLIError("\(clientKeyPath) exists; keygen never overwrites a secret key (choose another --out)")
        }
        // The parameter file travels with the keys, so other commands find the set by fingerprint.
        let source = ParameterLocation.resolve(params)
        guard let parameterFile = try? Data(contentsOf: source) else { throw CLIError("cannot read \(source.path)") }
        try ObjectFile.write(parameterFile, to: folder.appendingPathComponent("params.json").path)
        if set.torusBits == 32 {
            try generate(UInt32.self, set, folder)
        } else {
            try generate(UInt64.self, set, folder)
        }
    }

    func generate<T: TorusScalar>(_: T.Type, _ set: ParameterSet, _ folder: URL) throws {
        print("parameter set \(set.name) (fingerprint \(String(set.fingerprint, radix: 16)))\(set.insecure ? "  INSECURE" : "")")
        let client = try ClientKey<T>(parameters: set)
        var clientBytes = client.serialized()
        try save(clientBytes, "client.key", folder, secret: true)
        clientBytes.resetBytes(in: 0..<clientBytes.count)  // the key's bits, once written
        let start = DispatchTime.now().uptimeNanoseconds
        let server = uncompressed ? ServerKey(clientKey: client).serialized() : CompressedServerKey(clientKey: client).serialized()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try save(server, "server.key", folder, secret: false, note: String(format: "generated and serialized in %.2f s", seconds))
        if set.order == .keySwitchThenBootstrap {
            let publicKey = try uncompressed ? PublicKey(clientKey: client).serialized()
                                             : CompressedPublicKey(clientKey: client).serialized()
            try save(publicKey, "public.key", folder, secret: false)
        } else {
            print("  public.key   not written: public-key encryption needs a ks_pbs parameter set")
        }
    }

    func save(_ data: Data, _ name: String, _ folder: URL, secret: Bool, note: String? = nil) throws {
        let path = folder.appendingPathComponent(name).path
        try ObjectFile.write(data, to: path, secret: secret)
        let header = try ObjectHeader.read(from: data)
        let form = header.kind.hasCompressedForm ? (header.compressed ? " (compressed)" : " (full)") : ""
        print("  \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(header.kind)\(form), \(data.count) bytes, sha256 \(ObjectFile.shortChecksum(header))\(note.map { ", \($0)" } ?? "")")
    }
}
