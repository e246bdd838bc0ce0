import Benchmark
import TFHE
let benchmarks: @Sendable () -> Void = {
    Benchmark("noop") { benchmark in blackHole(TFHEVersion.string) }
}
