import Benchmark
import Foundation
import TFHE

// package-benchmark suite of the engine: `swift package benchmark` (see BENCHMARKS.md).
// Keys are made once, outside the measured closures; every measured loop reuses its scratch
// and output buffers, so the malloc counters show what one operation allocates.

let parameterFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("params")

func parameters(_ name: String) -> ParameterSet {
    try! ParameterSet.load(contentsOf: parameterFolder.appendingPathComponent(name + ".json"))
}

/// Keys and buffers for one parameter set, made once.
final class Fixture<T: TorusScalar>: @unchecked Sendable {
    let params: ParameterSet
    let client: ClientKey<T>
    let server: ServerKey<T>
    let scratch: BootstrapScratch<T>
    let input: LWECiphertext<T>
    let small: LWECiphertext<T>
    var big: LWECiphertext<T>
    var output: LWECiphertext<T>
    let table: LookupTable<T>

    init(_ name: String) {
        params = parameters(name)
        client = try! ClientKey<T>(parameters: params, seed: Seed(high: 1, low: 1))
        server = ServerKey(clientKey: client, seed: Seed(high: 1, low: 2))
        scratch = server.makeScratch()
        input = try! client.encrypt(1)
        table = server.lookupTable { ($0 * $0 + 3) }
        small = params.order == .keySwitchThenBootstrap ? try! server.keySwitch(input) : input
        big = LWECiphertext(dimension: params.bigLWEDimension, parameterFingerprint: params.fingerprint)
        output = LWECiphertext(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
        try! server.blindRotateAndExtract(small, table: table, scratch: scratch, into: &big)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 2,
        maxDuration: .seconds(5),
        maxIterations: 200)

    let concrete = Fixture<UInt64>("concrete_4bit_n807_k2_n1024")
    let boolean = Fixture<UInt32>("tfhe-rs_boolean_default")
    let n = concrete.params.polynomialSize
    let fft = NegacyclicFFT(polynomialSize: n)
    let coefficients = AlignedBuffer<Double>(count: n)
    let fourier = AlignedBuffer<Double>(count: n)
    for j in 0..<n { coefficients.pointer[j] = Double(j % 17) - 8 }

    Benchmark("FFT forward N=\(n)") { benchmark in
        for _ in benchmark.scaledIterations {
            fft.forward(UnsafePointer(coefficients.pointer), re: fourier.pointer, im: fourier.pointer + n / 2)
        }
    }
    Benchmark("FFT inverse N=\(n)") { benchmark in
        for _ in benchmark.scaledIterations {
            fft.inverse(re: fourier.pointer, im: fourier.pointer + n / 2, into: coefficients.pointer)
        }
    }
    Benchmark("External product (one CMux), concrete 4-bit") { benchmark in
        for i in benchmark.scaledIterations {
            try concrete.server.cmux(keyIndex: i % concrete.params.lweDimension, rotation: 1 + i % 100, scratch: concrete.scratch)
        }
    }
    Benchmark("Blind rotation + extract, concrete 4-bit") { benchmark in
        for _ in benchmark.scaledIterations {
            try concrete.server.blindRotateAndExtract(concrete.small, table: concrete.table, scratch: concrete.scratch, into: &concrete.big)
        }
    }
    Benchmark("Key switch, concrete 4-bit") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try concrete.server.keySwitch(concrete.big))
        }
    }
    Benchmark("KS+PBS, concrete 4-bit") { benchmark in
        for _ in benchmark.scaledIterations {
            try concrete.server.programmableBootstrap(concrete.input, table: concrete.table, scratch: concrete.scratch,
                                                      into: &concrete.output)
        }
    }
    Benchmark("Gate bootstrap (NAND), TFHE-rs boolean") { benchmark in
        let a = boolean.client.encrypt(true), b = boolean.client.encrypt(false)
        for _ in benchmark.scaledIterations {
            blackHole(try boolean.server.nand(a, b, scratch: boolean.scratch))
        }
    }
    // Radix integer operations (issue 16) on the 2_2 TUniform set, FheUint8 and FheUint64, on
    // all cores, with the operands `fhe bench` uses (`IntegerOperation`): wall clock, and what
    // one operation allocates (its result and each layer's lists; a bootstrap allocates nothing).
    let integerParameters = parameters("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128")
    let integerClient = try! ClientKey<UInt64>(parameters: integerParameters, seed: Seed(high: 5, low: 1))
    let integerKey = try! IntegerServerKey(serverKey: ServerKey(clientKey: integerClient, seed: Seed(high: 5, low: 2)))
    var operandGenerator = AESCTRGenerator(seed: Seed(high: 5, low: 3))
    for width in [8, 64] {
        let operands = try! IntegerOperation.Operands(client: integerClient, width: width, using: &operandGenerator)
        for operation in IntegerOperation.allCases {
            Benchmark("FheUint\(width) \(operation.rawValue)", configuration: .init(maxDuration: .seconds(10), maxIterations: 10)) { benchmark in
                for _ in benchmark.scaledIterations { try operation.run(integerKey, operands) }
            }
        }
    }
    Benchmark("Key generation (server key), concrete 4-bit", configuration: .init(maxIterations: 5)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ServerKey(clientKey: concrete.client, seed: Seed(high: 3, low: 3)))
        }
    }
}
