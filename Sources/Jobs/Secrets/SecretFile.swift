#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Files that hold secret keys (the signing key, the key-encryption key, the dev token key,
/// account keys, client keys). Created in one `open(2)` with `O_CREAT | O_EXCL` and mode 0600,
/// so the key is never, even for a moment, readable by others and never replaces a file; read
/// only if no one but the owner can read or write them (a key others could read is as good as
/// leaked, so it is refused with the `chmod` that fixes it, not used with a warning).
public enum SecretFile {
    /// Creates `path` with `contents`, mode 0600, and flushes it to disk; refuses an existing file.
    public static func create(_ path: String, contents: Data) throws(SecretFileError) {
        let file: PosixFile
        do { file = try PosixFile.create(path) } catch {
            throw FileManager.default.fileExists(atPath: path) ? .exists(path) : .io(path, "cannot create it: \(error)")
        }
        do {
            try file.write(contents)
            try file.sync()
        } catch {
            unlink(path)
            throw .io(path, "cannot write it: \(error)")
        }
    }

    /// The largest secret file read: every key file here is far smaller (a client key of the
    /// largest parameter set is under 1 MiB), and a path to something else (a disk image, a
    /// log) must not become an allocation of its size.
    public static let sizeLimit = 16 << 20

    /// The file's bytes, or nil if there is no file; refuses a file that its group or others
    /// may read or write (symbolic links are followed, as for a mounted secret), and one
    /// larger than `limit`.
    public static func read(_ path: String, limit: Int = sizeLimit) throws(SecretFileError) -> Data? {
        // Checked by path first (so a FIFO is never opened and waited on), then again on the
        // descriptor that is read, so the file cannot be swapped between the check and the read.
        guard try checkOwnerOnly(path, missingIsFine: true) else { return nil }
        let opened: PosixFile?
        do { opened = try PosixFile.openForReading(path) } catch { throw .io(path, "cannot read it: \(error)") }
        guard let file = opened else { return nil }
        let mode: mode_t, size: Int
        do { (mode, size) = (try file.mode(), try file.size()) } catch { throw .io(path, "cannot read it: \(error)") }
        try requireOwnerOnly(mode, path)
        guard size <= limit else { throw .io(path, "it holds \(size) bytes, more than a secret key file (at most \(limit))") }
        do { return try file.read(at: 0, count: size) } catch { throw .io(path, "cannot read it: \(error)") }
    }

    /// Checks that `path` is a regular file only its owner may read or write; false if there
    /// is no file and `missingIsFine`.
    @discardableResult
    public static func checkOwnerOnly(_ path: String, missingIsFine: Bool = false) throws(SecretFileError) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT, missingIsFine { return false }
            throw .io(path, "cannot read it: \(String(cString: strerror(errno)))")
        }
        try requireOwnerOnly(status.st_mode, path)
        return true
    }

    /// A regular file that neither its group nor others may read or write.
    private static func requireOwnerOnly(_ mode: mode_t, _ path: String) throws(SecretFileError) {
        guard (mode & S_IFMT) == S_IFREG else { throw .io(path, "it is not a regular file") }
        let permissions = Int(mode & 0o777)
        guard permissions & 0o077 == 0 else { throw .exposed(path, mode: permissions) }
    }
}

/// Why a secret file could not be created or read, as one line.
public enum SecretFileError: Error, Equatable, CustomStringConvertible {
    case exists(String)
    case exposed(String, mode: Int)
    case io(String, String)

    public var description: String {
        switch self {
        case .exists(let path): "\(path) exists; a secret key is never overwritten"
        case .exposed(let path, let mode):
            "\(path) holds a secret key but its mode is \(String(mode, radix: 8)), so others may read it: `chmod 600 \(path)` (and replace the key if others did read it)"
        case .io(let path, let reason): "\(path): \(reason)"
        }
    }
}
