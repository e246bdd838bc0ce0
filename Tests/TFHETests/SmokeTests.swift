import Testing
@testable import TFHE
@Test func version() { #expect(TFHEVersion.string == "0.1.0") }
