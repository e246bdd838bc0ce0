import TFHEKernelABI
import Foundation

/// Payload: u32 n | u32 k·N | n bytes of the LWE key | k·N bytes of the GLWE key, one byte
/// (0 or 1) per binary coefficient. There is no compressed form: a client key is secret, so
/// its generation seed must not be what is stored.
///
/// The returned `Data` holds the key's bits: keep it inside the key boundary and wipe it when
/// done. The bits are written straight from the key's buffers into it, through no other buffer.
extension ClientKey {
    public func serialized() -> Data {
        let counts = 8
        return ObjectHeader.seal(kind: .clientKey, compressed: false, wordBits: T.bitWidth,
                                 parameterFingerprint: parameters.fingerprint,
                                 payloadByteCount: counts + lweKey.count + glweKey.count) { payload in
            payload.storeBytes(of: UInt32(lweKey.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            payload.storeBytes(of: UInt32(glweKey.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            var offset = counts
            for key in [lweKey, glweKey] {
                key.withCoefficients { bits in
                    for bit in bits {
                        payload[offset] = UInt8(truncatingIfNeeded: bit)
                        offset += 1
                    }
                }
            }
        }
    }

    public convenience init(serialized data: Data, parameters: ParameterSet) throws {
        guard parameters.torusBits == T.bitWidth else {
            throw SerializationError.wordSizeMismatch(expected: parameters.torusBits, found: T.bitWidth)
        }
        let (lwe, glwe) = try ObjectHeader.open(data, kinds: [.clientKey], wordType: T.self, parameters: parameters) { reader, _ in
            try reader.expect(UInt32.self, parameters.lweDimension, "LWE dimension")
            try reader.expect(UInt32.self, parameters.bigLWEDimension, "GLWE key size")
            let lwe = try BinarySecretKey<T>(count: parameters.lweDimension) { _ in try ClientKey<T>.readBit(&reader) }
            let glwe = try BinarySecretKey<T>(count: parameters.bigLWEDimension) { _ in try ClientKey<T>.readBit(&reader) }
            // A block binary rotation is only correct for a key with at most one 1 per block.
            if case .blockBinary(let blockSize) = parameters.blindRotation, !lwe.isBlockBinary(blockSize: blockSize) {
                throw SerializationError.invalidPayload("the LWE key has a block of \(blockSize) coefficients with more than one 1")
            }
            return (lwe, glwe)
        }
        self.init(parameters: parameters, lweKey: lwe, glweKey: glwe)
    }

    private static func readBit(_ reader: inout ByteReader) throws -> T {
        let bit = try reader.read(UInt8.self, "key coefficient")
        guard bit <= 1 else { throw SerializationError.invalidPayload("key coefficient \(bit) is not 0 or 1") }
        return T(bit)
    }
}
