/// A fixed-size, 64-byte aligned, zero-initialised buffer: the storage of every hot-path
/// array in the engine (twiddles, Fourier-domain keys, scratch space), so that SIMD loads
/// never straddle cache lines and no array copy-on-write check sits in an inner loop.
public final class AlignedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Element>

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(1, count) * MemoryLayout<Element>.stride, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, count) * MemoryLayout<Element>.stride)
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    public convenience init(_ values: [Element]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Overwrites the contents with zeros, by a wipe the optimiser keeps even just before the
    /// buffer is released (`SecretMemory`): how scratch space that held secret-derived words is
    /// cleaned. Secret keys themselves live in a `SecretBuffer`.
    public func zeroize() {
        SecretMemory.wipe(pointer, byteCount: count * MemoryLayout<Element>.stride)
    }

    public var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit { pointer.deallocate() }
}
