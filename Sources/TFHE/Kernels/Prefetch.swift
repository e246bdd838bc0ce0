import Builtin

/// Asks the CPU to bring the cache line at `address` into L2 (LLVM's `llvm.prefetch`, read,
/// locality 2: `prefetcht1` on x86).
@inline(__always)
func prefetchLineIntoL2(_ address: UnsafeRawPointer) {
    Builtin.int_prefetch_RawPointer(address._rawValue, Int32(0)._value, Int32(2)._value, Int32(1)._value)
}

/// Asks for the `byteCount` bytes from `start` into L2, all at once.
@inline(__always)
func prefetchIntoL2(_ start: UnsafeRawPointer, byteCount: Int) {
    var offset = 0
    while offset < byteCount {
        prefetchLineIntoL2(start + offset)
        offset &+= 64
    }
}

/// A block of memory asked for into L2 a few lines at a time from inside the compute loops
/// (`FourierTransform` steps it once per loop iteration), so that the next GGSW of the
/// bootstrapping key streams in while the current one is in use. Asked for in bursts, as
/// before, a key of 74 to 131 KB per GGSW stalled the core: a prefetch that misses waits for
/// a free fill buffer, so a burst of hundreds of lines serialises memory and arithmetic
/// (the blind rotation ran at half the speed the same arithmetic reaches with the key in
/// cache).
struct PrefetchStream {
    private var next: UnsafeRawPointer
    private let end: UnsafeRawPointer
    private let linesPerStep: Int
    /// Steps taken, so that the caller can size the next stream's `linesPerStep`.
    private(set) var steps = 0

    /// `expectedSteps`: how many times the loops will step it before `finish`.
    @inline(__always)
    init(_ start: UnsafeRawPointer, byteCount: Int, expectedSteps: Int) {
        next = start
        end = start + byteCount
        let lines = (byteCount + 63) / 64
        linesPerStep = max(1, (lines + max(1, expectedSteps) - 1) / max(1, expectedSteps))
    }

    @inline(__always)
    mutating func step() {
        steps &+= 1
        var k = 0
        while k < linesPerStep && next < end {
            prefetchLineIntoL2(next)
            next += 64
            k &+= 1
        }
    }

    /// Asks for whatever the steps did not reach.
    @inline(__always)
    mutating func finish() {
        while next < end {
            prefetchLineIntoL2(next)
            next += 64
        }
    }
}
