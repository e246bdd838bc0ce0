import CGMP

/// An arbitrary-precision integer that owns a GMP `mpz_t` and clears it when released.
///
/// GMP's documented names (`mpz_init`, `mpz_mul`, ...) are preprocessor macros that Swift does
/// not import, so this type calls the `__gmpz_*` symbols they expand to (gmp.h). The `mpz_t`
/// lives in its own allocation rather than in a stored property: its address stays fixed, and
/// GMP may be handed the same integer as both result and operand (which the GMP manual,
/// "Variable Conventions", allows) without tripping Swift's exclusivity checks.
///
/// Not `Sendable`: an integer belongs to the computation that created it.
final class GMPInteger {
    let pointer: UnsafeMutablePointer<__mpz_struct>

    /// Zero.
    init() {
        pointer = .allocate(capacity: 1)
        __gmpz_init(pointer)
    }

    init(_ value: UInt) {
        pointer = .allocate(capacity: 1)
        __gmpz_init_set_ui(pointer, value)
    }

    /// A copy of `other`.
    init(_ other: GMPInteger) {
        pointer = .allocate(capacity: 1)
        __gmpz_init_set(pointer, other.pointer)
    }

    /// Parses ASCII decimal digits only. `mpz_set_str` itself would also skip white space,
    /// which an input field should not silently accept.
    init?(decimal: String) {
        guard !decimal.isEmpty, decimal.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        pointer = .allocate(capacity: 1)
        __gmpz_init(pointer)
        // Cannot fail: the string is non-empty and all digits.
        _ = __gmpz_set_str(pointer, decimal, 10)
    }

    deinit {
        __gmpz_clear(pointer)
        pointer.deallocate()
    }

    var decimalString: String {
        // mpz_sizeinbase may overstate the digit count by one; add room for a sign and the
        // terminating NUL, so mpz_get_str writes into our buffer rather than allocating.
        let capacity = __gmpz_sizeinbase(pointer, 10) + 2
        var buffer = [CChar](repeating: 0, count: capacity)
        return buffer.withUnsafeMutableBufferPointer { bytes in
            __gmpz_get_str(bytes.baseAddress, 10, pointer)
            return String(cString: bytes.baseAddress!)
        }
    }

    /// The number of bits in the absolute value (0 has 1).
    var bitLength: Int { __gmpz_sizeinbase(pointer, 2) }

    /// True if prime, with error probability below 4^-reps for a composite (GMP manual,
    /// `mpz_probab_prime_p`: trial division, a Baillie-PSW test, then reps-24 Miller-Rabin rounds).
    func isProbablePrime(reps: Int32 = 30) -> Bool {
        __gmpz_probab_prime_p(pointer, reps) > 0
    }

    func isDivisible(by divisor: UInt) -> Bool {
        __gmpz_divisible_ui_p(pointer, divisor) != 0
    }

    /// Divides in place by a divisor known to divide exactly (`mpz_divexact_ui`, faster than a
    /// general division).
    func divideExactly(by divisor: UInt) {
        __gmpz_divexact_ui(pointer, pointer, divisor)
    }

    /// self / divisor, for a divisor known to divide exactly.
    func quotient(exactlyDividedBy divisor: GMPInteger) -> GMPInteger {
        let result = GMPInteger()
        __gmpz_divexact(result.pointer, pointer, divisor.pointer)
        return result
    }

    /// The integer k-th root, if self is exactly a k-th power.
    func exactRoot(_ k: UInt) -> GMPInteger? {
        let root = GMPInteger()
        return __gmpz_root(root.pointer, pointer, k) != 0 ? root : nil
    }

    /// True if self = a^b for some integers a and b > 1 (GMP's `mpz_perfect_power_p`, which
    /// also counts 0 and 1).
    var isPerfectPower: Bool { __gmpz_perfect_power_p(pointer) != 0 }

    /// The smallest prime greater than self (`mpz_nextprime`, probabilistic like
    /// `isProbablePrime`).
    func nextPrime() -> GMPInteger {
        let result = GMPInteger()
        __gmpz_nextprime(result.pointer, pointer)
        return result
    }

    static func * (lhs: GMPInteger, rhs: GMPInteger) -> GMPInteger {
        let result = GMPInteger()
        __gmpz_mul(result.pointer, lhs.pointer, rhs.pointer)
        return result
    }

    /// base^exponent.
    static func power(_ base: UInt, _ exponent: UInt) -> GMPInteger {
        let result = GMPInteger()
        __gmpz_ui_pow_ui(result.pointer, base, exponent)
        return result
    }
}

extension GMPInteger: Comparable {
    static func == (lhs: GMPInteger, rhs: GMPInteger) -> Bool { __gmpz_cmp(lhs.pointer, rhs.pointer) == 0 }
    static func < (lhs: GMPInteger, rhs: GMPInteger) -> Bool { __gmpz_cmp(lhs.pointer, rhs.pointer) < 0 }
}

/// Comparisons with a machine word, without converting it to an `mpz_t`.
extension GMPInteger {
    static func == (lhs: GMPInteger, rhs: UInt) -> Bool { __gmpz_cmp_ui(lhs.pointer, rhs) == 0 }
    static func < (lhs: GMPInteger, rhs: UInt) -> Bool { __gmpz_cmp_ui(lhs.pointer, rhs) < 0 }
    static func > (lhs: GMPInteger, rhs: UInt) -> Bool { __gmpz_cmp_ui(lhs.pointer, rhs) > 0 }
}

extension GMPInteger: CustomStringConvertible {
    var description: String { decimalString }
}
