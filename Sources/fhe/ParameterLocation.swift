import Foundation
import TFHE

/// Finds a parameter file given as a path or as the name of a file in the parameter folder
/// ($FHE_PARAMS_DIR, else ./params).
enum ParameterLocation {
    static let defaultName = "tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128"

    static var folder: URL {
        if let dir = ProcessInfo.processInfo.environment["FHE_PARAMS_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("params")
    }

    static func resolve(_ nameOrPath: String) -> URL {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") { return URL(fileURLWithPath: nameOrPath) }
        return folder.appendingPathComponent(nameOrPath + ".json")
    }

    static func load(_ nameOrPath: String, allowInsecure: Bool) throws -> ParameterSet {
        try ParameterSet.load(contentsOf: resolve(nameOrPath), allowInsecure: allowInsecure)
    }

    static func availableNames() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The parameter set whose fingerprint an object carries: looked for in `extraFolders`
    /// (where keygen left its params.json) and then in the parameter folder.
    static func find(fingerprint: UInt64, extraFolders: [URL] = []) -> ParameterSet? {
        for dir in extraFolders + [folder] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                if let set = try? ParameterSet.load(contentsOf: dir.appendingPathComponent(file), allowInsecure: true),
                   set.fingerprint == fingerprint {
                    return set
                }
            }
        }
        return nil
    }
}
