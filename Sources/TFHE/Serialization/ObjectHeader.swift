import Crypto
import Foundation

/// The envelope of every serialized object (format version 2), all integers little-endian:
///
///     offset  size  field
///     0       8     magic 0x89 'T' 'F' 'H' 'E' CR LF 0x1A (the PNG trick: a text-mode
///                   transfer that rewrites line ends or stops at ^Z breaks the magic)
///     8       2     format version (2; version 1 is read too, see `readableVersions`)
///     10      2     object kind (`ObjectKind`)
///     12      2     flags: bit 0 = compressed (seeded) form; other bits must be 0
///     14      2     torus word size in bits (32 or 64)
///     16      8     parameter-set fingerprint (`ParameterSet.fingerprint`)
///     24      8     payload length in bytes
///     32      32    SHA-256 of bytes 0..<32 followed by the payload
///     64      ...   payload (layout per kind and form, see the `+Serialization` files)
///
/// The checksum detects corruption of any byte; it is not a signature (whoever can change
/// the bytes can recompute it), so the payload reader does not rely on it and checks every
/// shape, count and value against the parameter set the object is read with.
public struct ObjectHeader: Sendable, Equatable {
    public static let magic: [UInt8] = [0x89, 0x54, 0x46, 0x48, 0x45, 0x0D, 0x0A, 0x1A]
    /// The version written.
    public static let formatVersion: UInt16 = 2
    /// Versions read. Version 1 differs only in the full server key, whose Fourier-domain
    /// points were in the order of the engine's transform of the time rather than the
    /// canonical order (see NegacyclicFFT+PointOrder.swift); it is converted on reading.
    public static let readableVersions: ClosedRange<UInt16> = 1...2
    /// Bytes before the payload.
    public static let size = 64
    static let flagCompressed: UInt16 = 1

    public let version: UInt16
    public let kind: ObjectKind
    public let compressed: Bool
    public let wordBits: Int
    public let parameterFingerprint: UInt64
    public let payloadLength: UInt64
    /// The SHA-256 stored in the header (the object's content fingerprint).
    public let checksum: [UInt8]

    /// Header plus payload (saturating: the declared length is the input's claim).
    public var objectLength: UInt64 {
        let (sum, overflow) = payloadLength.addingReportingOverflow(UInt64(Self.size))
        return overflow ? .max : sum
    }

    /// Parses and checks the first 64 bytes: magic, version, kind, flags, word size. Enough to
    /// learn what a file is and how long it says it is before reading the rest of it.
    public static func parse(prefix data: Data) throws -> ObjectHeader {
        guard data.count >= size else { throw SerializationError.truncated(needed: UInt64(size), available: data.count) }
        return try data.withUnsafeBytes { raw in
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[0..<size]))
            for byte in magic {
                guard try reader.read(UInt8.self, "magic") == byte else { throw SerializationError.badMagic }
            }
            let version = try reader.read(UInt16.self, "version")
            guard readableVersions.contains(version) else { throw SerializationError.unsupportedVersion(version) }
            let rawKind = try reader.read(UInt16.self, "kind")
            guard let kind = ObjectKind(rawValue: rawKind) else { throw SerializationError.unknownKind(rawKind) }
            let flags = try reader.read(UInt16.self, "flags")
            guard flags & ~flagCompressed == 0 else { throw SerializationError.unknownFlags(flags) }
            let compressed = flags & flagCompressed != 0
            guard !compressed || kind.hasCompressedForm else { throw SerializationError.unknownFlags(flags) }
            let wordBits = Int(try reader.read(UInt16.self, "word bits"))
            guard wordBits == 32 || wordBits == 64 else {
                throw SerializationError.invalidPayload("word size \(wordBits) bits (must be 32 or 64)")
            }
            let fingerprint = try reader.read(UInt64.self, "fingerprint")
            let length = try reader.read(UInt64.self, "payload length")
            let checksum = try reader.readWords(UInt8.self, count: 32, "checksum")
            return ObjectHeader(version: version, kind: kind, compressed: compressed, wordBits: wordBits, parameterFingerprint: fingerprint,
                                payloadLength: length, checksum: checksum)
        }
    }

    /// Parses the header of a whole object and checks its length and checksum.
    public static func read(from data: Data) throws -> ObjectHeader {
        let header = try parse(prefix: data)
        let available = UInt64(data.count - size)
        if header.payloadLength > available {
            throw SerializationError.truncated(needed: header.objectLength, available: data.count)
        }
        if header.payloadLength < available { throw SerializationError.trailingBytes(count: Int(available - header.payloadLength)) }
        guard Self.checksum(of: data) == header.checksum else { throw SerializationError.checksumMismatch }
        return header
    }

    /// SHA-256 of bytes 0..<32 and of the payload.
    static func checksum(of data: Data) -> [UInt8] {
        data.withUnsafeBytes { raw in
            var hash = SHA256()
            hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<32]))
            hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[size...]))
            return Array(hash.finalize())
        }
    }

    /// Writes header and checksum in front of a payload.
    package static func seal(kind: ObjectKind, compressed: Bool, wordBits: Int, parameterFingerprint: UInt64,
                     payload: [UInt8]) -> Data {
        seal(kind: kind, compressed: compressed, wordBits: wordBits, parameterFingerprint: parameterFingerprint,
             payloadByteCount: payload.count) { out in
            payload.withUnsafeBytes { out.copyMemory(from: $0) }
        }
    }

    /// Writes header and checksum in front of a payload of `payloadByteCount` bytes that
    /// `writePayload` writes in place, into the object's own memory: a secret payload (a client
    /// key) then exists in no buffer but the returned object.
    static func seal(kind: ObjectKind, compressed: Bool, wordBits: Int, parameterFingerprint: UInt64,
                     payloadByteCount: Int, writePayload: (UnsafeMutableRawBufferPointer) -> Void) -> Data {
        var head = ByteWriter(reservingCapacity: size)
        head.append(bytes: magic)
        head.append(formatVersion)
        head.append(kind.rawValue)
        head.append(compressed ? flagCompressed : 0)
        head.append(UInt16(wordBits))
        head.append(parameterFingerprint)
        head.append(UInt64(payloadByteCount))
        var data = Data(count: size + payloadByteCount)
        data.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: head.bytes)
            writePayload(UnsafeMutableRawBufferPointer(rebasing: raw[size...]))
        }
        let sum = checksum(of: data)
        data.withUnsafeMutableBytes { raw in UnsafeMutableRawBufferPointer(rebasing: raw[32..<64]).copyBytes(from: sum) }
        return data
    }

    /// Recomputes the checksum of a (possibly altered) object, as an attacker could: tests use
    /// it to reach the payload checks behind the checksum.
    package static func resealed(_ data: Data) -> Data {
        guard data.count >= size else { return data }
        var copy = Data(data)
        copy.replaceSubrange(32..<64, with: checksum(of: data))
        return copy
    }

    /// Opens an object for reading: checks the envelope, that it is one of `kinds`, of the word
    /// size of T and of `parameters`, then hands the payload to `body`, which must consume it all.
    package static func open<T: TorusScalar, R>(_ data: Data, kinds: Set<ObjectKind>, wordType: T.Type, parameters: ParameterSet,
                                        body: (inout ByteReader, ObjectHeader) throws -> R) throws -> R {
        let header = try read(from: data)
        guard kinds.contains(header.kind) else {
            throw SerializationError.unexpectedKind(expected: kinds.map(\.description).sorted().joined(separator: " or "),
                                                    found: header.kind.description)
        }
        guard header.wordBits == T.bitWidth else { throw SerializationError.wordSizeMismatch(expected: T.bitWidth, found: header.wordBits) }
        guard header.parameterFingerprint == parameters.fingerprint else {
            throw SerializationError.parameterMismatch(expected: parameters.fingerprint, found: header.parameterFingerprint)
        }
        return try data.withUnsafeBytes { raw in
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[size...]))
            let value = try body(&reader, header)
            try reader.expectEnd()
            return value
        }
    }
}
