import Jobs

/// The algorithms of the job type `compute`.
public enum ComputeAlgorithms {
    /// One executor per algorithm, for the service's `ExecutorRegistry`.
    public static func all() -> [any JobExecutor] {
        [PrimeFactorizationExecutor(), SHA256Executor(), SortExecutor(), MatrixMultiplyExecutor()]
    }
}
