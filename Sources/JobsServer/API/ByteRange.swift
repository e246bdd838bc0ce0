import Foundation

/// One byte range of an RFC 9110 §14.1.2 `Range: bytes=...` header, resolved against a
/// representation's length: `a-b`, `a-` and the suffix form `-n`, exactly as openapi.yml's
/// pattern states them. A range of another unit is ignored (RFC 9110 §14.2: the whole
/// representation is sent); a `bytes=` value of another form, several ranges among them, is
/// refused (400: a client that needs several asks again), and a range that does not overlap
/// the bytes is 416.
enum ByteRange {
    /// openapi.yml's `maxLength` of the header.
    static let maximumHeaderLength = 100

    /// nil when the header names another unit.
    static func parse(_ header: String, length: Int) throws(APIProblem) -> ClosedRange<Int>? {
        guard header.utf8.count <= maximumHeaderLength else {
            throw APIProblem.invalid("Range must be at most \(maximumHeaderLength) characters")
        }
        guard header.hasPrefix("bytes=") else { return nil }
        let spec = header.utf8.dropFirst("bytes=".count)
        let isDigit = { (b: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        guard let dash = spec.firstIndex(of: UInt8(ascii: "-")),
              spec[..<dash].allSatisfy(isDigit), spec[spec.index(after: dash)...].allSatisfy(isDigit),
              spec.count > 1, spec[..<dash].count <= 19, spec[spec.index(after: dash)...].count <= 19 else {
            throw APIProblem.invalid("Range must be one range: bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX")
        }
        let first = Substring(spec[..<dash]), last = Substring(spec[spec.index(after: dash)...])
        func unsatisfiable() -> APIProblem {
            APIProblem(.invalidRequest, .rangeNotSatisfiable, "the Range \(header) does not fit the \(length) bytes",
                       headers: [.contentRange: "bytes */\(length)"])
        }
        guard length > 0 else { throw unsatisfiable() }
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { throw unsatisfiable() }
            return max(0, length - suffix)...(length - 1)
        }
        guard let start = Int(first), start < length else { throw unsatisfiable() }
        if last.isEmpty { return start...(length - 1) }
        guard let end = Int(last), end >= start else { throw unsatisfiable() }
        return start...min(end, length - 1)
    }
}
