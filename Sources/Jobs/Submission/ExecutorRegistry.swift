/// The job executors a service runs, by algorithm name.
public struct ExecutorRegistry: Sendable {
    private let executors: [String: any JobExecutor]

    public init(_ executors: [any JobExecutor]) {
        self.executors = Dictionary(executors.map { ($0.algorithm, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var algorithms: [String] { executors.keys.sorted() }

    public func executor(for algorithm: String) -> (any JobExecutor)? { executors[algorithm] }
}
