/// The programs a service offers, by the name clients put in `payload.algorithm`.
public struct ProgramRegistry: Sendable {
    private let programs: [any FHEProgram]

    /// Programs with distinct names (a later one with a name already taken is ignored, so a
    /// name always means the first program registered under it).
    public init(_ programs: [any FHEProgram]) {
        var seen: Set<String> = []
        self.programs = programs.filter { seen.insert($0.name).inserted }
    }

    /// Every program of this module.
    public static let standard = ProgramRegistry([
        StatisticalAnalysis(),
        ConfidentialTransfer(),
        // OperationGraphProgram(),  // TODO(operation-graph helper): add when Programs/OperationGraph/ lands.
    ])

    public func program(named name: String) -> (any FHEProgram)? { programs.first { $0.name == name } }

    /// The names, in registration order.
    public var names: [String] { programs.map(\.name) }
}
