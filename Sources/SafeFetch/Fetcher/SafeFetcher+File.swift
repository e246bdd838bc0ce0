import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// `file:` URLs, for deployments that stage inputs on a shared volume. The path is judged three
// times: lexically (`..` removed) before the file system is asked, so nothing tells the client
// what exists outside the root; with `realpath` (symbolic links resolved) before opening; and,
// on Linux, through /proc/self/fd after opening with O_NOFOLLOW, so a link swapped in between
// the check and the open is caught too.

extension SafeFetcher {
    func fetchFile(
        _ url: URL,
        policy: FetchPolicy,
        expected: String?,
        consume: @escaping @Sendable (Data) async throws -> Void
    ) async throws -> FetchResult {
        guard let root = policy.fileRoot else { throw FetchError.urlNotAllowed(.schemeNotAllowed("file")) }
        guard url.user == nil, url.password == nil else { throw FetchError.urlNotAllowed(.credentialsInURL) }
        guard (url.host ?? "").isEmpty || url.host == "localhost" else { throw FetchError.urlNotAllowed(.malformed) }
        let requested = url.path
        guard requested.hasPrefix("/"), !requested.contains("\0") else { throw FetchError.urlNotAllowed(.malformed) }

        guard let rootPath = Self.realPath(root.path) else { throw FetchError.fetchFailed(.io("the file root does not exist")) }
        if let forbidden = policy.forbiddenRoot {
            let forbiddenPath = Self.realPath(forbidden.path) ?? Self.lexicallyNormalized(forbidden.path)
            if Self.path(forbiddenPath, isWithin: rootPath) || Self.path(rootPath, isWithin: forbiddenPath) {
                throw FetchError.urlNotAllowed(.fileRootOverlapsForbiddenRoot)
            }
        }
        let lexical = Self.lexicallyNormalized(requested)
        guard Self.path(lexical, isWithin: rootPath) || Self.path(lexical, isWithin: Self.lexicallyNormalized(root.path)) else {
            throw FetchError.urlNotAllowed(.fileOutsideRoot)
        }
        guard let resolved = Self.realPath(lexical) else { throw FetchError.fetchFailed(.io("no such file")) }
        guard Self.path(resolved, isWithin: rootPath) else { throw FetchError.urlNotAllowed(.fileOutsideRoot) }

        let descriptor = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { throw FetchError.fetchFailed(.io(String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        #if os(Linux)
        guard let opened = Self.realPath("/proc/self/fd/\(descriptor)"), Self.path(opened, isWithin: rootPath) else {
            throw FetchError.urlNotAllowed(.fileOutsideRoot)
        }
        #endif
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FetchError.fetchFailed(.io(String(cString: strerror(errno)))) }
        guard status.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else { throw FetchError.urlNotAllowed(.notARegularFile) }
        guard Int(status.st_size) <= policy.maxBytes else { throw FetchError.tooLarge(limit: policy.maxBytes) }

        var meter = BodyMeter(limit: policy.maxBytes)
        while true {
            try Task.checkCancellation()
            // Never more than the limit plus one byte in memory, so a file that grows while it
            // is read is still stopped at the limit.
            let wanted = min(64 * 1024, meter.readAllowance)
            let chunk = try await NIOThreadPool.singleton.runIfActive {
                try Self.read(descriptor, upTo: wanted)
            }
            if chunk.isEmpty { break }
            try meter.admit(chunk)
            try await Self.deliver(chunk, to: consume)
        }
        return try meter.finish(expected: expected)
    }

    private static func read(_ descriptor: Int32, upTo count: Int) throws -> Data {
        var data = Data(count: count)
        let got = data.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, count) }
        guard got >= 0 else { throw FetchError.fetchFailed(.io(String(cString: strerror(errno)))) }
        return data.prefix(got)
    }

    /// The path with every symbolic link, `.` and `..` resolved; nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The absolute path with `.`, `..` and repeated slashes removed, without asking the file
    /// system (RFC 3986 §5.2.4 applied to a path); `..` above the root stays at the root.
    static func lexicallyNormalized(_ path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// Whether `path` is `root` or below it, component-wise (`/data2` is not within `/data`).
    static func path(_ path: String, isWithin root: String) -> Bool {
        let root = root.hasSuffix("/") ? String(root.dropLast()) : root
        return root.isEmpty || path == root || path.hasPrefix(root + "/")
    }
}

/// `read(2)`, named apart from the method above.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
