import TFHEKernelABI

/// The kernels of this compilation (TFHE's own portable one, or a per-CPU variant target's;
/// Package.swift), behind the entry points of `EngineKernelSet`: each one dispatches on the
/// torus word once and runs a whole loop specialised for it.
struct CompiledKernelSet: EngineKernelSet {
    #if KERNELS_AVX512
    let name = "avx512"
    #elseif KERNELS_AVX2
    let name = "avx2"
    #else
    let name = "portable"
    #endif

    var vectorShape: String {
        #if ENGINE_AVX512
        let conversions = "64-bit lane conversions by AVX-512DQ instructions"
        #else
        let conversions = "64-bit lane conversions by exact floating-point splitting"
        #endif
        return "FFT passes on \(PassLanes.scalarCount) Double lanes, \(conversions)"
    }

    func forward(_ tables: FourierTables, _ coefficients: UnsafePointer<Double>,
                 re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        FourierTransform(tables).forward(coefficients, re: re, im: im)
    }

    func inverse(_ tables: FourierTables, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                 into coefficients: UnsafeMutablePointer<Double>) {
        FourierTransform(tables).inverse(re: re, im: im, into: coefficients)
    }

    func complexForward(_ tables: FourierTables, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        FourierTransform(tables).complexForward(re: re, im: im)
    }

    func complexInverse(_ tables: FourierTables, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        FourierTransform(tables).complexInverse(re: re, im: im)
    }

    func inverseAdd(_ width: TorusWidth, _ tables: FourierTables, re: UnsafeMutablePointer<Double>,
                    im: UnsafeMutablePointer<Double>, into output: UnsafeMutableRawPointer) {
        let fft = FourierTransform(tables)
        switch width {
        case .bits64: fft.inverseAdd(re: re, im: im, into: output.assumingMemoryBound(to: UInt64.self))
        case .bits32: fft.inverseAdd(re: re, im: im, into: output.assumingMemoryBound(to: UInt32.self))
        }
    }

    func blindRotate(_ width: TorusWidth, lookupTable: UnsafeRawPointer, key: FourierKeyLayout, tables: FourierTables,
                     buffers: BootstrapBuffers) {
        switch width {
        case .bits64: Self.blindRotate(UInt64.self, lookupTable: lookupTable, key: key, tables: tables, buffers: buffers)
        case .bits32: Self.blindRotate(UInt32.self, lookupTable: lookupTable, key: key, tables: tables, buffers: buffers)
        }
    }

    private static func blindRotate<T: TorusScalar>(_: T.Type, lookupTable: UnsafeRawPointer, key: FourierKeyLayout,
                                                    tables: FourierTables, buffers: BootstrapBuffers) {
        BlindRotation.blindRotate(switched: UnsafePointer(buffers.switched), lookupTable: lookupTable.assumingMemoryBound(to: T.self),
                                  key: key, fft: FourierTransform(tables), scratch: ScratchView<T>(buffers))
    }

    func blindRotateBatch(_ width: TorusWidth, key: FourierKeyLayout, tables: FourierTables, buffers: [BootstrapBuffers]) {
        switch width {
        case .bits64: Self.blindRotateBatch(UInt64.self, key: key, tables: tables, buffers: buffers)
        case .bits32: Self.blindRotateBatch(UInt32.self, key: key, tables: tables, buffers: buffers)
        }
    }

    private static func blindRotateBatch<T: TorusScalar>(_: T.Type, key: FourierKeyLayout, tables: FourierTables,
                                                         buffers: [BootstrapBuffers]) {
        let scratches = buffers.map(ScratchView<T>.init)
        BlindRotation.blindRotateBatch(switched: scratches.map { UnsafePointer($0.switched) }, key: key,
                                       fft: FourierTransform(tables), scratches: scratches)
    }

    func cmux(_ width: TorusWidth, keyIndex: Int, rotation: Int, key: FourierKeyLayout, tables: FourierTables,
              buffers: BootstrapBuffers) {
        switch width {
        case .bits64:
            BlindRotation.cmux(keyIndex: keyIndex, rotation: rotation, key: key, fft: FourierTransform(tables),
                               scratch: ScratchView<UInt64>(buffers))
        case .bits32:
            BlindRotation.cmux(keyIndex: keyIndex, rotation: rotation, key: key, fft: FourierTransform(tables),
                               scratch: ScratchView<UInt32>(buffers))
        }
    }

    func keySwitch(_ width: TorusWidth, key: KeySwitchLayout, input: UnsafeRawPointer, output: UnsafeMutableRawPointer,
                   sums: UnsafeMutablePointer<UInt32>) {
        switch width {
        case .bits64:
            KeySwitch.keySwitch(key, input.assumingMemoryBound(to: UInt64.self), into: output.assumingMemoryBound(to: UInt64.self), sum: sums)
        case .bits32:
            KeySwitch.keySwitch(key, input.assumingMemoryBound(to: UInt32.self), into: output.assumingMemoryBound(to: UInt32.self), sum: sums)
        }
    }

    func keySwitchBatch(_ width: TorusWidth, key: KeySwitchLayout, inputs: [UnsafeRawPointer],
                        outputs: [UnsafeMutableRawPointer], sums: [UnsafeMutablePointer<UInt32>]) {
        switch width {
        case .bits64:
            KeySwitch.keySwitchBatch(key, inputs.map { $0.assumingMemoryBound(to: UInt64.self) },
                                     into: outputs.map { $0.assumingMemoryBound(to: UInt64.self) }, sums: sums)
        case .bits32:
            KeySwitch.keySwitchBatch(key, inputs.map { $0.assumingMemoryBound(to: UInt32.self) },
                                     into: outputs.map { $0.assumingMemoryBound(to: UInt32.self) }, sums: sums)
        }
    }

    func keySwitch32(key: KeySwitchLayout, input: UnsafePointer<UInt64>, output: UnsafeMutablePointer<UInt32>) {
        KeySwitch.keySwitch32(key, input, into: output)
    }

    func keySwitchBatch32(key: KeySwitchLayout, inputs: [UnsafePointer<UInt64>], outputs: [UnsafeMutablePointer<UInt32>]) {
        KeySwitch.keySwitchBatch32(key, inputs, into: outputs)
    }
}

#if KERNELS_AVX512 || KERNELS_AVX2
/// This variant's kernel set, for `EngineKernels`.
public let compiledKernelSet: any EngineKernelSet = CompiledKernelSet()
#endif
