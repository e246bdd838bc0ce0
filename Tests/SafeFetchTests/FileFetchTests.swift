import Foundation
import SafeFetch
import Testing

@Suite("file: URLs under the file root")
struct FileFetchTests {
    /// A fresh directory tree: root/inside.bin, root/sub/, outside/secret.bin, and links
    /// root/escape -> outside/secret.bin and root/sub/up -> outside.
    final class Tree {
        let base: URL
        let root: URL
        let outside: URL

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("safefetch-\(UUID().uuidString)")
            root = base.appendingPathComponent("root")
            outside = base.appendingPathComponent("outside")
            let files = FileManager.default
            try files.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
            try files.createDirectory(at: outside, withIntermediateDirectories: true)
            try Data(patternBytes(5000)).write(to: root.appendingPathComponent("inside.bin"))
            try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.bin"))
            try files.createSymbolicLink(at: root.appendingPathComponent("escape"), withDestinationURL: outside.appendingPathComponent("secret.bin"))
            try files.createSymbolicLink(at: root.appendingPathComponent("sub/up"), withDestinationURL: outside)
            try files.createSymbolicLink(at: root.appendingPathComponent("sub/alias.bin"), withDestinationURL: root.appendingPathComponent("inside.bin"))
        }

        deinit { try? FileManager.default.removeItem(at: base) }

        func policy(maxBytes: Int = 1 << 20, forbidden: URL? = nil) -> FetchPolicy {
            FetchPolicy(fileRoot: root, forbiddenRoot: forbidden, maxBytes: maxBytes)
        }

        func url(_ path: String) -> String { "file://\(root.path)/\(path)" }
    }

    @Test("a file inside the root is streamed, through a link that stays inside too")
    func inside() async throws {
        let tree = try Tree()
        let (result, consumed) = await fetch(tree.url("inside.bin"), tree.policy())
        #expect(try result.get().byteCount == 5000)
        #expect(consumed == Data(patternBytes(5000)))
        let alias = await fetch(tree.url("sub/alias.bin"), tree.policy())
        #expect(try alias.result.get() == result.get())
        let dotted = await fetch(tree.url("sub/../inside.bin"), tree.policy())
        #expect(try dotted.result.get() == result.get())
    }

    @Test("`..` and links that leave the root are refused", arguments: ["../outside/secret.bin", "sub/../../outside/secret.bin", "%2e%2e/outside/secret.bin", "escape", "sub/up/secret.bin"])
    func escapes(_ path: String) async throws {
        let tree = try Tree()
        let (result, consumed) = await fetch(tree.url(path), tree.policy())
        #expect(result.failure == .urlNotAllowed(.fileOutsideRoot))
        #expect(consumed.isEmpty)
    }

    @Test("an absolute path elsewhere is refused, existing or not")
    func elsewhere() async throws {
        let tree = try Tree()
        #expect(await fetch("file:///etc/passwd", tree.policy()).result.failure == .urlNotAllowed(.fileOutsideRoot))
        #expect(await fetch("file:///no/such/file", tree.policy()).result.failure == .urlNotAllowed(.fileOutsideRoot))
        #expect(await fetch("file://otherhost\(tree.root.path)/inside.bin", tree.policy()).result.failure == .urlNotAllowed(.malformed))
    }

    @Test("a directory is not a file, and a missing file inside the root is a read failure")
    func notAFile() async throws {
        let tree = try Tree()
        #expect(await fetch(tree.url("sub"), tree.policy()).result.failure == .urlNotAllowed(.notARegularFile))
        #expect(await fetch(tree.url("missing.bin"), tree.policy()).result.failure == .fetchFailed(.io("no such file")))
    }

    @Test("a file past the limit is refused, and the digest is checked")
    func limitsAndDigest() async throws {
        let tree = try Tree()
        #expect(await fetch(tree.url("inside.bin"), tree.policy(maxBytes: 4999)).result.failure == .tooLarge(limit: 4999))
        try Data(SHA256Vector.abc.bytes).write(to: tree.root.appendingPathComponent("abc"))
        #expect(try await fetch(tree.url("abc"), tree.policy(), sha256: SHA256Vector.abc.hex).result.get().sha256 == SHA256Vector.abc.hex)
        guard case .checksumMismatch = await fetch(tree.url("inside.bin"), tree.policy(), sha256: SHA256Vector.abc.hex).result.failure else {
            Issue.record("expected a checksum mismatch")
            return
        }
    }

    @Test("a file root that contains or lies in the forbidden root serves nothing")
    func forbiddenRoot() async throws {
        let tree = try Tree()
        let containing = await fetch(tree.url("inside.bin"), tree.policy(forbidden: tree.root.appendingPathComponent("sub")))
        #expect(containing.result.failure == .urlNotAllowed(.fileRootOverlapsForbiddenRoot))
        let within = await fetch(tree.url("inside.bin"), tree.policy(forbidden: tree.base))
        #expect(within.result.failure == .urlNotAllowed(.fileRootOverlapsForbiddenRoot))
        let apart = await fetch(tree.url("inside.bin"), tree.policy(forbidden: tree.outside))
        #expect(try apart.result.get().byteCount == 5000)
    }
}
