/// Appends little-endian integers and word arrays to a growing byte buffer.
package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    package mutating func append<I: FixedWidthInteger>(_ value: I) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ seed: Seed) {
        append(seed.high)
        append(seed.low)
    }

    /// Words in little-endian order, copied in one block on little-endian machines.
    mutating func append<I: FixedWidthInteger>(words pointer: UnsafePointer<I>, count: Int) {
        #if _endian(little)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<I>.size))
        #else
        for i in 0..<count { append(pointer[i]) }
        #endif
    }

    package mutating func append<I: FixedWidthInteger>(words: [I]) {
        words.withUnsafeBufferPointer { append(words: $0.baseAddress!, count: $0.count) }
    }

    /// IEEE 754 binary64, little-endian.
    mutating func append(doubles pointer: UnsafePointer<Double>, count: Int) {
        #if _endian(little)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<Double>.size))
        #else
        for i in 0..<count { append(pointer[i].bitPattern) }
        #endif
    }

    package mutating func append(bytes other: [UInt8]) { bytes.append(contentsOf: other) }
}
