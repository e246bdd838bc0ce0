#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Wiping memory that held secret material.
///
/// A plain store of zeros into memory that is about to be freed is a dead store: the
/// optimiser may drop it, since nothing reads the memory again. The C library's wipe
/// functions are specified to survive that (C11 Annex K `memset_s` on Darwin, glibc's and
/// musl's `explicit_bzero` on Linux), and being outside the module they are opaque to Swift's
/// optimiser as well. swift-homomorphic-encryption and swift-crypto wipe their secrets the
/// same way.
///
/// Best effort only: this wipes the one region it is given. Copies the program made earlier
/// (registers, stack spills, pages the kernel swapped out, a core dump) are out of its reach.
enum SecretMemory {
    static func wipe(_ start: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount > 0 else { return }
        #if canImport(Darwin)
        _ = memset_s(start, byteCount, 0, byteCount)
        #elseif canImport(Glibc) || canImport(Musl)
        explicit_bzero(start, byteCount)
        #else
        wipeWithoutLibrary(start, byteCount: byteCount)
        #endif
    }

    static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let start = buffer.baseAddress else { return }
        wipe(start, byteCount: buffer.count)
    }

    /// A platform without a libc wipe: a loop the optimiser is told not to touch, in a
    /// function it may not inline into the caller that frees the memory.
    @inline(never) @_optimize(none)
    private static func wipeWithoutLibrary(_ start: UnsafeMutableRawPointer, byteCount: Int) {
        let bytes = start.assumingMemoryBound(to: UInt8.self)
        for i in 0..<byteCount { bytes[i] = 0 }
    }
}
