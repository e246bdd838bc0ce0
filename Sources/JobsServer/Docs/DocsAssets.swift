import Foundation

/// Swagger UI's distribution files, read from one folder only: a request names a single file
/// of it (no folders, no `..`, nothing hidden), whose resolved path must still lie in the
/// folder (a symbolic link out of it is refused), of a type in `contentTypes`, and of a
/// bounded size. Everything else is "not found".
struct DocsAssets: Sendable {
    /// The folder of swagger-ui-dist (`scripts/lib/docs-assets.sh` installs it).
    let directory: URL

    /// The file the page cannot work without; its absence means the files are not installed.
    static let bundleFile = "swagger-ui-bundle.js"
    /// swagger-ui-bundle.js is 1.6 MB and its source map 2 MB; nothing in the folder is near this.
    static let maxFileBytes = 16 << 20

    /// By extension; the page's files only. `nosniff` makes browsers hold to them.
    static let contentTypes: [String: String] = [
        "js": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "html": "text/html; charset=utf-8",
        "png": "image/png",
        "map": "application/json",
        "txt": "text/plain; charset=utf-8",
    ]

    enum Lookup: Equatable {
        case file(Data, contentType: String)
        case notFound
        /// The folder, or Swagger UI's bundle in it, is missing.
        case notInstalled
    }

    var isInstalled: Bool {
        FileManager.default.isReadableFile(atPath: directory.appendingPathComponent(Self.bundleFile).path)
    }

    func file(named name: String) -> Lookup {
        guard isInstalled else { return .notInstalled }
        guard Self.isPlainName(name), let ext = name.split(separator: ".").last.map(String.init),
              let contentType = Self.contentTypes[ext.lowercased()] else { return .notFound }
        // Resolve links in both paths and require the file's parent to be the folder itself.
        let folder = directory.resolvingSymlinksInPath().standardizedFileURL
        let file = directory.appendingPathComponent(name).resolvingSymlinksInPath().standardizedFileURL
        guard file.deletingLastPathComponent().path == folder.path else { return .notFound }
        guard (try? file.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
              let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int).flatMap({ $0 }),
              size <= Self.maxFileBytes, let data = try? Data(contentsOf: file) else { return .notFound }
        return .file(data, contentType: contentType)
    }

    /// 1 to 128 characters of letters, digits, `.`, `-`, `_`, starting with a letter or digit,
    /// with no `..`: one file name, never a path, never hidden.
    static func isPlainName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), !name.contains(".."), let first = name.utf8.first,
              isAlphanumeric(first) else { return false }
        return name.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x2e || $0 == 0x2d || $0 == 0x5f }
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    }
}
