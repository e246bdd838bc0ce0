import Foundation
import Testing
import TFHEKernelABI
@testable import TFHE

/// The kernel sets (Sources/TFHE/Kernels, compiled once per instruction set): the choice of
/// set, and every set this CPU runs computing the same words as the portable one, which is
/// compiled for the architecture's baseline. Each test names the sets it ran.
@Suite("Engine kernel sets")
struct EngineKernelsTests {
    static let setNames = EngineKernels.available.map(\.name)

    @Test func theBestSetThisCPURunsIsChosen() throws {
        let names = Self.setNames
        print("kernel sets this CPU runs: \(names.joined(separator: ", ")); selected: \(EngineKernels.description)")
        #expect(names.last == "portable")
        let chosen = EngineKernels.choose(requested: nil)
        #expect(chosen.set.name == names[0])
        #if os(Linux) && arch(x86_64)
        // The choice agrees with the CPU's flags as the kernel reports them.
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }!.split(separator: " ").map(String.init))
        let avx2 = flags.isSuperset(of: ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"])
        let avx512 = avx2 && flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"])
        #expect(names.contains("avx512") == avx512)
        #expect(names.contains("avx2") == avx2)
        #expect(EngineKernels.compiled.map(\.name) == ["avx512", "avx2", "portable"])
        #endif
    }

    @Test func aRequestedSetIsHonouredOrRefusedWithTheReason() {
        let portable = EngineKernels.choose(requested: "portable")
        #expect(portable.set.name == "portable")
        #expect(portable.note == "FHE_KERNELS=portable")

        let unknown = EngineKernels.choose(requested: "sse9")
        #expect(unknown.set.name == Self.setNames[0])
        #expect(unknown.note.contains("sse9 is not a kernel set of this build"))

        for set in EngineKernels.compiled where !Self.setNames.contains(set.name) {
            let refused = EngineKernels.choose(requested: set.name)
            #expect(refused.set.name == Self.setNames[0])
            #expect(refused.note.contains("this CPU cannot run the \(set.name) kernels"))
        }
    }

    /// Forward and inverse transforms, and the inverse added to the torus, word for word.
    @Test(arguments: setNames, [256, 1024, 2048])
    func transformsMatchThePortableSet(set name: String, polynomialSize n: Int) throws {
        let set = try #require(EngineKernels.set(named: name))
        let fft = NegacyclicFFT(polynomialSize: n, kernels: set)
        let reference = NegacyclicFFT(polynomialSize: n, kernels: EngineKernels.portable)
        #expect(fft.pointSlots == reference.pointSlots, "every set leaves the points in the same slots")

        var rng = TestGenerator(UInt64(n) + 17)
        let coefficients = AlignedBuffer<Double>((0..<n).map { _ in Double(Int64(bitPattern: rng.next()) >> 20) })
        func forward(_ f: NegacyclicFFT) -> [Double] {
            let out = AlignedBuffer<Double>(count: n)
            f.forward(UnsafePointer(coefficients.pointer), re: out.pointer, im: out.pointer + n / 2)
            return out.array
        }
        let points = forward(fft)
        #expect(points == forward(reference), "\(name) forward, N=\(n)")

        func inverse(_ f: NegacyclicFFT) -> [Double] {
            let fourier = AlignedBuffer(points), out = AlignedBuffer<Double>(count: n)
            f.inverse(re: fourier.pointer, im: fourier.pointer + n / 2, into: out.pointer)
            return out.array
        }
        let back = inverse(fft)
        #expect(back == inverse(reference), "\(name) inverse, N=\(n)")
        for j in 0..<n { #expect(abs(back[j] - coefficients.pointer[j]) < 1e-3 * max(1, abs(coefficients.pointer[j])) * 0x1p-20) }

        // The complex FFT alone (`fhe bench fft` times it beside FFTW): the same words as the
        // portable set's, and M times the input back after its unscaled inverse.
        func complexRoundTrip(_ f: NegacyclicFFT) -> (points: [Double], back: [Double]) {
            let buffer = AlignedBuffer(coefficients.array)
            f.complexForward(re: buffer.pointer, im: buffer.pointer + n / 2)
            let points = buffer.array
            f.complexInverse(re: buffer.pointer, im: buffer.pointer + n / 2)
            return (points, buffer.array)
        }
        let complex = complexRoundTrip(fft)
        #expect(complex.points == complexRoundTrip(reference).points, "\(name) complex forward, N=\(n)")
        #expect(complex.back == complexRoundTrip(reference).back, "\(name) complex inverse, N=\(n)")
        let largest = coefficients.array.map(abs).max()! * Double(n / 2)
        for j in 0..<n {
            #expect(abs(complex.back[j] - coefficients.pointer[j] * Double(n / 2)) <= 1e-12 * largest, "\(name) complex round trip, N=\(n)")
        }

        let torus: [UInt64] = (0..<n).map { _ in rng.next() }
        func inverseAdd(_ f: NegacyclicFFT) -> [UInt64] {
            let fourier = AlignedBuffer(points)
            var words = torus
            words.withUnsafeMutableBufferPointer { f.inverseAdd(re: fourier.pointer, im: fourier.pointer + n / 2, into: $0.baseAddress!) }
            return words
        }
        #expect(inverseAdd(fft) == inverseAdd(reference), "\(name) inverse added to 64-bit words, N=\(n)")
    }

    /// A server key whose bootstraps and key switches run on `set` (the same key words).
    static func serverKey<T>(_ key: ServerKey<T>, on set: any EngineKernelSet) -> ServerKey<T> {
        ServerKey(parameters: key.parameters, bootstrappingKey: key.bootstrappingKey, keySwitchingKey: key.keySwitchingKey,
                  fft: NegacyclicFFT(polynomialSize: key.parameters.polynomialSize, kernels: set))
    }

    /// KS+PBS one at a time and batched, and the key switch alone, on 64-bit words (both
    /// bootstrap orders, and KS32) and 32-bit ones: the same output words as the portable set,
    /// and the right messages.
    @Test(arguments: setNames, [TestParameters.insecure64, TestParameters.insecure32, "insecure_test_64_2_2", "insecure_test_64_2_2_ks32"])
    func bootstrapsMatchThePortableSet(set name: String, parameters: String) throws {
        let params = try TestParameters.load(parameters)
        if params.torusBits == 32 {
            try Self.compareBootstraps(UInt32.self, set: name, params)
        } else {
            try Self.compareBootstraps(UInt64.self, set: name, params)
        }
    }

    static func compareBootstraps<T: TorusScalar>(_: T.Type, set name: String, _ params: ParameterSet) throws {
        let set = try #require(EngineKernels.set(named: name))
        let client = try ClientKey<T>(parameters: params, seed: Seed(high: 41, low: 1))
        let generated = ServerKey(clientKey: client, seed: Seed(high: 41, low: 2))
        let server = serverKey(generated, on: set), reference = serverKey(generated, on: EngineKernels.portable)
        let messages = UInt64(1) << (params.messageBits + params.carryBits)
        let table = server.lookupTable { ($0 * 3 + 1) % messages }
        var rng = TestGenerator(43)
        var randomness = EncryptionRandomness(seed: Seed(high: 41, low: 3))
        let inputs = try (0..<6).map { _ in try client.encrypt(UInt64.random(in: 0..<messages, using: &rng), randomness: &randomness) }

        func bootstrapOne(_ key: ServerKey<T>) throws -> [LWECiphertext<T>] {
            let scratch = key.makeScratch()
            return try inputs.map { input in
                var out = LWECiphertext<T>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint)
                try key.programmableBootstrap(input, table: table, scratch: scratch, into: &out)
                return out
            }
        }
        func bootstrapBatch(_ key: ServerKey<T>) throws -> [LWECiphertext<T>] {
            var outs = inputs.map { _ in LWECiphertext<T>(dimension: params.ciphertextDimension, parameterFingerprint: params.fingerprint) }
            try key.programmableBootstrap(batch: inputs, tables: [table], scratches: key.makeBatchScratch(capacity: inputs.count), into: &outs)
            return outs
        }
        let one = try bootstrapOne(server)
        #expect(one.map(\.data) == (try bootstrapOne(reference)).map(\.data), "\(name) one at a time, \(params.name)")
        #expect((try bootstrapBatch(server)).map(\.data) == (try bootstrapBatch(reference)).map(\.data), "\(name) batched, \(params.name)")
        for (input, output) in zip(inputs, one) {
            #expect(try client.decrypt(output) == (try client.decrypt(input) * 3 + 1) % messages, "\(name), \(params.name)")
        }
        if params.order == .keySwitchThenBootstrap {
            #expect(try server.keySwitch(inputs[0]).data == (try reference.keySwitch(inputs[0])).data, "\(name) key switch")
        }
        if params.usesKeySwitch32 {
            #expect(try server.keySwitch32(inputs[0]).data == (try reference.keySwitch32(inputs[0])).data, "\(name) KS32 key switch")
        }
    }

    /// The built `fhe`, run by qemu's user-mode emulator as a Nehalem (SSE4.2, no AVX): it
    /// chooses the portable kernels and runs a real KS+PBS; asked for the AVX2 set, it says why
    /// it cannot and runs the portable one. Then natively, on every set this CPU runs.
    @Test func theBuiltToolChoosesItsKernelsAtRunTime() throws {
        #if os(Linux) && arch(x86_64)
        let tool = TestPaths.built("fhe")
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "build fhe first (scripts/test does)")
        let qemu = try #require(["/usr/bin/qemu-x86_64", "/usr/bin/qemu-x86_64-static"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                "qemu-user is missing (scripts/test installs it)")
        let bench = ["bench", "--params", TestParameters.folder.appendingPathComponent("insecure_test_64.json").path,
                     "--operations", "ks+pbs", "--iterations", "1"]
        let old = try Self.run(URL(fileURLWithPath: qemu), ["-cpu", "Nehalem", tool.path] + bench)
        #expect(old.status == 0, "\(old.errors)")
        #expect(old.output.contains("kernels: portable kernels"), "\(old.output)")
        #expect(old.output.contains("ks+pbs"))
        let refused = try Self.run(URL(fileURLWithPath: qemu), ["-cpu", "Nehalem", tool.path] + bench, kernels: "avx2")
        #expect(refused.status == 0, "\(refused.errors)")
        #expect(refused.output.contains("FHE_KERNELS=avx2 refused: this CPU cannot run the avx2 kernels; running portable"),
                "\(refused.output)")
        for name in Self.setNames {
            let native = try Self.run(tool, bench, kernels: name)
            #expect(native.status == 0, "\(native.errors)")
            #expect(native.output.contains("kernels: \(name) kernels"), "\(native.output)")
            print("fhe bench with FHE_KERNELS=\(name): \(native.output.split(separator: "\n").filter { $0.contains("ks+pbs") || $0.contains("kernels") })")
        }
        #endif
    }

    static func run(_ executable: URL, _ arguments: [String], kernels: String? = nil) throws -> (status: Int32, output: String, errors: String) {
        try TestPaths.run(executable, arguments, environment: kernels.map { [EngineKernels.environmentVariable: $0] } ?? [:])
    }
}
