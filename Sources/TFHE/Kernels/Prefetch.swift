import Builtin

/// Asks the CPU to bring the cache lines of `byteCount` bytes from `start` into L2 (LLVM's
/// `llvm.prefetch`, read, locality 2: `prefetcht1` on x86). Blind rotation uses it to stream
/// the next GGSW of the bootstrapping key from memory while it computes with the current one.
@inline(__always)
func prefetchIntoL2(_ start: UnsafeRawPointer, byteCount: Int) {
    var offset = 0
    while offset < byteCount {
        Builtin.int_prefetch_RawPointer((start + offset)._rawValue, Int32(0)._value, Int32(2)._value, Int32(1)._value)
        offset &+= 64
    }
}
