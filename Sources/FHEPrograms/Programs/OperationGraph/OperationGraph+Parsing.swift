import Foundation

/// From the decoded document to a checked graph: names resolved, kinds inferred, limits and
/// the cost bound enforced. Every refusal is a `ProgramError(.invalidParameters)` whose message
/// names the node, input, constant or output at fault.
extension OperationGraph {
    /// `enforcingCostLimit` is false only to report the estimate of a graph above the limit.
    init(parsing parameters: Data, enforcingCostLimit: Bool = true) throws(ProgramError) {
        try self.init(OperationGraphDocument.decode(parameters), enforcingCostLimit: enforcingCostLimit)
    }

    init(_ document: OperationGraphDocument, enforcingCostLimit: Bool = true) throws(ProgramError) {
        typealias Limits = OperationGraphLimits
        try Self.refuseCount(document.inputs.count, of: "inputs", above: Limits.maxInputs)
        try Self.refuseCount(document.constants.count, of: "constants", above: Limits.maxConstants)
        try Self.refuseCount(document.nodes.count, of: "nodes", above: Limits.maxNodes)
        try Self.refuseCount(document.outputs.count, of: "outputs", above: Limits.maxOutputs)
        guard !document.outputs.isEmpty else { throw Self.refusal("the graph needs at least one output") }

        // One namespace for inputs, constants and nodes, so that an argument's name means one
        // thing. Inputs and constants are visited in sorted order, so that which of two faults
        // is reported does not depend on the order of a JSON object's fields.
        var scope: [String: Operand] = [:]
        var inputs: [String: ValueKind] = [:]
        for name in document.inputs.keys.sorted() {
            try Self.checkName(name, "the input")
            let type = document.inputs[name]!
            guard let kind = ValueKind(rawValue: type) else {
                throw Self.refusal("the input \(quotedName(name)) has the unknown type \(quotedName(type)) (expected \(Self.kindList))")
            }
            inputs[name] = kind
            scope[name] = Operand(source: .input(name), kind: kind)
        }
        for name in document.constants.keys.sorted() {
            try Self.checkName(name, "the constant")
            guard scope[name] == nil else { throw Self.refusal("the constant \(quotedName(name)) has the name of an input") }
            let constant = document.constants[name]!
            let value: UInt64
            switch constant.value {
            case .bool(let b): value = b ? 1 : 0
            case .integer(let v):
                // Refused rather than wrapped: a client writing 300 for a u8 has made a mistake.
                guard v <= constant.kind.maximum else {
                    throw Self.refusal("the constant \(quotedName(name)) is \(v), more than the largest \(constant.kind) (\(constant.kind.maximum))")
                }
                value = v
            }
            scope[name] = Operand(source: .constant(value), kind: constant.kind)
        }

        // Where each node id is first defined, to tell a forward reference from a misspelling.
        var definedAt: [String: Int] = [:]
        for (index, node) in document.nodes.enumerated() where definedAt[node.id] == nil { definedAt[node.id] = index }

        var nodes: [Node] = []
        nodes.reserveCapacity(document.nodes.count)
        for (index, written) in document.nodes.enumerated() {
            try Self.checkName(written.id, "nodes[\(index)]: the id")
            let label = "node \(quotedName(written.id))"
            if let earlier = scope[written.id] {
                let what = switch earlier.source { case .input: "an input"; case .constant: "a constant"; case .node: "an earlier node" }
                throw Self.refusal("\(label): the id is already used by \(what)")
            }
            guard let operation = Operation(rawValue: written.op) else {
                throw Self.refusal("\(label): unknown op \(quotedName(written.op)) (expected \(Operation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard written.args.count == operation.arity else {
                throw Self.refusal("\(label): \(operation) takes \(operation.arity) argument\(operation.arity == 1 ? "" : "s"), not \(written.args.count)")
            }
            var arguments: [Operand] = []
            for name in written.args {
                if let operand = scope[name] { arguments.append(operand); continue }
                if name == written.id { throw Self.refusal("\(label): an argument refers to the node itself") }
                if let later = definedAt[name], later > index {
                    throw Self.refusal("\(label): the argument \(quotedName(name)) is a later node (arguments may only be inputs, constants and earlier nodes)")
                }
                throw Self.refusal("\(label): unknown argument \(quotedName(name)) (not an input, a constant or an earlier node)")
            }
            var target: ValueKind?
            if let to = written.to {
                guard operation == .cast else { throw Self.refusal("\(label): the field \"to\" is only for cast") }
                guard let kind = ValueKind(rawValue: to), kind != .bool else {
                    throw Self.refusal("\(label): cannot cast to \(quotedName(to)) (expected u8, u16, u32 or u64; for a boolean compare with ne 0)")
                }
                target = kind
            } else if operation == .cast {
                throw Self.refusal("\(label): cast needs the field \"to\"")
            }
            let kind = try Self.resultKind(operation, arguments, target: target, label: label)
            nodes.append(Node(id: written.id, operation: operation, arguments: arguments, kind: kind))
            scope[written.id] = Operand(source: .node(index), kind: kind)
        }

        var outputs: [Output] = []
        var listed: Set<String> = []
        for name in document.outputs {
            guard let operand = scope[name] else {
                throw Self.refusal("the output \(quotedName(name)) is not an input or a node")
            }
            guard !operand.source.isConstant else {
                throw Self.refusal("the output \(quotedName(name)) is a constant; outputs are encrypted values (inputs or nodes)")
            }
            guard listed.insert(name).inserted else { throw Self.refusal("the output \(quotedName(name)) is listed twice") }
            outputs.append(Output(name: name, operand: operand))
        }

        self.init(inputs: inputs, nodes: nodes, outputs: outputs)
        if enforcingCostLimit { try refuseCostAboveLimit() }
    }

    /// The kind of `operation`'s result, or the reason the arguments do not fit it (the typing
    /// rules of `OperationGraphProgram`'s documentation).
    private static func resultKind(_ operation: Operation, _ arguments: [Operand], target: ValueKind?,
                                   label: String) throws(ProgramError) -> ValueKind {
        let kinds = arguments.map(\.kind)
        let listed = kinds.map(\.rawValue).joined(separator: ", ")
        func refuse(_ need: String) -> ProgramError { refusal("\(label): \(operation) of (\(listed)): \(need)") }

        // Clear inputs of every argument would make a clear result, which is the client's to
        // compute: the service only evaluates what needs encryption.
        if arguments.allSatisfy(\.source.isConstant) {
            throw refusal("\(label): every argument of \(operation) is a constant; compute it before submitting")
        }
        switch operation {
        case .add, .sub, .mul, .div, .rem, .min, .max:
            guard kinds[0] == kinds[1], kinds[0] != .bool else { throw refuse("needs two integers of the same kind") }
            return kinds[0]
        case .neg:
            guard kinds[0] != .bool else { throw refuse("needs an integer") }
            return kinds[0]
        case .eq, .ne:
            guard kinds[0] == kinds[1] else { throw refuse("needs two values of the same kind") }
            return .bool
        case .lt, .le, .gt, .ge:
            guard kinds[0] == kinds[1], kinds[0] != .bool else { throw refuse("needs two integers of the same kind") }
            return .bool
        case .and, .or, .xor:
            guard kinds[0] == kinds[1] else { throw refuse("needs two values of the same kind") }
            return kinds[0]
        case .not:
            return kinds[0]
        case .select:
            guard kinds[0] == .bool else { throw refuse("the condition (the first argument) must be a bool") }
            // A clear condition picks a branch, which the client can do without the service.
            guard !arguments[0].source.isConstant else { throw refuse("the condition must be encrypted, not a constant") }
            guard kinds[1] == kinds[2] else { throw refuse("the two branches must be of the same kind") }
            return kinds[1]
        case .shl, .shr:
            guard kinds[0] != .bool, kinds[1] != .bool else { throw refuse("needs an integer shifted by an integer") }
            // A clear amount may be of any integer kind; an encrypted one is of the shifted
            // value's kind, as the engine's barrel shifter reads its blocks.
            guard arguments[1].source.isConstant || kinds[1] == kinds[0] else {
                throw refuse("an encrypted shift amount must be of the shifted value's kind")
            }
            return kinds[0]
        case .cast:
            return target!
        }
    }

    private static func checkName(_ name: String, _ what: String) throws(ProgramError) {
        guard isValidName(name) else {
            throw refusal("\(what) \(quotedName(name)) is not a name of 1 to \(OperationGraphLimits.maxNameLength) characters of A-Z, a-z, 0-9 and _")
        }
    }

    private static func refuseCount(_ count: Int, of field: String, above limit: Int) throws(ProgramError) {
        guard count <= limit else { throw refusal("\(count) \(field), more than the limit of \(limit)") }
    }

    private static var kindList: String { ValueKind.allCases.map(\.rawValue).joined(separator: ", ") }

    static func refusal(_ message: String) -> ProgramError { ProgramError(.invalidParameters, message) }

    /// Checks the file's inputs against the declared ones: the same names, each a single value
    /// of the declared kind.
    func check(_ files: [String: ValueShape]) throws(ProgramError) {
        for name in inputs.keys.sorted() {
            let kind = inputs[name]!
            guard let shape = files[name] else {
                throw ProgramError(.invalidInput, "the input \(quotedName(name)) (\(kind)) is missing")
            }
            guard shape == .scalar(kind) else {
                throw ProgramError(.invalidInput, "the input \(quotedName(name)) is \(shape), the program declares \(kind)")
            }
        }
        if let extra = files.keys.filter({ inputs[$0] == nil }).min() {
            throw ProgramError(.invalidInput, "the input \(quotedName(extra)) is not one of the program's inputs")
        }
    }
}
