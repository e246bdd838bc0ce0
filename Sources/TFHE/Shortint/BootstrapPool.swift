import Dispatch
import Foundation
import Synchronization

/// Runs the independent programmable bootstraps of one operation on all cores.
///
/// The work of a radix operation is a sequence of layers, each a list of bootstraps that
/// do not depend on one another (all the blocks' carries, one level of a prefix tree, ...).
/// A layer is split into one contiguous chunk per worker of a fixed pool sized to the machine
/// (`DispatchQueue.concurrentPerform`, which runs on the system's worker threads: no thread
/// per bootstrap). The server key is immutable and shared; each worker checks out its own
/// scratch buffers for the layer and returns them afterwards, so two operations running at
/// once on the same key never share a buffer.
///
/// With `batchSize` above 1 a worker bootstraps its chunk in batches that share one pass over
/// the bootstrapping key (`ServerKey.programmableBootstrap(batch:)`). Without a size given, a
/// batch is as large as fits the core's cache (`ServerKey.preferredBatchSize`, from 2 to 8).
public final class BootstrapPool<T: TorusScalar>: Sendable {
    public let serverKey: ServerKey<T>
    public let workerCount: Int
    public let batchSize: Int
    private let idleScratch = Mutex<[[BootstrapScratch<T>]]>([])
    private let counter = Atomic<Int>(0)

    public init(serverKey: ServerKey<T>, workerCount: Int? = nil, batchSize: Int? = nil) {
        self.serverKey = serverKey
        self.workerCount = max(1, workerCount ?? ProcessInfo.processInfo.activeProcessorCount)
        self.batchSize = max(1, batchSize ?? serverKey.preferredBatchSize())
    }

    /// Bootstraps performed through this pool since it was made (all operations, all threads).
    public var bootstrapCount: Int { counter.load(ordering: .relaxed) }

    private func checkOutScratch() -> [BootstrapScratch<T>] {
        if let set = idleScratch.withLock({ $0.popLast() }) { return set }
        return serverKey.makeBatchScratch(capacity: batchSize)
    }

    private func checkIn(_ set: [BootstrapScratch<T>]) {
        idleScratch.withLock { $0.append(set) }
    }

    /// outputs[i] = bootstrap of inputs[i] through tables[i], the bootstraps spread over the
    /// workers. Inputs must be under the ciphertext key of the server key's parameter set. A
    /// many-LUT table (`ServerKey.lookupTable(functions:)`) gives its input one output per
    /// function, in order, so the result holds Σ tables[i].outputCount ciphertexts.
    public func bootstrap(_ inputs: [LWECiphertext<T>], tables: [LookupTable<T>]) throws -> [LWECiphertext<T>] {
        let count = inputs.count
        guard tables.count == count else { throw TFHEError.lookupTableSize(expected: count, found: tables.count) }
        if count == 0 { return [] }
        let outputStart = LookupTable.outputStarts(tables)
        let p = serverKey.parameters
        let empty = LWECiphertext<T>(dimension: p.ciphertextDimension, parameterFingerprint: p.fingerprint)
        var outputs = [LWECiphertext<T>](repeating: empty, count: outputStart[count])
        let workers = min(workerCount, count)
        let failure = Mutex<TFHEError?>(nil)
        outputs.withUnsafeMutableBufferPointer { buffer in
            // Workers write disjoint ranges of the outputs.
            let out = DisjointWrites(buffer: buffer)
            let run = { @Sendable (worker: Int) in
                let start = worker * count / workers, end = (worker + 1) * count / workers
                let scratch = self.checkOutScratch()
                defer { self.checkIn(scratch) }
                do {
                    if self.batchSize == 1 {
                        for i in start..<end {
                            if tables[i].outputCount == 1 {
                                try self.serverKey.programmableBootstrap(inputs[i], table: tables[i], scratch: scratch[0],
                                                                         into: &out.buffer[outputStart[i]])
                            } else {
                                var many = Array(out.buffer[outputStart[i]..<outputStart[i + 1]])
                                try self.serverKey.programmableBootstrap(inputs[i], table: tables[i], scratch: scratch[0], into: &many)
                                for (offset, ciphertext) in many.enumerated() { out.buffer[outputStart[i] + offset] = ciphertext }
                            }
                        }
                    } else {
                        var chunkStart = start
                        while chunkStart < end {
                            let chunkEnd = min(end, chunkStart + self.batchSize)
                            let first = outputStart[chunkStart]
                            var chunkOutputs = Array(out.buffer[first..<outputStart[chunkEnd]])
                            try self.serverKey.programmableBootstrap(
                                batch: Array(inputs[chunkStart..<chunkEnd]), tables: Array(tables[chunkStart..<chunkEnd]),
                                scratches: scratch, into: &chunkOutputs)
                            for (offset, ciphertext) in chunkOutputs.enumerated() { out.buffer[first + offset] = ciphertext }
                            chunkStart = chunkEnd
                        }
                    }
                } catch let error as TFHEError {
                    failure.withLock { $0 = error }
                } catch {
                    failure.withLock { $0 = .unsupported("\(error)") }
                }
            }
            if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        counter.add(count, ordering: .relaxed)
        return outputs
    }
}

/// An output buffer that several workers fill, each its own indices.
private struct DisjointWrites<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
}
