/// Casts between widths, as Swift's `truncatingIfNeeded` for unsigned integers: widening
/// adds zero blocks (noiseless, no bootstrap), narrowing drops the high blocks once carries
/// are resolved.
extension IntegerServerKey {
    public func cast(_ a: RadixCiphertext<T>, toBlockCount count: Int) throws -> RadixCiphertext<T> {
        try check(a)
        guard count > 0 else { throw TFHEError.unsupported("a radix ciphertext needs at least one block") }
        let x = try propagated(a).blocks
        if count <= x.count { return RadixCiphertext(blocks: Array(x[..<count])) }
        return RadixCiphertext(blocks: x + (x.count..<count).map { _ in trivialBlock(0) })
    }

    /// a != 0, as a boolean.
    public func isNonZero(_ a: RadixCiphertext<T>) throws -> ShortintCiphertext<T> {
        try scalarNe(a, 0)
    }
}
