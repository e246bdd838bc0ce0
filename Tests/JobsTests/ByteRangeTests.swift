import HTTPTypes
@testable import JobsServer
import Testing

/// `Range` on key downloads, as openapi.yml's pattern states it: one byte range, other units
/// ignored, other `bytes=` forms 400, ranges outside the bytes 416.
@Suite("Byte ranges") struct ByteRangeTests {
    func status(_ header: String, length: Int = 100) -> HTTPResponse.Status? {
        do { _ = try ByteRange.parse(header, length: length); return nil } catch { return error.status }
    }

    @Test func oneRangeInEachFormResolves() throws {
        #expect(try ByteRange.parse("bytes=10-19", length: 100) == 10...19)
        #expect(try ByteRange.parse("bytes=90-", length: 100) == 90...99)
        #expect(try ByteRange.parse("bytes=-5", length: 100) == 95...99)
        #expect(try ByteRange.parse("bytes=-500", length: 100) == 0...99)
        #expect(try ByteRange.parse("bytes=50-5000", length: 100) == 50...99)
    }

    @Test func anotherUnitIsIgnored() throws {
        #expect(try ByteRange.parse("items=1-2", length: 100) == nil)
        #expect(try ByteRange.parse("V&5._UB]<irtd7.W%T%|", length: 100) == nil)
    }

    @Test func otherByteFormsAreRefusedAndOutsideRangesUnsatisfiable() {
        for malformed in ["bytes=", "bytes=-", "bytes=1-2,4-5", "bytes= 1-2", "bytes=a-b", "bytes=1-2-3", "bytes=" + String(repeating: "1", count: 20) + "-",
                          "bytes=1-" + String(repeating: "9", count: 95)] {
            #expect(status(malformed) == .badRequest, "\(malformed)")
        }
        for outside in ["bytes=100-", "bytes=20-10", "bytes=-0"] {
            #expect(status(outside) == .rangeNotSatisfiable, "\(outside)")
        }
        #expect(status("bytes=0-1", length: 0) == .rangeNotSatisfiable)
    }
}
