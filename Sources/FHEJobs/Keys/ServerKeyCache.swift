import Foundation
import TFHE

/// Server keys of this process, ready to compute with, bounded in bytes.
///
/// A compressed server key (tens of MB) expands to a Fourier-domain key several times its
/// size, and expanding it takes seconds: each key is expanded once, by the first job that
/// needs it (the jobs asking for it meanwhile wait for that one expansion), and the immutable
/// key is then shared by every job under it. Least recently used keys go when the total would
/// pass the capacity; a key larger than the capacity is still served, and is the only one kept.
public actor ServerKeyCache {
    public let capacityBytes: Int
    private var entries: [String: Entry] = [:]
    private var loading: [String: Task<IntegerServerKey<UInt64>, any Error>] = [:]
    private var clock: UInt64 = 0

    private struct Entry {
        let key: IntegerServerKey<UInt64>
        let bytes: Int
        var lastUse: UInt64
    }

    public init(capacityBytes: Int) { self.capacityBytes = max(0, capacityBytes) }

    /// Bytes of the expanded keys held.
    public var heldBytes: Int { entries.values.reduce(0) { $0 + $1.bytes } }
    public var count: Int { entries.count }

    /// The key `id` (a key set id or an uploaded server key's id), expanded from the compressed
    /// key that `compressed` reads, under `parameters`.
    public func key(id: String, parameters: ParameterSet,
                    compressed: @escaping @Sendable () async throws -> Data) async throws -> IntegerServerKey<UInt64> {
        clock += 1
        if var entry = entries[id] {
            entry.lastUse = clock
            entries[id] = entry
            return entry.key
        }
        if let pending = loading[id] { return try await pending.value }
        let task = Task<IntegerServerKey<UInt64>, any Error> {
            let bytes = try await compressed()
            return try await FHEThreads.run {
                let key = try CompressedServerKey<UInt64>(serialized: bytes, parameters: parameters).decompress()
                return try IntegerServerKey(serverKey: key)
            }
        }
        loading[id] = task
        defer { loading[id] = nil }
        let key = try await task.value
        let size = Int(ObjectHeader.maximumPayloadLength(kind: .serverKey, compressed: false, parameters: parameters))
        while !entries.isEmpty, heldBytes + size > capacityBytes,
              let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
        }
        entries[id] = Entry(key: key, bytes: size, lastUse: clock)
        return key
    }

    /// Drops a key (its owner deleted it).
    public func evict(id: String) { entries[id] = nil }
}
