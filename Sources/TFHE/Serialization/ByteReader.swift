/// Reads little-endian fields from a byte buffer, checking every read against what is left
/// before it copies or allocates anything: a length read from the input can never make it
/// allocate more than the input's own size. Package-wide, so that formats built on the
/// envelope outside the engine (FHEPrograms' encrypted-values files) read the same way.
package struct ByteReader {
    private let buffer: UnsafeRawBufferPointer
    package private(set) var offset = 0

    package init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    package var remaining: Int { buffer.count - offset }

    private mutating func take(_ count: Int, for field: String) throws -> Int {
        guard count >= 0, count <= remaining else {
            throw SerializationError.invalidPayload("\(field): needs \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return offset
    }

    package mutating func read<I: FixedWidthInteger>(_: I.Type, _ field: String) throws -> I {
        let at = try take(MemoryLayout<I>.size, for: field)
        return I(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: I.self))
    }

    mutating func readSeed(_ field: String) throws -> Seed {
        Seed(high: try read(UInt64.self, field), low: try read(UInt64.self, field))
    }

    /// `count` words; the byte count is checked against what is left, without overflow, first.
    package mutating func readWords<I: FixedWidthInteger>(_: I.Type, count: Int, _ field: String) throws -> [I] {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<I>.size)
        guard !overflow else { throw SerializationError.invalidPayload("\(field): count \(count) too large") }
        let at = try take(bytes, for: field)
        return [I](unsafeUninitializedCapacity: count) { out, initialized in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[at..<(at + bytes)]))
            #if !_endian(little)
            for i in 0..<count { out[i] = I(littleEndian: out[i]) }
            #endif
            initialized = count
        }
    }

    /// `count` words into a new aligned buffer (the storage of the keys), allocated only once
    /// the input is known to hold them.
    mutating func readAlignedWords<I: FixedWidthInteger & BitwiseCopyable>(_: I.Type, count: Int, _ field: String) throws -> AlignedBuffer<I> {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<I>.size)
        guard !overflow else { throw SerializationError.invalidPayload("\(field): count \(count) too large") }
        let at = try take(bytes, for: field)
        let target = AlignedBuffer<I>(count: count)
        UnsafeMutableRawPointer(target.pointer).copyMemory(from: buffer.baseAddress! + at, byteCount: bytes)
        #if !_endian(little)
        for i in 0..<count { target.pointer[i] = I(littleEndian: target.pointer[i]) }
        #endif
        return target
    }

    /// IEEE 754 binary64 values into a new aligned buffer.
    mutating func readAlignedDoubles(count: Int, _ field: String) throws -> AlignedBuffer<Double> {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 8)
        guard !overflow else { throw SerializationError.invalidPayload("\(field): count \(count) too large") }
        let at = try take(bytes, for: field)
        let target = AlignedBuffer<Double>(count: count)
        UnsafeMutableRawPointer(target.pointer).copyMemory(from: buffer.baseAddress! + at, byteCount: bytes)
        #if !_endian(little)
        for i in 0..<count { target.pointer[i] = Double(bitPattern: UInt64(littleEndian: target.pointer[i].bitPattern)) }
        #endif
        return target
    }

    /// A field that must equal the value the parameter set implies.
    package mutating func expect<I: FixedWidthInteger>(_: I.Type, _ value: Int, _ field: String) throws {
        let found = try read(I.self, field)
        guard Int(exactly: found) == value else {
            throw SerializationError.invalidPayload("\(field) is \(found), the parameter set says \(value)")
        }
    }

    package func expectEnd() throws {
        guard remaining == 0 else { throw SerializationError.invalidPayload("\(remaining) unread payload bytes") }
    }
}
