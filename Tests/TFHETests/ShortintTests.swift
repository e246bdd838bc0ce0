import Foundation
import Testing
@testable import TFHE

@Suite("Shortint blocks on the insecure 2_2 set")
struct ShortintTests {
    let keys = IntegerTestKeys.insecure
    var shortint: ShortintServerKey<UInt64> { keys.server.shortint }

    @Test func encryptDecryptAndRange() throws {
        for m in UInt64(0)..<4 { #expect(try keys.client.decryptShortint(try keys.client.encryptShortint(m)) == m) }
        #expect(throws: TFHEError.messageOutOfRange(value: 4, modulus: 4)) { try keys.client.encryptShortint(4) }
    }

    @Test func arithmeticModuloTheMessage() throws {
        for a in UInt64(0)..<4 {
            for b in UInt64(0)..<4 {
                let x = try keys.client.encryptShortint(a), y = try keys.client.encryptShortint(b)
                let d = { (c: ShortintCiphertext<UInt64>) in try keys.client.decryptShortint(c) }
                #expect(try d(try shortint.add(x, y)) == (a + b) % 4)
                #expect(try d(try shortint.sub(x, y)) == (a &- b) % 4)
                #expect(try d(try shortint.mul(x, y)) == (a * b) % 4)
                #expect(try d(try shortint.neg(x)) == (4 - a) % 4)
                #expect(try d(try shortint.scalarAdd(x, b)) == (a + b) % 4)
                #expect(try d(try shortint.scalarMul(x, b + 1)) == (a * (b + 1)) % 4)
                // Bivariate lookup and carry extraction of an unreduced sum.
                #expect(try d(try shortint.apply(x, y) { ($0 * 3 + $1 * $1) % 4 }) == (a * 3 + b * b) % 4)
                let sum = try shortint.add(x, y)
                #expect(try keys.client.decryptMessageAndCarry(sum) == a + b)
                #expect(try d(try shortint.carryExtract(sum)) == (a + b) / 4)
                #expect(try d(try shortint.messageExtract(sum)) == (a + b) % 4)
            }
        }
    }

    /// Many additions with no explicit cleaning: the key cleans an operand whenever the
    /// next sum could overflow the carry space or the noise budget.
    @Test func chainedAdditionsStayCorrect() throws {
        var rng = TestGenerator(11)
        var accumulator = try keys.client.encryptShortint(0)
        var clear: UInt64 = 0
        for step in 0..<40 {
            let m = UInt64.random(in: 0..<4, using: &rng)
            accumulator = try step % 3 == 2 ? shortint.sub(accumulator, try keys.client.encryptShortint(m))
                                            : shortint.add(accumulator, try keys.client.encryptShortint(m))
            clear = step % 3 == 2 ? (clear &+ 4 &- m) % 4 : (clear + m) % 4
            #expect(accumulator.degree <= shortint.encoding.maxDegree)
            #expect(accumulator.noiseLevel <= shortint.encoding.maxNoiseLevel)
            #expect(try keys.client.decryptShortint(accumulator) == clear, "after step \(step)")
        }
    }

    @Test func ciphertextOfAnotherParameterSetIsATypedError() throws {
        var x = try keys.client.encryptShortint(1)
        x.lwe = LWECiphertext(data: x.lwe.data, parameterFingerprint: x.lwe.parameterFingerprint ^ 1)
        #expect(throws: TFHEError.self) { try shortint.add(x, x) }
        var y = try keys.client.encryptShortint(1)
        y.degree = 99
        #expect(throws: TFHEError.self) { try shortint.add(y, y) }
    }
}
