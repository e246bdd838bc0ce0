/// Bitwise operations, block by block in one layer (bivariate tables), and booleans.
extension IntegerServerKey {
    private func bitwise(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>,
                         _ f: @escaping (UInt64, UInt64) -> UInt64) throws -> RadixCiphertext<T> {
        try check(a, b)
        let (x, y) = try clean(a, b, maxNoise: 1)
        return RadixCiphertext(blocks: try shortint.bootstrap(zip(x, y).map { shortint.bivariate($0, $1, f) }))
    }

    public func bitAnd(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try bitwise(a, b) { $0 & $1 } }
    public func bitOr(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try bitwise(a, b) { $0 | $1 } }
    public func bitXor(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try bitwise(a, b) { $0 ^ $1 } }

    /// ~a: each digit d becomes (msg - 1) - d, linear, no bootstrap.
    public func bitNot(_ a: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a)
        let x = try propagated(a).blocks
        return RadixCiphertext(blocks: x.map { shortint.uncheckedSubtract(from: messageModulus - 1, $0) })
    }

    private func scalarBitwise(_ a: RadixCiphertext<T>, _ value: UInt64,
                               _ f: @escaping (UInt64, UInt64) -> UInt64) throws -> RadixCiphertext<T> {
        try check(a)
        let msg = messageModulus
        let x = try clean(a, maxNoise: encoding.maxNoiseLevel)
        let digits = digits(of: value, count: a.blockCount)
        return RadixCiphertext(blocks: try shortint.bootstrap(zip(x, digits).map { block, d in Lookup(block) { f($0 % msg, d) } }))
    }

    public func scalarBitAnd(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> RadixCiphertext<T> { try scalarBitwise(a, v) { $0 & $1 } }
    public func scalarBitOr(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> RadixCiphertext<T> { try scalarBitwise(a, v) { $0 | $1 } }
    public func scalarBitXor(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> RadixCiphertext<T> { try scalarBitwise(a, v) { $0 ^ $1 } }

    // MARK: Booleans (blocks holding 0 or 1)

    private func boolean(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>,
                         _ f: @escaping (UInt64, UInt64) -> UInt64) throws -> ShortintCiphertext<T> {
        try checkBoolean(a); try checkBoolean(b)
        let c = try shortint.cleaned([a, b], maxDegree: 1, maxNoise: 1)
        return try shortint.bootstrap([shortint.bivariate(c[0], c[1], f)])[0]
    }

    public func and(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> { try boolean(a, b) { $0 & $1 } }
    public func or(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> { try boolean(a, b) { $0 | $1 } }
    public func xor(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> { try boolean(a, b) { $0 ^ $1 } }

    /// 1 - b, linear.
    public func not(_ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        try checkBoolean(b)
        return shortint.uncheckedSubtract(from: 1, b)
    }

    /// The encrypted boolean as a 0/1 integer of `blockCount` blocks.
    public func integer(from b: ShortintCiphertext<T>, blockCount: Int) throws -> RadixCiphertext<T> {
        try checkBoolean(b)
        return RadixCiphertext(blocks: [b] + (1..<Swift.max(1, blockCount)).map { _ in trivialBlock(0) })
    }
}
