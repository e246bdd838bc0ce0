#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An open file descriptor, closed when the last reference goes, with the POSIX calls the file
/// blob store needs; each failure is a `BlobStoreError.io` naming the call, the path and errno.
///
/// Foundation's `FileHandle` and `FileManager` cannot create a file with a mode (they chmod
/// after), fsync a directory, hard-link without replacing or take an flock(2), so these are the
/// system calls themselves. All of them block: callers run them off the cooperative pool.
final class PosixFile: Sendable {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) { self.descriptor = descriptor; self.path = path }

    deinit { _ = close(descriptor) }

    /// Creates a new file, readable and writable by the owner only from the start (O_EXCL: never
    /// an existing file).
    static func create(_ path: String) throws(BlobStoreError) -> PosixFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .posix("create", path) }
        return PosixFile(descriptor: fd, path: path)
    }

    /// Opens a file for reading; nil if there is none.
    static func openForReading(_ path: String) throws(BlobStoreError) -> PosixFile? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0, errno == ENOENT { return nil }
        guard fd >= 0 else { throw .posix("open", path) }
        return PosixFile(descriptor: fd, path: path)
    }

    /// Opens (creating if needed, 0600) a file used only for its flock(2).
    static func openLockFile(_ path: String) throws(BlobStoreError) -> PosixFile {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .posix("open lock", path) }
        return PosixFile(descriptor: fd, path: path)
    }

    /// Writes all of `data` at the current offset.
    func write(_ data: Data) throws(BlobStoreError) {
        let failed = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Bool in
            var done = 0
            while done < buffer.count {
                let n = systemWrite(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 { if errno == EINTR { continue }; return true }
                done += n
            }
            return false
        }
        if failed { throw .posix("write", path) }
    }

    /// Up to `count` bytes from `offset` (fewer only at the end of the file).
    func read(at offset: Int, count: Int) throws(BlobStoreError) -> Data {
        var data = Data(count: count)
        let got = data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) -> Int in
            var done = 0
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; return -1 }
                if n == 0 { break }
                done += n
            }
            return done
        }
        guard got >= 0 else { throw .posix("read", path) }
        if got < count { data.removeSubrange(got...) }
        return data
    }

    /// The file's type and permission bits, from fstat(2) on this descriptor.
    func mode() throws(BlobStoreError) -> mode_t {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { throw .posix("fstat", path) }
        return st.st_mode
    }

    func size() throws(BlobStoreError) -> Int {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { throw .posix("fstat", path) }
        return Int(st.st_size)
    }

    /// Flushes the file's content and metadata to the disk.
    func sync() throws(BlobStoreError) {
        guard fsync(descriptor) == 0 else { throw .posix("fsync", path) }
    }

    /// Waits for the exclusive flock(2) of this open file; it ends with `unlock` or the close.
    /// Two opens of one file conflict even within a process (flock locks belong to the open
    /// file description, unlike fcntl locks), so tasks and processes exclude each other alike.
    func lock() throws(BlobStoreError) {
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .posix("flock", path) }
        }
    }

    func unlock() { _ = flock(descriptor, LOCK_UN) }

    // MARK: Paths

    /// Flushes a directory, so the entries created or removed in it survive a crash.
    static func syncDirectory(_ path: String) throws(BlobStoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .posix("open directory", path) }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw .posix("fsync directory", path) }
    }

    /// Creates a directory (0700); false if it existed already.
    @discardableResult
    static func makeDirectory(_ path: String) throws(BlobStoreError) -> Bool {
        if mkdir(path, 0o700) == 0 { return true }
        if errno == EEXIST { return false }
        throw .posix("mkdir", path)
    }

    /// Hard-links `existing` as `new`; false if `new` exists already (it is left as it is).
    static func link(_ existing: String, as new: String) throws(BlobStoreError) -> Bool {
        if systemLink(existing, new) == 0 { return true }
        if errno == EEXIST { return false }
        throw .posix("link", new)
    }

    /// Replaces `new` by `existing` in one step.
    static func rename(_ existing: String, to new: String) throws(BlobStoreError) {
        guard systemRename(existing, new) == 0 else { throw .posix("rename", new) }
    }

    /// Removes a file; false if there was none.
    @discardableResult
    static func remove(_ path: String) throws(BlobStoreError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .posix("unlink", path)
    }

    /// Removes an empty directory; false if there was none.
    @discardableResult
    static func removeDirectory(_ path: String) throws(BlobStoreError) -> Bool {
        if rmdir(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .posix("rmdir", path)
    }

    /// The names in a directory (without `.` and `..`); empty if there is no such directory.
    static func entries(_ path: String) throws(BlobStoreError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw .posix("opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Size and modification time of a path; nil if there is none.
    static func status(_ path: String) throws(BlobStoreError) -> (size: Int, modified: Date)? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw .posix("stat", path)
        }
        #if canImport(Darwin)
        let mtime = st.st_mtimespec
        #else
        let mtime = st.st_mtim
        #endif
        return (Int(st.st_size), Date(timeIntervalSince1970: TimeInterval(mtime.tv_sec) + TimeInterval(mtime.tv_nsec) / 1e9))
    }
}

// The methods above share these calls' names; these reach the C functions.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
private func systemLink(_ existing: String, _ new: String) -> Int32 { link(existing, new) }
private func systemRename(_ existing: String, _ new: String) -> Int32 { rename(existing, new) }

extension BlobStoreError {
    /// The failure of a system call, read from errno.
    static func posix(_ call: String, _ path: String) -> BlobStoreError {
        let code = errno
        return .io("\(call) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }
}
