import TFHE

/// Running a checked graph on encrypted inputs with the engine's radix-integer operations.
///
/// The evaluation never branches on encrypted data: which engine method runs, and on how many
/// blocks, follows from the graph and the parameter set alone, so running it over a
/// metadata-only key (`PreparedProgram.quote`) counts exactly the bootstraps of a real run.
extension OperationGraph {
    /// A value during evaluation: an integer of radix blocks, or a boolean block (the engine's
    /// boolean operations take a block, not a one-block radix).
    enum Value {
        case integer(RadixCiphertext<UInt64>)
        case boolean(ShortintCiphertext<UInt64>)
    }

    /// Two operands of a binary operation, of which at most one is clear (`prepare` refuses
    /// a node whose every argument is a constant).
    private enum Pair<Encrypted> {
        case encrypted(Encrypted, Encrypted)
        case encryptedClear(Encrypted, UInt64)
        case clearEncrypted(UInt64, Encrypted)
    }

    /// The outputs of the graph on `values`, in the order of `outputs`.
    func evaluate(_ values: EncryptedValues, key: IntegerServerKey<UInt64>) throws -> [(String, EncryptedValue)] {
        let blockCounts = try Self.blockCounts(for: key.parameters)
        let inputValues = try readInputs(values, blockCounts: blockCounts)

        // A node's result is dropped after its last reader, so that memory follows the graph's
        // width rather than its length (outputs are kept to the end).
        var lastUse = [Int](repeating: nodes.count, count: nodes.count)
        for (reader, node) in nodes.enumerated() {
            for case .node(let i) in node.arguments.map(\.source) { lastUse[i] = reader }
        }
        for output in outputs { if case .node(let i) = output.operand.source { lastUse[i] = nodes.count } }

        // Deferred propagation (`IntegerServerKey.deferringPropagation`): an addition's or a
        // product's last carry propagation is left to its reader, which pays at most what the
        // operation would have; a result read more than once is propagated once, here, as the
        // operation would have done it, and an output read by nothing else is never propagated
        // (the client's decryption reads carries).
        var reads = [Int](repeating: 0, count: nodes.count)
        for node in nodes { for case .node(let i) in node.arguments.map(\.source) { reads[i] += 1 } }
        for output in outputs { if case .node(let i) = output.operand.source { reads[i] += 1 } }
        let deferring = key.deferringPropagation()
        var evaluator = Evaluator(key: deferring, blockCounts: blockCounts, inputs: inputValues,
                                  results: [Value?](repeating: nil, count: nodes.count))
        for (index, node) in nodes.enumerated() {
            var value = try evaluator.evaluate(node)
            if reads[index] > 1, node.operation.defersPropagation, case .integer(let x) = value {
                value = .integer(try deferring.completePropagation(x))
            }
            evaluator.results[index] = value
            for case .node(let i) in node.arguments.map(\.source) where lastUse[i] == index { evaluator.results[i] = nil }
        }
        return try outputs.map { output in
            let radix: RadixCiphertext<UInt64> = switch try evaluator.encrypted(output.operand) {
            case .integer(let x): x
            case .boolean(let b): RadixCiphertext(blocks: [b])
            }
            return (output.name, .scalar(EncryptedInteger(kind: output.operand.kind, radix: radix)))
        }
    }

    /// Radix blocks per kind under `parameters` (a boolean is one block).
    private static func blockCounts(for parameters: ParameterSet) throws -> [ValueKind: Int] {
        var counts: [ValueKind: Int] = [.bool: 1]
        for kind in ValueKind.allCases where kind != .bool {
            guard let n = kind.blockCount(for: parameters) else {
                throw ProgramError(.invalidInput, "the parameter set's \(parameters.messageBits)-bit blocks do not divide a \(kind)")
            }
            counts[kind] = n
        }
        return counts
    }

    /// The declared inputs, each checked to be a single value of its kind with the block
    /// count of the key's parameter set (`prepare` saw only the shapes).
    private func readInputs(_ values: EncryptedValues, blockCounts: [ValueKind: Int]) throws -> [String: Value] {
        var read: [String: Value] = [:]
        for (name, kind) in inputs {
            guard case .scalar(let x)? = values[name], x.kind == kind else {
                throw ProgramError(.invalidInput, "the input \(quotedName(name)) is not a single \(kind)")
            }
            guard x.radix.blockCount == blockCounts[kind]! else {
                throw ProgramError(.invalidInput,
                                   "the input \(quotedName(name)) has \(x.radix.blockCount) blocks; a \(kind) has \(blockCounts[kind]!) under this parameter set")
            }
            read[name] = kind == .bool ? .boolean(x.radix.blocks[0]) : .integer(x.radix)
        }
        return read
    }

    /// One node's operation on the values computed so far.
    private struct Evaluator {
        let key: IntegerServerKey<UInt64>
        let blockCounts: [ValueKind: Int]
        let inputs: [String: Value]
        var results: [Value?]

        /// An operand as a ciphertext: a constant becomes a trivial (noiseless, public)
        /// encryption, for the operations that have no scalar variant.
        func encrypted(_ operand: Operand) throws -> Value {
            switch operand.source {
            case .input(let name): return inputs[name]!
            case .node(let i):
                guard let value = results[i] else { throw EvaluationInvariantError.released(node: i) }
                return value
            case .constant(let v):
                let x = key.trivial(v, blockCount: blockCounts[operand.kind]!)
                return operand.kind == .bool ? .boolean(x.blocks[0]) : .integer(x)
            }
        }

        func integer(_ operand: Operand) throws -> RadixCiphertext<UInt64> {
            switch try encrypted(operand) {
            case .integer(let x): x
            case .boolean(let b): RadixCiphertext(blocks: [b])  // select's branches may be booleans
            }
        }

        func boolean(_ operand: Operand) throws -> ShortintCiphertext<UInt64> {
            guard case .boolean(let b) = try encrypted(operand) else { throw EvaluationInvariantError.integerForBool }
            return b
        }

        private func integers(_ a: Operand, _ b: Operand) throws -> Pair<RadixCiphertext<UInt64>> {
            if case .constant(let c) = b.source { return .encryptedClear(try integer(a), c) }
            if case .constant(let c) = a.source { return .clearEncrypted(c, try integer(b)) }
            return .encrypted(try integer(a), try integer(b))
        }

        private func trivial(_ value: UInt64, like x: RadixCiphertext<UInt64>) -> RadixCiphertext<UInt64> {
            key.trivial(value, blockCount: x.blockCount)
        }

        func evaluate(_ node: Node) throws -> Value {
            let args = node.arguments
            let key = self.key
            switch node.operation {
            case .add:
                return .integer(try arithmetic(args) { try key.add($0, $1) } clear: { x, c in try key.scalarAdd(x, c) } clearFirst: { c, x in try key.scalarAdd(x, c) })
            case .sub:
                return .integer(try arithmetic(args) { try key.sub($0, $1) } clear: { x, c in try key.scalarSub(x, c) } clearFirst: { c, x in try key.scalarSub(c, x) })
            case .mul:
                return .integer(try arithmetic(args) { try key.mul($0, $1) } clear: { x, c in try key.scalarMul(x, c) } clearFirst: { c, x in try key.scalarMul(x, c) })
            case .div:
                return .integer(try arithmetic(args) { try key.div($0, $1) } clear: { x, c in try key.scalarDiv(x, c) }
                                clearFirst: { c, x in try key.div(trivial(c, like: x), x) })
            case .rem:
                return .integer(try arithmetic(args) { try key.rem($0, $1) } clear: { x, c in try key.scalarRem(x, c) }
                                clearFirst: { c, x in try key.rem(trivial(c, like: x), x) })
            case .min:
                return .integer(try key.min(try integer(args[0]), try integer(args[1])))
            case .max:
                return .integer(try key.max(try integer(args[0]), try integer(args[1])))
            case .neg:
                return .integer(try key.neg(try integer(args[0])))

            case .eq where args[0].kind == .bool:
                return .boolean(try key.not(try key.xor(try boolean(args[0]), try boolean(args[1]))))
            case .ne where args[0].kind == .bool:
                return .boolean(try key.xor(try boolean(args[0]), try boolean(args[1])))
            // With a clear operand first, a comparison is turned around: c < x is x > c.
            case .eq: return .boolean(try comparison(args, key.eq, key.scalarEq, key.scalarEq))
            case .ne: return .boolean(try comparison(args, key.ne, key.scalarNe, key.scalarNe))
            case .lt: return .boolean(try comparison(args, key.lt, key.scalarLt, key.scalarGt))
            case .le: return .boolean(try comparison(args, key.le, key.scalarLe, key.scalarGe))
            case .gt: return .boolean(try comparison(args, key.gt, key.scalarGt, key.scalarLt))
            case .ge: return .boolean(try comparison(args, key.ge, key.scalarGe, key.scalarLe))

            case .and where args[0].kind == .bool:
                return .boolean(try key.and(try boolean(args[0]), try boolean(args[1])))
            case .or where args[0].kind == .bool:
                return .boolean(try key.or(try boolean(args[0]), try boolean(args[1])))
            case .xor where args[0].kind == .bool:
                return .boolean(try key.xor(try boolean(args[0]), try boolean(args[1])))
            case .not where args[0].kind == .bool:
                return .boolean(try key.not(try boolean(args[0])))
            case .and: return .integer(try bitwise(args, key.bitAnd, key.scalarBitAnd))
            case .or: return .integer(try bitwise(args, key.bitOr, key.scalarBitOr))
            case .xor: return .integer(try bitwise(args, key.bitXor, key.scalarBitXor))
            case .not: return .integer(try key.bitNot(try integer(args[0])))

            case .select:
                let chosen = try key.select(try boolean(args[0]), try integer(args[1]), try integer(args[2]))
                return node.kind == .bool ? .boolean(chosen.blocks[0]) : .integer(chosen)

            case .shl:
                return .integer(try shift(args, key.shiftLeft(_:by:), key.shiftLeft(_:by:)))
            case .shr:
                return .integer(try shift(args, key.shiftRight(_:by:), key.shiftRight(_:by:)))

            case .cast:
                let n = blockCounts[node.kind]!
                if args[0].kind == .bool { return .integer(try key.integer(from: try boolean(args[0]), blockCount: n)) }
                return .integer(try key.cast(try integer(args[0]), toBlockCount: n))
            }
        }

        private typealias Radix = RadixCiphertext<UInt64>
        private typealias Block = ShortintCiphertext<UInt64>

        private func arithmetic(_ args: [Operand], _ both: (Radix, Radix) throws -> Radix,
                                clear: (Radix, UInt64) throws -> Radix, clearFirst: (UInt64, Radix) throws -> Radix) throws -> Radix {
            switch try integers(args[0], args[1]) {
            case .encrypted(let a, let b): try both(a, b)
            case .encryptedClear(let a, let c): try clear(a, c)
            case .clearEncrypted(let c, let b): try clearFirst(c, b)
            }
        }

        /// `turned` is the scalar comparison with its operands swapped (for c ∘ x).
        private func comparison(_ args: [Operand], _ both: (Radix, Radix) throws -> Block,
                                _ clear: (Radix, UInt64) throws -> Block, _ turned: (Radix, UInt64) throws -> Block) throws -> Block {
            switch try integers(args[0], args[1]) {
            case .encrypted(let a, let b): try both(a, b)
            case .encryptedClear(let a, let c): try clear(a, c)
            case .clearEncrypted(let c, let b): try turned(b, c)
            }
        }

        /// Bitwise operations commute, so a clear operand on either side takes the scalar form.
        private func bitwise(_ args: [Operand], _ both: (Radix, Radix) throws -> Radix,
                             _ clear: (Radix, UInt64) throws -> Radix) throws -> Radix {
            switch try integers(args[0], args[1]) {
            case .encrypted(let a, let b): try both(a, b)
            case .encryptedClear(let a, let c), .clearEncrypted(let c, let a): try clear(a, c)
            }
        }

        /// A clear amount takes the engine's clear shift; a clear value shifted by an encrypted
        /// amount is shifted as a trivial encryption.
        private func shift(_ args: [Operand], _ byClear: (Radix, UInt64) throws -> Radix,
                           _ byEncrypted: (Radix, Radix) throws -> Radix) throws -> Radix {
            if case .constant(let amount) = args[1].source { return try byClear(try integer(args[0]), amount) }
            return try byEncrypted(try integer(args[0]), try integer(args[1]))
        }
    }
}

/// A broken invariant of the evaluation itself (a fault of this code, not of any input): thrown
/// rather than trapped, so that one bad job cannot bring a worker down.
enum EvaluationInvariantError: Error {
    /// A node's result was read after the last reader the graph's analysis found.
    case released(node: Int)
    /// An operand typed `bool` held an integer.
    case integerForBool
}
