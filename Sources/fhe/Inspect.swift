import ArgumentParser
import Foundation
import TFHE

/// `fhe inspect`: what a file is, for which parameters, how big; never any key material.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a serialized object is: kind, parameter set, form and size (never key material).")

    @Argument(help: "A key or ciphertext file.")
    var file: String

    func run() throws {
        let object = try ObjectFile.read(file, requireParameters: false)
        let h = object.header
        let fingerprint = String(h.parameterFingerprint, radix: 16)
        let set = object.knownParameters.map { p in
            "\(p.name)\(p.insecure ? " (INSECURE)" : "") (fingerprint \(fingerprint)); n=\(p.lweDimension) k=\(p.glweDimension) N=\(p.polynomialSize)"
        } ?? "unknown here (fingerprint \(fingerprint))"
        print("""
        \(file)
          kind: \(h.kind)\(h.kind.hasCompressedForm ? (h.compressed ? " (compressed: masks regenerated from a seed)" : " (full)") : "")
          parameter set: \(set)
          torus: \(h.wordBits) bits
          size: \(object.data.count) bytes (payload \(h.payloadLength))
          format version: \(h.version); sha256 \(h.checksum.map { String(format: "%02x", $0) }.joined())
        """)
        // The block count is the payload's first u32 (after the target kind in a compact list).
        let countOffset = ObjectHeader.size + (h.kind == .compactList ? 4 : 0)
        if h.kind.isBlockList || h.kind == .compactList, object.data.count >= countOffset + 4 {
            let count = object.data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: countOffset, as: UInt32.self)) }
            var line = "  blocks: \(count)"
            if h.kind == .compactList {
                let raw = object.data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: ObjectHeader.size, as: UInt16.self)) }
                line += ", expanding to a \(ObjectKind(rawValue: raw).map(\.description) ?? "kind \(raw)")"
            }
            print(line)
        }
    }
}
