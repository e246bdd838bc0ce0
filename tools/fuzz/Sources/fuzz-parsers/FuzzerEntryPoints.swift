import Foundation
import FuzzTargets

// libFuzzer's entry points (https://llvm.org/docs/LibFuzzer.html). One binary holds every
// target; FUZZ_TARGET names the one a run drives, so the instrumented build links once.

/// libFuzzer's driver, for programs that have a `main` of their own.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable's `main` to `<module>_main`, so libFuzzer's own `main` is never
/// linked in: this one hands over to its driver.
@_cdecl("fuzz_parsers_main")
public func fuzzParsersMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, { bytes, count in fuzzerTestOneInput(bytes, count) })
}

/// The target of this run, set once in `LLVMFuzzerInitialize` before any input arrives.
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
    // FUZZ_LIST=1: each target's name and longest input, one a line, for scripts/fuzz.
    if environment["FUZZ_LIST"] != nil {
        for target in FuzzTarget.all { print(target.name, target.maximumInputLength) }
        exit(0)
    }
    guard let name = environment["FUZZ_TARGET"], let target = FuzzTarget.named(name) else {
        FileHandle.standardError.write(Data("set FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    // FUZZ_WRITE_SEEDS=<folder>: write the target's seeds (real encodings) there and stop.
    if let folder = environment["FUZZ_WRITE_SEEDS"] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (index, seed) in try target.seeds().enumerated() {
                try seed.write(to: URL(fileURLWithPath: folder).appendingPathComponent("seed-\(index)"))
            }
        } catch {
            FileHandle.standardError.write(Data("\(name): cannot write the seeds: \(error)\n".utf8))
            exit(1)
        }
        exit(0)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let target = selected else { fatalError("LLVMFuzzerInitialize did not choose a target") }
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    // A broken invariant is a finding like a crash: trap, so that libFuzzer saves the input.
    do { try target.run(data) } catch { fatalError("\(target.name): \(error)") }
    return 0
}
