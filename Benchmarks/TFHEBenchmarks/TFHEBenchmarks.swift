import Benchmark
import TFHE
let benchmarks: @Sendable () -> Void = {}
