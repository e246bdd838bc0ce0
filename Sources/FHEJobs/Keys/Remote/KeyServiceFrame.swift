import Foundation
import NIOCore

/// The key service's wire format, the same over its Unix socket and over mutual TLS: one
/// request frame, one answer frame, in turn, on a connection. Every frame is
///
///     "fhks" | version (1 byte, 1) | kind (1 byte) | length (4 bytes, big-endian) | body
///
/// and the body is JSON (RFC 8259) of the kind's type. The header is read and checked (magic,
/// version, kind, length against the reader's limit) before a byte of the body is kept, so a
/// peer cannot make either side allocate more than that limit, and a stranger speaking another
/// protocol is told so on its first ten bytes.
struct KeyServiceFrame: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        /// `OwnerKeySetRequest` -> `OwnerKeySet`
        case ownerKeySet = 0x01
        /// `SealedOpening` -> `SealedResult`
        case openSealed = 0x02
        /// The operation's answer (the request kind's result type).
        case answer = 0x80
        /// `KeyServiceWireError`: the operation was refused or failed.
        case failure = 0x81

        var isRequest: Bool { rawValue < 0x80 }
    }

    static let magic: [UInt8] = Array("fhks".utf8)
    static let version: UInt8 = 1
    static let headerLength = 10
    /// Requests are a few kilobytes (an X-Wing sealing key is the largest part, 1,216 bytes).
    static let requestLimit = 64 << 10
    /// Answers: a key set's description, or a sealed result (padded plaintext of the outputs).
    static let answerLimit = 16 << 20

    var kind: Kind
    var body: Data

    func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.headerLength + body.count)
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
        return buffer
    }

    /// The next whole frame at the front of `buffer` (consumed), nil if more bytes are needed.
    /// Throws as soon as the header is wrong, before the body arrives.
    static func parse(_ buffer: inout ByteBuffer, limit: Int) throws(KeyServiceProtocolError) -> KeyServiceFrame? {
        let start = buffer.readerIndex
        let available = buffer.readableBytes
        if let prefix = buffer.getBytes(at: start, length: min(available, magic.count)), prefix != Array(magic.prefix(prefix.count)) {
            throw .malformedFrame("not a key service frame (it must start with \"fhks\")")
        }
        guard available >= headerLength,
              let version = buffer.getInteger(at: start + 4, as: UInt8.self),
              let kindByte = buffer.getInteger(at: start + 5, as: UInt8.self),
              let length = buffer.getInteger(at: start + 6, endianness: .big, as: UInt32.self) else { return nil }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let kind = Kind(rawValue: kindByte) else { throw .malformedFrame("unknown frame kind \(kindByte)") }
        guard Int(length) <= limit else { throw .frameTooLarge(Int(length), limit: limit) }
        guard available >= headerLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        guard let body = buffer.readBytes(length: Int(length)) else { return nil }
        return KeyServiceFrame(kind: kind, body: Data(body))
    }
}

/// Reads frames from a connection's inbound bytes, keeping at most one frame (bounded by
/// `limit`) and the chunk that completed it.
struct KeyServiceFrameReader<Bytes: AsyncIteratorProtocol> where Bytes.Element == ByteBuffer {
    private var bytes: Bytes
    private var buffer = ByteBuffer()
    let limit: Int

    init(_ bytes: Bytes, limit: Int) { self.bytes = bytes; self.limit = limit }

    /// The next frame; nil when the peer closed between frames.
    mutating func next() async throws -> KeyServiceFrame? {
        while true {
            if let frame = try KeyServiceFrame.parse(&buffer, limit: limit) { return frame }
            guard var chunk = try await bytes.next() else {
                if buffer.readableBytes == 0 { return nil }
                throw KeyServiceProtocolError.malformedFrame("the connection closed inside a frame")
            }
            buffer.writeBuffer(&chunk)
            buffer.discardReadBytes()
        }
    }
}

/// A frame that breaks the protocol; answered with a failure frame, then the connection closes.
enum KeyServiceProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedFrame(String)
    case unsupportedVersion(UInt8)
    case frameTooLarge(Int, limit: Int)

    var description: String {
        switch self {
        case .malformedFrame(let why): "malformed frame: \(why)"
        case .unsupportedVersion(let v): "protocol version \(v) is not spoken here (version \(KeyServiceFrame.version) is)"
        case .frameTooLarge(let length, let limit): "a frame of \(length) bytes is larger than the limit of \(limit)"
        }
    }

    var code: String {
        switch self {
        case .malformedFrame: "MALFORMED_FRAME"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .frameTooLarge: "FRAME_TOO_LARGE"
        }
    }
}

/// The body of a failure frame: an openapi.yml error code where the key service refused on
/// purpose (its status is the HTTP status the API answers), SERVICE_UNAVAILABLE when a
/// dependency of the key service is down, a protocol code, or INTERNAL.
struct KeyServiceWireError: Codable, Sendable, Equatable {
    var code: String
    var status: Int
    var message: String
    var retryAfterSeconds: Int?
}

/// `KeyServiceFrame.Kind.ownerKeySet`'s body.
struct OwnerKeySetRequest: Codable, Sendable, Equatable {
    var tenant: String
    var owner: String
}
