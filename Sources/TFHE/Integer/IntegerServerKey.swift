/// The evaluation key of radix integers: every operation of `FheUint` is a method here.
///
/// An operation is a sequence of layers of independent bootstraps, each run on all cores by
/// the shortint key's `BootstrapPool`. Comparisons reduce by trees (layers grow with the
/// logarithm of the block count); additions resolve carries as `carryPropagation` says: by
/// default block by block with one many-LUT bootstrap each, the fewest bootstraps and the
/// fastest plan on few cores, the same on every machine so that quotes are exact. Results
/// are exact: operands whose degree or noise would overflow an operation are cleaned first
/// (TFHE-rs's default operations).
public final class IntegerServerKey<T: TorusScalar>: Sendable {
    public let shortint: ShortintServerKey<T>
    /// How additions resolve their carries (`CarryPropagation`; `.ripple` unless asked).
    public let carryPropagation: CarryPropagation
    /// Whether additions, subtractions, negations and products (scalar ones too) leave their
    /// last carry propagation to the next operation that needs clean blocks (`deferredSum`).
    /// Off by default: an operation propagates each operand it needs clean on its own, so a
    /// result read twice would be propagated twice; a caller that knows how often each result
    /// is read (the operation graphs' evaluator) uses `deferringPropagation()` and propagates
    /// once what is read more than once.
    public let defersPropagation: Bool

    public init(shortint: ShortintServerKey<T>, carryPropagation: CarryPropagation = .ripple, defersPropagation: Bool = false) {
        self.shortint = shortint
        self.carryPropagation = carryPropagation
        self.defersPropagation = defersPropagation
    }

    /// The same key (the same server key, pool and bootstrap count) with deferred propagation.
    public func deferringPropagation() -> IntegerServerKey<T> {
        IntegerServerKey(shortint: shortint, carryPropagation: carryPropagation, defersPropagation: true)
    }

    public convenience init(serverKey: ServerKey<T>, workerCount: Int? = nil, batchSize: Int? = nil,
                            carryPropagation: CarryPropagation = .ripple) throws {
        try self.init(shortint: ShortintServerKey(serverKey: serverKey, workerCount: workerCount, batchSize: batchSize),
                      carryPropagation: carryPropagation)
    }

    /// A key that runs exactly the same integer code but performs no bootstrap (see
    /// `ShortintServerKey.metadataOnly`): its `bootstrapCount` after an operation is the number
    /// of bootstraps a real key of `parameters` performs for it on inputs of the same metadata.
    /// It is how a program's cost is quoted before it runs.
    /// A quote is exact when it is made with the carry propagation the evaluating key uses.
    public static func metadataOnly(parameters: ParameterSet, carryPropagation: CarryPropagation = .ripple) throws -> IntegerServerKey<T> {
        IntegerServerKey(shortint: try .metadataOnly(parameters: parameters), carryPropagation: carryPropagation)
    }

    /// A new key object for one evaluation: it shares this key's server key and pool (nothing
    /// is copied), counts only its own bootstraps in `bootstrapCount` (from 0), and calls
    /// `observer` BEFORE each layer of independent bootstraps with the number of bootstraps
    /// that layer is about to perform, on the thread running the operation.
    ///
    /// - Progress: when `observer` is called, the observed key's `bootstrapCount` is the number
    ///   of bootstraps done so far (the layers before this one); the sum of the arguments
    ///   received so far is that count plus this layer. When the operation returns, all are done.
    /// - Stopping: an error thrown by `observer` propagates unchanged out of the integer
    ///   operation before the layer's work starts, so a caller can throw its own
    ///   `CancellationError` between layers; the count is then what was done before.
    ///
    /// Empty layers are not observed. Layers run one after another, so `observer` is never
    /// called concurrently by one operation (but it is by two operations run at once on the
    /// same observed key).
    public func observing(_ observer: @escaping @Sendable (_ bootstrapsInLayer: Int) throws -> Void) -> IntegerServerKey<T> {
        IntegerServerKey(shortint: shortint.observing(observer), carryPropagation: carryPropagation, defersPropagation: defersPropagation)
    }

    public var parameters: ParameterSet { shortint.parameters }
    public var encoding: ShortintEncoding { shortint.encoding }
    /// Bootstraps performed so far through this key object (all operations, all threads); a
    /// key made by `observing` counts its own, and they are not added to this one's.
    public var bootstrapCount: Int { shortint.bootstrapCount }

    var messageModulus: UInt64 { encoding.messageModulus }
    /// Bits of message per block.
    var bitsPerBlock: Int { encoding.messageModulus.trailingZeroBitCount }

    typealias Block = ShortintCiphertext<T>
    typealias Lookup = ShortintServerKey<T>.Lookup

    /// Every block belongs to this key's parameter set and is within the encoding's limits.
    func check(_ x: RadixCiphertext<T>) throws {
        guard !x.blocks.isEmpty else { throw TFHEError.unsupported("a radix ciphertext needs at least one block") }
        for block in x.blocks { try shortint.check(block) }
    }

    func check(_ x: RadixCiphertext<T>, _ y: RadixCiphertext<T>) throws {
        try check(x)
        try check(y)
        guard x.blockCount == y.blockCount else {
            throw TFHEError.unsupported("radix operands of \(x.blockCount) and \(y.blockCount) blocks")
        }
    }

    func checkBoolean(_ b: ShortintCiphertext<T>) throws {
        try shortint.check(b)
        guard b.degree <= 1 else { throw TFHEError.unsupported("a boolean block has degree \(b.degree), not at most 1") }
    }

    func trivialBlock(_ value: UInt64) -> Block { shortint.trivial(value) }

    /// The public constant `value` (mod messageModulus^blockCount) as noiseless blocks.
    public func trivial(_ value: UInt64, blockCount: Int) -> RadixCiphertext<T> {
        RadixCiphertext(blocks: digits(of: value, count: blockCount).map(trivialBlock))
    }

    /// The base-messageModulus digits of a clear value, least significant first.
    func digits(of value: UInt64, count: Int) -> [UInt64] {
        var v = value
        return (0..<count).map { _ in
            defer { v = v >> bitsPerBlock }
            return v % messageModulus
        }
    }

    /// Blocks with at most `maxNoise`, and no carries (degree < messageModulus).
    func clean(_ x: RadixCiphertext<T>, maxNoise: UInt64) throws -> [Block] {
        let carried = try propagated(x)
        return try shortint.cleaned(carried.blocks, maxDegree: messageModulus - 1, maxNoise: maxNoise)
    }

    /// Two operands cleaned in the same layer of bootstraps.
    func clean(_ x: RadixCiphertext<T>, _ y: RadixCiphertext<T>, maxNoise: UInt64) throws -> ([Block], [Block]) {
        let px = try propagated(x), py = try propagated(y)
        let both = try shortint.cleaned(px.blocks + py.blocks, maxDegree: messageModulus - 1, maxNoise: maxNoise)
        return (Array(both[..<x.blockCount]), Array(both[x.blockCount...]))
    }

    /// The propagation that a key deferring it left out of an addition, subtraction, negation
    /// or product (scalar ones too), run exactly as the operation would have run it: the same
    /// bootstraps, the same clean result. For a result read more than once, which each reader
    /// would otherwise propagate on its own. (On a result that is already clean it may still
    /// bootstrap, under the prefix plan: call it on those results only.)
    public func completePropagation(_ x: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(x)
        return RadixCiphertext(blocks: try propagateCarries(x.blocks, carryOut: false).blocks)
    }

    /// The same integer with every carry moved to its block (a no-op when no block holds one).
    func propagated(_ x: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        if x.blocks.allSatisfy({ $0.degree < messageModulus }) { return x }
        return RadixCiphertext(blocks: try sumColumns(x.blocks.map { [$0] }).blocks)
    }
}
