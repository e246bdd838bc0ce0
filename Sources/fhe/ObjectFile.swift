import Foundation
import Jobs
import TFHE

/// Reading and writing the engine's serialized objects as files, with the checks a file from
/// elsewhere needs: the header is read first and the declared length bounded by what the
/// object's parameter set allows before the rest is read.
final class ObjectFile {
    let path: String
    let header: ObjectHeader
    /// nil only when read with `requireParameters: false` and the set was not found.
    let knownParameters: ParameterSet?
    private(set) var data: Data

    init(path: String, header: ObjectHeader, knownParameters: ParameterSet?, data: Data) {
        self.path = path
        self.header = header
        self.knownParameters = knownParameters
        self.data = data
    }

    /// Overwrites the bytes read (a client key's bits) once they have been decoded; best effort,
    /// as the operating system's and Foundation's buffers are out of reach.
    func wipe() { data.resetBytes(in: 0..<data.count) }

    var parameters: ParameterSet { knownParameters! }

    /// Reads and checks a file. `parameters` overrides the search by fingerprint.
    static func read(_ path: String, parameters given: ParameterSet? = nil, requireParameters: Bool = true) throws -> ObjectFile {
        let url = URL(fileURLWithPath: path)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw CLIError("cannot open \(path)") }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: ObjectHeader.size)) ?? Data()
        let header: ObjectHeader
        do { header = try ObjectHeader.parse(prefix: prefix) } catch { throw CLIError("\(path): \(error)") }
        if header.kind == .clientKey {
            do { try SecretFile.checkOwnerOnly(path) } catch { throw CLIError("\(error)") }
        }
        let folder = url.deletingLastPathComponent()
        let found = given ?? ParameterLocation.find(fingerprint: header.parameterFingerprint, extraFolders: [folder])
        let limit: UInt64
        if let parameters = found {
            guard parameters.fingerprint == header.parameterFingerprint else {
                throw CLIError("\(path): made for parameter set \(String(header.parameterFingerprint, radix: 16)), not \(parameters.name)")
            }
            limit = ObjectHeader.maximumPayloadLength(kind: header.kind, compressed: header.compressed, parameters: parameters)
        } else if requireParameters {
            throw CLIError("\(path): no parameter set with fingerprint \(String(header.parameterFingerprint, radix: 16)) (give --params, or put its file next to the object)")
        } else {
            // Without the set, the file's own size is the bound.
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).flatMap { $0 } ?? 0
            limit = UInt64(max(0, size - ObjectHeader.size))
        }
        guard header.payloadLength <= limit else {
            throw CLIError("\(path): declares a \(header.payloadLength)-byte payload, a \(header.kind) of \(found?.name ?? "this file") has at most \(limit)")
        }
        // At most one byte more than declared, so trailing data is seen without reading it all.
        var rest = (try? handle.read(upToCount: Int(header.payloadLength) + 1)) ?? Data()
        var data = prefix
        data.append(rest)
        rest.resetBytes(in: 0..<rest.count)
        do { _ = try ObjectHeader.read(from: data) } catch { throw CLIError("\(path): \(error)") }
        return ObjectFile(path: path, header: header, knownParameters: found, data: data)
    }

    /// Runs a decoding step, naming the file in any error.
    func decode<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as CLIError { throw error } catch { throw CLIError("\(path): \(error)") }
    }

    /// Writes an object; a secret one goes to a new file that is its owner's only from its
    /// creation (`SecretFile`), and never replaces a file.
    static func write(_ data: Data, to path: String, secret: Bool = false) throws {
        if secret {
            do { try SecretFile.create(path, contents: data) } catch { throw CLIError("\(error)") }
            return
        }
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// A short content fingerprint: the first 8 bytes of the object's SHA-256, in hex.
    static func shortChecksum(_ header: ObjectHeader) -> String {
        header.checksum.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
