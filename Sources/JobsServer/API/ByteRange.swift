import Foundation

/// One byte range of an RFC 9110 §14.1.2 `Range: bytes=...` header, resolved against a
/// representation's length: `a-b`, `a-` and the suffix form `-n`. Several ranges are refused
/// (a client that needs them asks again), and so is a range that does not overlap the bytes.
enum ByteRange {
    static func parse(_ header: String, length: Int) throws(APIProblem) -> ClosedRange<Int> {
        func unsatisfiable() -> APIProblem {
            APIProblem(.invalidRequest, .rangeNotSatisfiable, "the Range \(header.prefix(100)) does not fit the \(length) bytes",
                       headers: [.contentRange: "bytes */\(length)"])
        }
        guard header.hasPrefix("bytes="), length > 0 else { throw unsatisfiable() }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            throw APIProblem.invalid("Range must be one range: bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX")
        }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
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
