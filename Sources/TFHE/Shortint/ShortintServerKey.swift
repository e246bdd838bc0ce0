import Synchronization

/// The evaluation key of shortint blocks: the engine's server key, the block encoding, and a
/// pool that runs independent bootstraps on all cores.
///
/// Operations follow TFHE-rs's "default" (smart) semantics: before an operation whose result
/// could exceed the carry space (degree above `maxDegree`) or the noise budget (noise level
/// above `maxNoiseLevel`), the operands are cleaned by a bootstrap that keeps their message
/// (x mod messageModulus). A block's value is defined modulo the message modulus, so cleaning
/// never changes it, and no sequence of operations can silently give a wrong result.
///
/// Which bootstraps an operation performs depends only on the blocks' metadata (degree and
/// noise level), never on their contents. A metadata-only key (`metadataOnly(parameters:)`)
/// relies on that: it runs the same operations, computes the same metadata, and replaces each
/// bootstrap by a zero ciphertext, so its `bootstrapCount` is the exact cost of the same
/// computation under a real key.
public final class ShortintServerKey<T: TorusScalar>: Sendable {
    /// How a layer of bootstraps is evaluated.
    enum Evaluation: Sendable {
        /// Real programmable bootstraps on the pool.
        case cryptographic(ServerKey<T>, BootstrapPool<T>)
        /// No cryptography: outputs are zero ciphertexts of the right shape.
        case metadataOnly
    }

    /// Called before each layer of bootstraps with the layer's size (see `observing`).
    public typealias LayerObserver = @Sendable (_ bootstrapsInLayer: Int) throws -> Void

    let evaluation: Evaluation
    public let parameters: ParameterSet
    public let encoding: ShortintEncoding
    private let observer: LayerObserver?
    /// Bootstraps performed through this key object (not through the pool it may share).
    private let counter = Atomic<Int>(0)
    /// The metadata-only output of every bootstrap (copy-on-write: shared until written).
    private let zeroBlock: LWECiphertext<T>

    // A convenience initializer, so that the check throws before any stored property (the
    // atomic counter among them) exists: Swift 6.3's optimizer crashes ("Found ownership
    // error") specialising a throwing designated initializer of this class across modules.
    public convenience init(serverKey: ServerKey<T>, workerCount: Int? = nil, batchSize: Int? = nil) throws {
        try Self.checkPacking(serverKey.parameters)
        self.init(evaluation: .cryptographic(serverKey, BootstrapPool(serverKey: serverKey, workerCount: workerCount, batchSize: batchSize)),
                  parameters: serverKey.parameters, observer: nil)
    }

    private init(evaluation: Evaluation, parameters: ParameterSet, observer: LayerObserver?) {
        self.evaluation = evaluation
        self.parameters = parameters
        encoding = ShortintEncoding(parameters: parameters)
        self.observer = observer
        zeroBlock = LWECiphertext(dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
    }

    private static func checkPacking(_ p: ParameterSet) throws {
        guard p.carryBits >= p.messageBits else {
            throw TFHEError.unsupported("shortint needs carry bits >= message bits (bivariate packing); \(p.name) has \(p.messageBits)_\(p.carryBits)")
        }
    }

    /// A key that performs no cryptography: it holds no key material, runs every operation on
    /// the blocks' metadata (and on their LWE data for the linear steps, which is cheap), and
    /// counts the bootstraps the same operations would perform under a real key of `parameters`.
    /// Its outputs decrypt to nothing meaningful; only their shapes and metadata are right.
    public static func metadataOnly(parameters: ParameterSet) throws -> ShortintServerKey<T> {
        try checkPacking(parameters)
        return ShortintServerKey(evaluation: .metadataOnly, parameters: parameters, observer: nil)
    }

    /// A new key object over the same server key and pool (no key material is copied) with a
    /// bootstrap count of its own, starting at 0, and an observer called before each layer.
    /// See `IntegerServerKey.observing` for the semantics.
    public func observing(_ observer: @escaping LayerObserver) -> ShortintServerKey<T> {
        ShortintServerKey(evaluation: evaluation, parameters: parameters, observer: observer)
    }

    /// The engine's server key; nil for a metadata-only key.
    public var serverKey: ServerKey<T>? {
        if case .cryptographic(let key, _) = evaluation { return key }
        return nil
    }

    /// The pool that runs the bootstraps (shared by keys made with `observing`); nil for a
    /// metadata-only key.
    public var pool: BootstrapPool<T>? {
        if case .cryptographic(_, let pool) = evaluation { return pool }
        return nil
    }

    /// Threads a layer of bootstraps is spread over (1 for a metadata-only key).
    public var workerCount: Int { pool?.workerCount ?? 1 }

    /// Whether bootstraps are only counted, not performed.
    public var isMetadataOnly: Bool {
        if case .metadataOnly = evaluation { return true }
        return false
    }

    /// Bootstraps performed through this key object so far (all threads). Keys made with
    /// `observing` count their own: each one's count is the cost of what was run through it.
    public var bootstrapCount: Int { counter.load(ordering: .relaxed) }

    func check(_ block: ShortintCiphertext<T>) throws {
        try parameters.check(block.lwe)
        try encoding.validate(block)
    }

    public func trivial(_ value: UInt64) -> ShortintCiphertext<T> {
        .trivial(value, encoding: encoding, dimension: parameters.ciphertextDimension,
                 parameterFingerprint: parameters.fingerprint)
    }

    // MARK: Bootstrapping, many blocks at once

    /// One table lookup: the block's plaintext m (message and carry) becomes f(m).
    public struct Lookup {
        public var input: ShortintCiphertext<T>
        public var function: (UInt64) -> UInt64
        /// A bound on the output tighter than max f(m) over m <= degree, when the caller knows
        /// one (bivariate tables: the packed input never takes most values up to its degree).
        public var outputDegree: UInt64?
        public init(_ input: ShortintCiphertext<T>, outputDegree: UInt64? = nil, _ function: @escaping (UInt64) -> UInt64) {
            self.input = input
            self.function = function
            self.outputDegree = outputDegree
        }
    }

    /// Evaluates every lookup, all of them in parallel (one layer of an operation). Each
    /// output has noise level 1 and the degree max f(m) over m <= the input's degree.
    ///
    /// The observer, if any, is called first with the layer's size: an error it throws leaves
    /// this call (and the operation it is part of) before any of the layer's work, unchanged.
    /// An empty layer does nothing and is not observed.
    public func bootstrap(_ lookups: [Lookup]) throws -> [ShortintCiphertext<T>] {
        try bootstrap(many: lookups.map { lookup in
            var many = ManyLookup(lookup.input, [lookup.function])
            many.outputDegrees = [lookup.outputDegree]
            return many
        }).map { $0[0] }
    }

    /// Several functions of one block from one bootstrap (many-LUT bootstrapping,
    /// `ServerKey.lookupTable(functions:)`): the block's value must be below
    /// plaintextModulus / functions.count (`manyLookupBound`), which the caller ensures.
    public struct ManyLookup {
        public var input: ShortintCiphertext<T>
        public var functions: [(UInt64) -> UInt64]
        /// Per function, a bound on its output tighter than max f(m) (see `Lookup.outputDegree`).
        var outputDegrees: [UInt64?]
        public init(_ input: ShortintCiphertext<T>, _ functions: [(UInt64) -> UInt64]) {
            self.input = input
            self.functions = functions
            outputDegrees = functions.map { _ in nil }
        }
    }

    /// Blocks below this value can go through a many-LUT table of `functionCount` functions.
    public func manyLookupBound(functionCount: Int) -> UInt64 { encoding.manyLookupInputBound(functionCount: functionCount) }

    /// Evaluates every many-lookup in one parallel layer, one bootstrap each: result[i][j] is
    /// function j of input i, with noise level 1 and degree max f_j(m) over m <= the input's
    /// degree. The observer and the count see one bootstrap per lookup.
    public func bootstrap(many lookups: [ManyLookup]) throws -> [[ShortintCiphertext<T>]] {
        if lookups.isEmpty { return [] }
        let modulus = encoding.plaintextModulus
        var degrees: [[UInt64]] = []
        degrees.reserveCapacity(lookups.count)
        for lookup in lookups {
            try check(lookup.input)
            let count = lookup.functions.count
            guard count >= 1 && UInt64(count) <= modulus else {
                throw TFHEError.unsupported("a many-LUT bootstrap evaluates 1 to \(modulus) functions, not \(count)")
            }
            guard lookup.input.degree < manyLookupBound(functionCount: count) else {
                throw TFHEError.unsupported("a block of degree \(lookup.input.degree) does not fit a table of \(count) functions (values below \(manyLookupBound(functionCount: count)))")
            }
            degrees.append(zip(lookup.functions, lookup.outputDegrees).map { f, degree in
                degree ?? (0...lookup.input.degree).map { f($0) % modulus }.max()!
            })
        }
        try observer?(lookups.count)
        let outputs: [LWECiphertext<T>]
        switch evaluation {
        case .cryptographic(let serverKey, let pool):
            let tables = try lookups.map { try serverKey.lookupTable(functions: $0.functions) }
            outputs = try pool.bootstrap(lookups.map(\.input.lwe), tables: tables)
        case .metadataOnly:
            outputs = [LWECiphertext<T>](repeating: zeroBlock, count: degrees.reduce(0) { $0 + $1.count })
        }
        counter.add(lookups.count, ordering: .relaxed)
        var next = 0
        return degrees.map { row in
            row.map { degree in
                defer { next += 1 }
                return ShortintCiphertext(lwe: outputs[next], degree: degree, noiseLevel: 1)
            }
        }
    }

    public func bootstrap(_ block: ShortintCiphertext<T>, _ function: @escaping (UInt64) -> UInt64) throws -> ShortintCiphertext<T> {
        try bootstrap([Lookup(block, function)])[0]
    }

    /// Blocks that satisfy `degree <= maxDegree && noiseLevel <= maxNoise` are kept; the
    /// others are cleaned (x mod messageModulus) in one parallel layer.
    public func cleaned(_ blocks: [ShortintCiphertext<T>], maxDegree: UInt64, maxNoise: UInt64) throws -> [ShortintCiphertext<T>] {
        let msg = encoding.messageModulus
        let dirty = blocks.indices.filter { blocks[$0].degree > maxDegree || blocks[$0].noiseLevel > maxNoise }
        if dirty.isEmpty { return blocks }
        let clean = try bootstrap(dirty.map { Lookup(blocks[$0]) { $0 % msg } })
        var result = blocks
        for (index, block) in zip(dirty, clean) { result[index] = block }
        return result
    }

    // MARK: Linear operations (no bootstrap; the caller keeps degree and noise in bounds)

    func uncheckedAdd(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) -> ShortintCiphertext<T> {
        ShortintCiphertext(lwe: a.lwe + b.lwe, degree: a.degree + b.degree, noiseLevel: a.noiseLevel + b.noiseLevel)
    }

    func uncheckedScale(_ a: ShortintCiphertext<T>, by factor: UInt64) -> ShortintCiphertext<T> {
        ShortintCiphertext(lwe: a.lwe * T(truncatingIfNeeded: factor), degree: a.degree * factor,
                           noiseLevel: a.noiseLevel * factor)
    }

    func uncheckedAddConstant(_ a: ShortintCiphertext<T>, _ value: UInt64) -> ShortintCiphertext<T> {
        ShortintCiphertext(lwe: a.lwe.adding(constant: T(truncatingIfNeeded: value) &* encoding.delta(T.self)),
                           degree: a.degree + value, noiseLevel: a.noiseLevel)
    }

    /// bound - a, for a block whose value is at most `bound` (no wrap into the padding bit).
    func uncheckedSubtract(from bound: UInt64, _ a: ShortintCiphertext<T>) -> ShortintCiphertext<T> {
        precondition(a.degree <= bound, "the caller guarantees a <= bound")
        return ShortintCiphertext(lwe: (-a.lwe).adding(constant: T(truncatingIfNeeded: bound) &* encoding.delta(T.self)),
                                  degree: bound, noiseLevel: a.noiseLevel)
    }

    /// a · messageModulus + b: two blocks packed into one for a bivariate lookup
    /// (TFHE-rs's bivariate PBS; it needs carryModulus >= messageModulus).
    func uncheckedPack(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) -> ShortintCiphertext<T> {
        uncheckedAdd(uncheckedScale(a, by: encoding.messageModulus), b)
    }

    /// True when `pack(a, b)` is within the degree and noise budgets.
    func canPack(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) -> Bool {
        a.degree < encoding.messageModulus && b.degree < encoding.messageModulus
            && a.noiseLevel * encoding.messageModulus + b.noiseLevel <= encoding.maxNoiseLevel
    }

    /// A lookup of f(a, b) on the packed pair; both must be clean (`canPack`).
    func bivariate(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>,
                   _ function: @escaping (UInt64, UInt64) -> UInt64) -> Lookup {
        precondition(canPack(a, b), "operands are cleaned before packing")
        let msg = encoding.messageModulus
        var degree: UInt64 = 0
        for x in 0...a.degree { for y in 0...b.degree { degree = max(degree, function(x, y) % encoding.plaintextModulus) } }
        return Lookup(uncheckedPack(a, b), outputDegree: degree) { function($0 / msg, $0 % msg) }
    }

    // MARK: Public shortint operations (values modulo messageModulus)

    /// Bootstraps only the operands that need it so that `a + b` fits.
    private func cleanedForSum(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>, extraDegree: UInt64 = 0)
        throws -> (ShortintCiphertext<T>, ShortintCiphertext<T>) {
        if a.degree + b.degree + extraDegree <= encoding.maxDegree
            && a.noiseLevel + b.noiseLevel <= encoding.maxNoiseLevel { return (a, b) }
        let c = try cleaned([a, b], maxDegree: encoding.messageModulus - 1, maxNoise: 1)
        return (c[0], c[1])
    }

    public func add(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        try check(a); try check(b)
        let (x, y) = try cleanedForSum(a, b)
        return uncheckedAdd(x, y)
    }

    /// The smallest multiple of messageModulus at least `degree`: subtracting from it never
    /// goes below zero, and it is 0 modulo the message.
    private func correction(for degree: UInt64) -> UInt64 {
        let msg = encoding.messageModulus
        return max(msg, (degree + msg - 1) / msg * msg)
    }

    /// -a modulo messageModulus, as correction - a (TFHE-rs's negation with a correcting term).
    public func neg(_ a: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        try check(a)
        let x = correction(for: a.degree) <= encoding.maxDegree ? a : try cleaned([a], maxDegree: encoding.messageModulus - 1, maxNoise: 1)[0]
        return uncheckedSubtract(from: correction(for: x.degree), x)
    }

    /// a - b modulo messageModulus, as a + (correction - b).
    public func sub(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        try check(a); try check(b)
        var (x, y) = (a, b)
        if x.degree + correction(for: y.degree) > encoding.maxDegree || x.noiseLevel + y.noiseLevel > encoding.maxNoiseLevel {
            let c = try cleaned([x, y], maxDegree: encoding.messageModulus - 1, maxNoise: 1)
            (x, y) = (c[0], c[1])
        }
        return uncheckedAdd(x, uncheckedSubtract(from: correction(for: y.degree), y))
    }

    public func scalarAdd(_ a: ShortintCiphertext<T>, _ value: UInt64) throws -> ShortintCiphertext<T> {
        try check(a)
        let v = value % encoding.messageModulus
        let x = a.degree + v <= encoding.maxDegree ? a : try cleaned([a], maxDegree: encoding.messageModulus - 1, maxNoise: 1)[0]
        return uncheckedAddConstant(x, v)
    }

    public func scalarMul(_ a: ShortintCiphertext<T>, _ value: UInt64) throws -> ShortintCiphertext<T> {
        try check(a)
        let v = value % encoding.messageModulus
        if a.degree * v <= encoding.maxDegree && a.noiseLevel * v <= encoding.maxNoiseLevel { return uncheckedScale(a, by: v) }
        let x = try cleaned([a], maxDegree: encoding.messageModulus - 1, maxNoise: 1)[0]
        if x.degree * v <= encoding.maxDegree && x.noiseLevel * v <= encoding.maxNoiseLevel { return uncheckedScale(x, by: v) }
        return try bootstrap(x) { ($0 * v) % self.encoding.messageModulus }
    }

    /// The message part m mod messageModulus, carries removed.
    public func messageExtract(_ a: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        try check(a)
        return try bootstrap(a) { $0 % self.encoding.messageModulus }
    }

    /// The carry part m / messageModulus, as a block of its own.
    public func carryExtract(_ a: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        try check(a)
        return try bootstrap(a) { $0 / self.encoding.messageModulus }
    }

    /// f(m mod messageModulus) for any function of the message.
    public func apply(_ a: ShortintCiphertext<T>, _ function: @escaping (UInt64) -> UInt64) throws -> ShortintCiphertext<T> {
        try check(a)
        let msg = encoding.messageModulus
        return try bootstrap(a) { function($0 % msg) }
    }

    /// f(a, b) of two messages in one bootstrap (the bivariate PBS).
    public func apply(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>,
                      _ function: @escaping (UInt64, UInt64) -> UInt64) throws -> ShortintCiphertext<T> {
        try check(a); try check(b)
        var (x, y) = (a, b)
        if !canPack(x, y) {
            let c = try cleaned([x, y], maxDegree: encoding.messageModulus - 1, maxNoise: 1)
            (x, y) = (c[0], c[1])
        }
        return try bootstrap([bivariate(x, y, function)])[0]
    }

    /// a · b modulo messageModulus.
    public func mul(_ a: ShortintCiphertext<T>, _ b: ShortintCiphertext<T>) throws -> ShortintCiphertext<T> {
        let msg = encoding.messageModulus
        return try apply(a, b) { ($0 * $1) % msg }
    }
}
