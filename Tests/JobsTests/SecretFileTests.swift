import Foundation
import Jobs
import Testing

/// Secret key files: created 0600 in one call and never over a file; refused when others may
/// read them.
@Suite("Secret files") struct SecretFileTests {
    @Test func createdOwnerOnlyNeverOverwrittenRefusedWhenExposed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k").path
        #expect(try SecretFile.read(path) == nil)
        // Created with mode 0600 (under the usual umask 022 a default mode would give 0644). The
        // umask is not changed here: it is the whole process's, and other tests run at once.
        try SecretFile.create(path, contents: Data("secret".utf8))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try SecretFile.read(path) == Data("secret".utf8))
        #expect(throws: SecretFileError.exists(path)) { try SecretFile.create(path, contents: Data("other".utf8)) }
        #expect(try SecretFile.read(path) == Data("secret".utf8), "the existing key is untouched")
        // A file larger than the limit is refused before it is read into memory.
        #expect(try SecretFile.read(path, limit: 6) == Data("secret".utf8))
        #expect(throws: SecretFileError.self) { _ = try SecretFile.read(path, limit: 5) }
        for mode in [0o644, 0o640, 0o604, 0o660] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            #expect(throws: SecretFileError.exposed(path, mode: mode)) { _ = try SecretFile.read(path) }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(try SecretFile.read(path) != nil, "read-only for the owner is fine")
        #expect(throws: SecretFileError.self) { _ = try SecretFile.read(dir.path) }
        #expect("\(SecretFileError.exposed(path, mode: 0o644))".contains("chmod 600 \(path)"))
    }
}
