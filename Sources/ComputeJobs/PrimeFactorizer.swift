/// Factors a positive integer into primes: trial division by the primes below 2^16, then, for
/// each remaining composite, a perfect-power check or a split by the elliptic curve method,
/// until every part is prime.
///
/// Primality is GMP's probabilistic test with 30 rounds, as is usual for factoring: a
/// composite passes with probability below 4^-30 (GMP manual, `mpz_probab_prime_p`).
enum PrimeFactorizer {
    /// Trial division removes every prime factor below this bound, so a remaining part below
    /// its square is prime without a test.
    static let trialDivisionBound: UInt = 1 << 16

    /// The primes below `trialDivisionBound`, by the sieve of Eratosthenes.
    static let smallPrimes: [UInt] = {
        let limit = Int(trialDivisionBound)
        var isComposite = [Bool](repeating: false, count: limit)
        var primes: [UInt] = []
        for candidate in 2..<limit where !isComposite[candidate] {
            primes.append(UInt(candidate))
            for multiple in stride(from: candidate * candidate, to: limit, by: candidate) {
                isComposite[multiple] = true
            }
        }
        return primes
    }()

    /// The prime factors of `number` (which must be at least 2), ascending and repeated by
    /// multiplicity. Leaves `number` unchanged.
    ///
    /// Runs until the factorization is complete; throws `CancellationError` once the task is
    /// cancelled (the elliptic curve method polls for it within each curve).
    static func factor(_ number: GMPInteger) throws -> [GMPInteger] {
        precondition(number > 1, "factor needs an integer of at least 2")
        var primes: [(prime: GMPInteger, multiplicity: Int)] = []

        let cofactor = GMPInteger(number)
        for prime in smallPrimes {
            if cofactor == 1 { break }
            var multiplicity = 0
            while cofactor.isDivisible(by: prime) {
                cofactor.divideExactly(by: prime)
                multiplicity += 1
            }
            if multiplicity > 0 { primes.append((GMPInteger(prime), multiplicity)) }
        }

        // Parts still to factor. `level` is the first ECM level worth trying on the part: its
        // parent was already searched below that level.
        var pending: [(part: GMPInteger, multiplicity: Int, level: Int)] = cofactor > 1 ? [(cofactor, 1, 0)] : []
        var curves: EllipticCurveMethod?  // set up only for a composite that needs it
        while let (part, multiplicity, level) = pending.popLast() {
            try Task.checkCancellation()
            if part < trialDivisionBound * trialDivisionBound || part.isProbablePrime() {
                primes.append((part, multiplicity))
            } else if let (root, exponent) = perfectPower(part) {
                // ECM would only find the root's factors the slow way; mpz_root is exact.
                pending.append((root, multiplicity * exponent, level))
            } else {
                let method = curves ?? EllipticCurveMethod()
                curves = method
                let (factor, foundAt) = try method.findFactor(of: part, firstLevel: level)
                pending.append((factor, multiplicity, foundAt))
                pending.append((part.quotient(exactlyDividedBy: factor), multiplicity, foundAt))
            }
        }

        // One prime can turn up on several branches (p^2 q may split as p and p q); sorting by
        // value brings its entries together.
        primes.sort { $0.prime < $1.prime }
        return primes.flatMap { entry in (0..<entry.multiplicity).map { _ in entry.prime } }
    }

    /// `(root, k)` with root^k == n for the largest k >= 2, if n is a perfect power; the root
    /// is then not a perfect power itself.
    static func perfectPower(_ n: GMPInteger) -> (root: GMPInteger, exponent: Int)? {
        guard n.isPerfectPower else { return nil }
        // A k-th power of an integer >= 2 has at least k bits.
        for exponent in stride(from: n.bitLength, through: 2, by: -1) {
            if let root = n.exactRoot(UInt(exponent)) { return (root, exponent) }
        }
        return nil
    }
}
