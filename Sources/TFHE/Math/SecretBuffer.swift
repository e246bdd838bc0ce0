/// Secret words (key coefficients) in memory of their own, wiped by `SecretMemory` when the
/// buffer is released.
///
/// The type is non-copyable so that the words cannot leave it by an implicit copy: a Swift
/// array is copy-on-write, and every copy or reallocation of one leaves an unwiped duplicate of
/// the secret on the heap. Readers borrow the words for the length of a closure
/// (`withUnsafeBufferPointer`) or one at a time (the subscript). Best effort, like all
/// zeroization (see `SecretMemory`): a caller that copies the words out of the closure makes
/// a copy this buffer cannot wipe.
struct SecretBuffer<Element: BitwiseCopyable>: ~Copyable {
    let count: Int
    private let base: UnsafeMutablePointer<Element>
    /// Test hook: sees the memory after the wipe and before it is freed, which is how the tests
    /// know the wipe happened (freed memory cannot be read).
    private let releaseObserver: ((UnsafeRawBufferPointer) -> Void)?

    private var byteCount: Int { count * MemoryLayout<Element>.stride }

    /// A buffer of `count` words that `fill` writes in place; if `fill` throws, what it wrote is
    /// wiped before the error propagates.
    init(count: Int, releaseObserver: ((UnsafeRawBufferPointer) -> Void)? = nil,
         fill: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        precondition(count >= 0)
        let allocated = max(1, count) * MemoryLayout<Element>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: allocated, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: allocated)
        let words = raw.bindMemory(to: Element.self, capacity: max(1, count))
        var filled = false
        defer {
            if !filled {
                Self.release(words, byteCount: count * MemoryLayout<Element>.stride, observer: releaseObserver)
            }
        }
        try fill(UnsafeMutableBufferPointer(start: words, count: count))
        filled = true
        self.count = count
        self.base = words
        self.releaseObserver = releaseObserver
    }

    subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "secret word index out of range")
        return base[i]
    }

    /// The words, for the length of `body`, which must not keep the pointer.
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    deinit { Self.release(base, byteCount: byteCount, observer: releaseObserver) }

    private static func release(_ words: UnsafeMutablePointer<Element>, byteCount: Int,
                                observer: ((UnsafeRawBufferPointer) -> Void)?) {
        SecretMemory.wipe(words, byteCount: byteCount)
        observer?(UnsafeRawBufferPointer(start: words, count: byteCount))
        words.deallocate()
    }
}
