import Foundation
import Jobs
import Testing
@testable import ComputeJobs

/// The `compute` algorithms, each checked against an independent computation: products of
/// returned factors, Swift's own sort, a textbook matrix product, published SHA-256 vectors.
@Suite struct ComputeJobsTests {
    // MARK: Helpers

    /// The message of the JobInputError that `validate` throws, or nil (recorded as an issue)
    /// when it accepts the input.
    private func rejection(_ executor: some JobExecutor, _ input: JSONValue,
                           sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            try executor.validate(input: input)
            Issue.record("input was accepted: \(input)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error.message
        }
    }

    private func expectRejected(_ executor: some JobExecutor, _ input: JSONValue, saying expected: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        guard let message = rejection(executor, input, sourceLocation: sourceLocation) else { return }
        #expect(message.contains(expected), "message: \(message)", sourceLocation: sourceLocation)
    }

    /// JSON text as a JSONValue (JSONValue has no literal syntax of its own).
    private func json(_ text: String) -> JSONValue {
        do { return try JSONValue.decode(Data(text.utf8)) } catch { preconditionFailure("bad JSON in a test: \(text)") }
    }

    private func expectRejected(_ executor: some JobExecutor, _ input: String, saying expected: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        expectRejected(executor, json(input), saying: expected, sourceLocation: sourceLocation)
    }

    private func strings(_ value: JSONValue?) -> [String]? { value?.arrayValue?.compactMap(\.stringValue) }
    private func numbers(_ value: JSONValue?) -> [Double]? { value?.arrayValue?.compactMap(\.doubleValue) }

    // MARK: prime_factorization

    /// Runs the executor and checks the result independently: ascending factors, each prime,
    /// whose product is the input. Returns the factors.
    @discardableResult
    private func factorAndCheck(_ number: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
        let output = try await PrimeFactorizationExecutor().run(input: .object(["number": .string(number)]))
        #expect(output["number"]?.stringValue == number, sourceLocation: sourceLocation)
        #expect(output["complete"]?.boolValue == true, sourceLocation: sourceLocation)
        let factors = try #require(strings(output["factors"]), sourceLocation: sourceLocation)
        let values = try factors.map { try #require(GMPInteger(decimal: $0), sourceLocation: sourceLocation) }
        #expect(values.allSatisfy { $0.isProbablePrime() }, "not all prime: \(factors)", sourceLocation: sourceLocation)
        #expect(zip(values, values.dropFirst()).allSatisfy { !($1 < $0) }, "not ascending: \(factors)", sourceLocation: sourceLocation)
        let product = values.reduce(GMPInteger(1)) { $0 * $1 }
        #expect(product.decimalString == number, "product of \(factors)", sourceLocation: sourceLocation)
        return factors
    }

    /// Plain trial division on machine integers.
    private func naiveFactors(_ n: Int) -> [String] {
        var (n, d, factors) = (n, 2, [String]())
        while d * d <= n {
            while n % d == 0 { factors.append(String(d)); n /= d }
            d += 1
        }
        if n > 1 { factors.append(String(n)) }
        return factors
    }

    @Test func factorsTheFortyDigitSemiprimeOfTwoTwentyDigitPrimesInSeconds() async throws {
        // Two 20-digit primes whose product has 40 digits (primes just above 10^19, such as
        // 10000000000000000051 and 10000000000000000087, give only 39).
        let p = (GMPInteger(4) * GMPInteger.power(10, 19)).nextPrime()
        let q = (GMPInteger(7) * GMPInteger.power(10, 19)).nextPrime()
        #expect(p.isProbablePrime(reps: 50) && q.isProbablePrime(reps: 50))
        #expect(p.decimalString.count == 20 && q.decimalString.count == 20)
        let n = (p * q).decimalString
        #expect(n.count == 40)

        let clock = ContinuousClock()
        let start = clock.now
        let factors = try await factorAndCheck(n)
        let elapsed = clock.now - start
        print("prime_factorization of the 40-digit semiprime \(n): \(elapsed)")
        #expect(factors == [p.decimalString, q.decimalString])
    }

    @Test func factorsSmallNumbersLikeTrialDivision() async throws {
        let executor = PrimeFactorizationExecutor()
        for n in 2...600 {
            let output = try await executor.run(input: .object(["number": .number(Double(n))]))
            #expect(strings(output["factors"]) == naiveFactors(n), "n = \(n)")
        }
    }

    @Test func factorsTwoPrimesAndSpecialCases() async throws {
        #expect(try await factorAndCheck("2") == ["2"])
        #expect(try await factorAndCheck("600851475143") == ["71", "839", "1471", "6857"])
        #expect(try await factorAndCheck("4294967297") == ["641", "6700417"])  // Euler's F5
        // 2^332, the largest power of 2 with at most 100 digits.
        let power = GMPInteger.power(2, 332).decimalString
        #expect(power.count == 100)
        #expect(try await factorAndCheck(power) == Array(repeating: "2", count: 332))
        // A 100-digit prime comes back as itself.
        let prime = GMPInteger.power(10, 99).nextPrime()
        #expect(try await factorAndCheck(prime.decimalString) == [prime.decimalString])
        // Just above the trial-division bound: (2^16 + 1)^2 is a square of a prime that trial
        // division stops short of.
        #expect(try await factorAndCheck("4295098369") == ["65537", "65537"])
    }

    @Test func factorsProductsOfPrimesJustAboveTheTrialDivisionBound() async throws {
        // Several primes of 17 to 40 bits: small enough that one elliptic curve may find all
        // of them at once and return the input itself, which must not stall the search.
        var generator = SeededGenerator(state: 17)
        for bits in [17, 18, 20, 24, 32, 40] {
            let primes = (0..<Int.random(in: 2...5, using: &generator)).map { _ in
                GMPInteger(UInt.random(in: (1 << (bits - 1))...(1 << bits), using: &generator)).nextPrime()
            }
            let n = primes.reduce(GMPInteger(1)) { $0 * $1 }
            #expect(try await factorAndCheck(n.decimalString) == primes.sorted().map(\.decimalString))
        }
    }

    @Test func factorsPerfectPowersOfLargePrimes() async throws {
        let p = GMPInteger.power(10, 30).nextPrime()      // 31 digits
        let q = GMPInteger.power(10, 19).nextPrime()      // 20 digits
        // p^3: 91 digits that ECM could not split in reasonable time, but mpz_root can.
        let cube = p * p * p
        #expect(try await factorAndCheck(cube.decimalString) == Array(repeating: p.decimalString, count: 3))
        // q^2 * 7^3 * 2: small factors first, then a perfect power.
        let mixed = q * q * GMPInteger(686)
        #expect(try await factorAndCheck(mixed.decimalString) == ["2", "7", "7", "7", q.decimalString, q.decimalString])
        // A power with composite root: (q * 1000003)^2.
        let root = q * GMPInteger(1_000_003)
        let square = root * root
        #expect(try await factorAndCheck(square.decimalString) == ["1000003", "1000003", q.decimalString, q.decimalString])
    }

    @Test func factorsSeveralMediumPrimesWithRepeats() async throws {
        // 2^10 * 3^5 * 1000003 * p12 * p12 * p15 * p18: ECM splits, then the cofactors split again.
        let p12 = GMPInteger.power(10, 11).nextPrime()
        let p15 = GMPInteger.power(10, 14).nextPrime()
        let p18 = GMPInteger.power(10, 17).nextPrime()
        let n = GMPInteger(1024 * 243) * GMPInteger(1_000_003) * p12 * p12 * p15 * p18
        let factors = try await factorAndCheck(n.decimalString)
        #expect(factors == Array(repeating: "2", count: 10) + Array(repeating: "3", count: 5)
                + ["1000003", p12.decimalString, p12.decimalString, p15.decimalString, p18.decimalString])
    }

    @Test func acceptsJSONIntegersUpToTwoToThe53AndLeadingZeros() async throws {
        let executor = PrimeFactorizationExecutor()
        let power = try await executor.run(input: json(#"{"number": 9007199254740992}"#))
        #expect(power["number"]?.stringValue == "9007199254740992")
        #expect(strings(power["factors"]) == Array(repeating: "2", count: 53))
        let padded = try await executor.run(input: json(#"{"number": "0000000091"}"#))
        #expect(padded == json(#"{"number": "91", "factors": ["7", "13"], "complete": true}"#))
    }

    @Test func rejectsBadFactorizationInput() throws {
        let executor = PrimeFactorizationExecutor()
        let digits = "input.number must be a positive decimal integer of at most 100 digits"
        expectRejected(executor, #""8051""#, saying: "input must be an object")
        expectRejected(executor, "{}", saying: "input.number is required")
        expectRejected(executor, #"{"number": "15", "base": 10}"#, saying: "input.base is not a field of a prime_factorization input (number)")
        for bad in ["", "12a", " 12", "12 ", "-5", "+5", "1e5", "0x1f", "١٢", String(repeating: "9", count: 101)] {
            expectRejected(executor, .object(["number": .string(bad)]), saying: digits)
        }
        for small in [#""0""#, #""1""#, #""000""#, #""01""#, "0", "1", "-7"] {
            expectRejected(executor, #"{"number": \#(small)}"#, saying: "input.number must be at least 2")
        }
        expectRejected(executor, #"{"number": 1.5}"#, saying: "input.number must be an integer")
        expectRejected(executor, #"{"number": 9007199254740994}"#, saying: "pass integers above 2^53 (9007199254740992) as decimal strings")
        expectRejected(executor, #"{"number": true}"#, saying: "input.number must be a decimal string")
        expectRejected(executor, #"{"number": ["12"]}"#, saying: "input.number must be a decimal string")
        // 100 digits is the limit, not beyond it.
        #expect(throws: Never.self) {
            try executor.validate(input: .object(["number": .string("1" + String(repeating: "0", count: 99))]))
        }
    }

    @Test func runChecksItsInputToo() async {
        await #expect(throws: JobInputError("input.number must be at least 2")) {
            try await PrimeFactorizationExecutor().run(input: json(#"{"number": "1"}"#))
        }
    }

    @Test func cancellingAHardFactorizationStopsItWithinTwoSeconds() async throws {
        // Two 45-digit primes: far beyond what ECM finds in a test's time.
        let p = (GMPInteger.power(10, 44) * GMPInteger(3)).nextPrime()
        let q = (GMPInteger.power(10, 44) * GMPInteger(7)).nextPrime()
        let n = (p * q).decimalString
        #expect(n.count == 90)

        let task = Task { try await PrimeFactorizationExecutor().run(input: .object(["number": .string(n)])) }
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let cancelledAt = clock.now
        task.cancel()
        let result = await task.result
        let stopping = clock.now - cancelledAt
        print("prime_factorization stopped \(stopping) after cancellation")
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(stopping < .seconds(5))
    }

    @Test func factorizationLeavesTheGlobalExecutorFree() async throws {
        // As many hard factorizations as the global executor has threads would leave it none if
        // they ran there; on threads of their own, a short sleep still wakes on time. A watchdog
        // outside Swift concurrency cancels them, so a regression fails rather than hangs.
        let n = ((GMPInteger.power(10, 44) * GMPInteger(3)).nextPrime() * (GMPInteger.power(10, 44) * GMPInteger(7)).nextPrime()).decimalString
        let jobs = (0..<ProcessInfo.processInfo.activeProcessorCount).map { _ in
            Task { try await PrimeFactorizationExecutor().run(input: .object(["number": .string(n)])) }
        }
        // Not DispatchQueue.global(): on Linux the global executor runs on its threads.
        DispatchQueue(label: "watchdog").asyncAfter(deadline: .now() + 5) { jobs.forEach { $0.cancel() } }
        let clock = ContinuousClock()
        let start = clock.now
        try await Task.sleep(for: .milliseconds(300))
        let slept = clock.now - start
        #expect(slept < .seconds(5), "a 300 ms sleep took \(slept)")
        for job in jobs { job.cancel() }
        for job in jobs { _ = await job.result }
    }

    // MARK: sha256

    @Test func sha256MatchesPublishedVectors() async throws {
        let executor = SHA256Executor()
        // FIPS 180-2, appendix B.1 ("abc") and B.3 (one million "a"); the empty string.
        let abc = try await executor.run(input: json(#"{"data": "abc"}"#))
        #expect(abc == json(#"{"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "bytes": 3}"#))
        let empty = try await executor.run(input: json(#"{"data": ""}"#))
        #expect(empty == json(#"{"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "bytes": 0}"#))
        let million = try await executor.run(input: .object(["data": .string(String(repeating: "a", count: 1_000_000))]))
        #expect(million["sha256"]?.stringValue == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // The same bytes as base64, and text hashed as UTF-8.
        #expect(try await executor.run(input: json(#"{"base64": "YWJj"}"#)) == abc)
        #expect(try await executor.run(input: json(#"{"base64": ""}"#)) == empty)
        let accented = try await executor.run(input: json(#"{"data": "é"}"#))
        #expect(accented == (try await executor.run(input: json(#"{"base64": "w6k="}"#))))
        #expect(accented["bytes"]?.integerValue == 2)
    }

    @Test func sha256AcceptsExactlyOneMebibyte() async throws {
        let limit = Data(repeating: UInt8(ascii: "a"), count: SHA256Executor.maxBytes)
        let output = try await SHA256Executor().run(input: .object(["base64": .string(limit.base64EncodedString())]))
        // Computed outside Swift: head -c 1048576 /dev/zero | tr '\0' a | sha256sum
        #expect(output == json(#"{"sha256": "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360", "bytes": 1048576}"#))
    }

    @Test func rejectsBadSHA256Input() {
        let executor = SHA256Executor()
        expectRejected(executor, "null", saying: "input must be an object")
        expectRejected(executor, "{}", saying: "input.data (text) or input.base64 (bytes) is required")
        expectRejected(executor, #"{"data": "a", "base64": "YQ=="}"#, saying: "input must have exactly one of data and base64, not both")
        expectRejected(executor, #"{"data": 5}"#, saying: "input.data must be a string")
        expectRejected(executor, #"{"base64": ["YQ=="]}"#, saying: "input.base64 must be a string")
        expectRejected(executor, #"{"base64": "abc$"}"#, saying: "input.base64 must be standard base64")
        expectRejected(executor, #"{"base64": "YQ"}"#, saying: "input.base64 must be standard base64")
        expectRejected(executor, #"{"text": "abc"}"#, saying: "input.text is not a field of a sha256 input (data, base64)")
        let tooLong = String(repeating: "a", count: SHA256Executor.maxBytes + 1)
        expectRejected(executor, .object(["data": .string(tooLong)]), saying: "input.data must be at most 1 MiB (1048576 bytes) of UTF-8")
        let tooMany = Data(repeating: 1, count: SHA256Executor.maxBytes + 1).base64EncodedString()
        expectRejected(executor, .object(["base64": .string(tooMany)]), saying: "input.base64 must decode to at most 1 MiB (1048576 bytes)")
        expectRejected(executor, .object(["base64": .string(tooMany + tooMany)]), saying: "input.base64 must decode to at most 1 MiB")
    }

    // MARK: sort

    private func numberArray(_ values: [Double]) -> JSONValue { .array(values.map(JSONValue.number)) }

    @Test func sortMatchesSwiftsSort() async throws {
        var generator = SeededGenerator(state: 1)
        let values = (0..<5000).map { _ in Double.random(in: -1e6...1e6, using: &generator).rounded() / 8 }
        let executor = SortExecutor()
        let ascending = try await executor.run(input: .object(["values": numberArray(values)]))
        #expect(numbers(ascending["values"]) == values.sorted())
        #expect(ascending["count"]?.integerValue == 5000)
        let explicit = try await executor.run(input: .object(["values": numberArray(values), "order": .string("asc")]))
        #expect(explicit == ascending)
        let descending = try await executor.run(input: .object(["values": numberArray(values), "order": .string("desc")]))
        #expect(numbers(descending["values"]) == values.sorted(by: >))

        #expect(try await executor.run(input: json(#"{"values": [3, -1, 2.5, 3, 0]}"#)) == json(#"{"values": [-1, 0, 2.5, 3, 3], "count": 5}"#))
        #expect(try await executor.run(input: json(#"{"values": [], "order": "desc"}"#)) == json(#"{"values": [], "count": 0}"#))
    }

    @Test func sortAcceptsTheMaximumCount() async throws {
        let values = (0..<SortExecutor.maxValues).reversed().map(Double.init)
        let output = try await SortExecutor().run(input: .object(["values": numberArray(values)]))
        #expect(output["count"]?.integerValue == 100_000)
        #expect(numbers(output["values"]) == values.reversed())
    }

    @Test func rejectsBadSortInput() {
        let executor = SortExecutor()
        expectRejected(executor, "[1, 2]", saying: "input must be an object")
        expectRejected(executor, "{}", saying: "input.values is required")
        expectRejected(executor, #"{"values": "1,2"}"#, saying: "input.values must be an array of numbers")
        expectRejected(executor, #"{"values": [1, "2"]}"#, saying: "input.values[1] must be a finite number")
        expectRejected(executor, .object(["values": numberArray([1, .infinity])]), saying: "input.values[1] must be a finite number")
        expectRejected(executor, .object(["values": numberArray([.nan])]), saying: "input.values[0] must be a finite number")
        expectRejected(executor, #"{"values": [1], "order": "descending"}"#, saying: #"input.order must be "asc" or "desc""#)
        expectRejected(executor, #"{"values": [1], "order": 1}"#, saying: #"input.order must be "asc" or "desc""#)
        expectRejected(executor, #"{"values": [1], "reverse": true}"#, saying: "input.reverse is not a field of a sort input (values, order)")
        let tooMany = numberArray(Array(repeating: 1, count: SortExecutor.maxValues + 1))
        expectRejected(executor, .object(["values": tooMany]), saying: "input.values must have at most 100000 numbers (it has 100001)")
    }

    // MARK: matrix_multiply

    private func randomMatrix(_ rows: Int, _ columns: Int, integers: Bool, using generator: inout SeededGenerator) -> [[Double]] {
        (0..<rows).map { _ in
            (0..<columns).map { _ in
                integers ? Double(Int.random(in: -9...9, using: &generator)) : Double.random(in: -1...1, using: &generator)
            }
        }
    }

    /// The textbook product: each entry a dot product, computed independently of the executor.
    private func naiveProduct(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        a.map { row in
            (0..<b[0].count).map { j in
                var sum = 0.0
                for k in 0..<row.count { sum += row[k] * b[k][j] }
                return sum
            }
        }
    }

    private func matrixJSON(_ m: [[Double]]) -> JSONValue { .array(m.map(numberArray)) }

    private func filled(rows: Int, columns: Int) -> JSONValue {
        matrixJSON(Array(repeating: Array(repeating: 1, count: columns), count: rows))
    }

    private func product(of output: JSONValue) -> [[Double]]? {
        output["product"]?.arrayValue?.map { numbers($0) ?? [] }
    }

    @Test(arguments: [[1, 1, 1], [2, 3, 4], [7, 1, 5], [1, 9, 1], [33, 17, 29], [64, 64, 64], [256, 256, 256]])
    func matrixProductMatchesTheTextbookProduct(shape: [Int]) async throws {
        let (n, inner, m) = (shape[0], shape[1], shape[2])
        var generator = SeededGenerator(state: UInt64(n * 1_000_000 + inner * 1000 + m))
        let executor = MatrixMultiplyExecutor()

        // Small integers: every sum is exact, so the products must agree exactly.
        let a = randomMatrix(n, inner, integers: true, using: &generator)
        let b = randomMatrix(inner, m, integers: true, using: &generator)
        let output = try await executor.run(input: .object(["a": matrixJSON(a), "b": matrixJSON(b)]))
        #expect(product(of: output) == naiveProduct(a, b))
        #expect(output["rows"]?.integerValue == n)
        #expect(output["columns"]?.integerValue == m)

        // Fractions: agreement to rounding.
        let x = randomMatrix(n, inner, integers: false, using: &generator)
        let y = randomMatrix(inner, m, integers: false, using: &generator)
        let got = try #require(product(of: try await executor.run(input: .object(["a": matrixJSON(x), "b": matrixJSON(y)]))))
        let expected = naiveProduct(x, y)
        #expect(got.count == n && got.allSatisfy { $0.count == m })
        let worst = zip(got.joined(), expected.joined()).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-12 * Double(inner))
    }

    @Test func matrixProductOfAKnownExample() async throws {
        let output = try await MatrixMultiplyExecutor().run(input: json(#"{"a": [[1, 2], [3, 4]], "b": [[5], [6]]}"#))
        #expect(output == json(#"{"product": [[17], [39]], "rows": 2, "columns": 1}"#))
    }

    @Test func rejectsBadMatrixInput() {
        let executor = MatrixMultiplyExecutor()
        expectRejected(executor, #""a""#, saying: "input must be an object")
        expectRejected(executor, #"{"b": [[1, 2]]}"#, saying: "input.a is required")
        expectRejected(executor, #"{"a": [[1], [2]]}"#, saying: "input.b is required")
        expectRejected(executor, #"{"a": [[1]], "b": [[1]], "c": [[1]]}"#, saying: "input.c is not a field of a matrix_multiply input (a, b)")
        expectRejected(executor, #"{"a": 5, "b": [[1]]}"#, saying: "input.a must be an array of rows")
        expectRejected(executor, #"{"a": [], "b": [[1]]}"#, saying: "input.a must have 1 to 256 rows (it has 0)")
        expectRejected(executor, .object(["a": filled(rows: 257, columns: 1), "b": filled(rows: 1, columns: 1)]),
                       saying: "input.a must have 1 to 256 rows (it has 257)")
        expectRejected(executor, #"{"a": [[]], "b": [[1]]}"#, saying: "input.a must have 1 to 256 columns (row 0 has 0)")
        expectRejected(executor, .object(["a": filled(rows: 1, columns: 1), "b": filled(rows: 1, columns: 257)]),
                       saying: "input.b must have 1 to 256 columns (row 0 has 257)")
        expectRejected(executor, #"{"a": [[1, 2], 3], "b": [[1], [2]]}"#, saying: "input.a[1] must be an array of numbers")
        expectRejected(executor, #"{"a": [[1, 2], [3]], "b": [[1], [2]]}"#, saying: "input.a must be rectangular: row 1 has 1 entries, row 0 has 2")
        expectRejected(executor, #"{"a": [[1, "2"]], "b": [[1], [2]]}"#, saying: "input.a[0][1] must be a finite number")
        expectRejected(executor, .object(["a": filled(rows: 1, columns: 1), "b": matrixJSON([[.nan]])]), saying: "input.b[0][0] must be a finite number")
        expectRejected(executor, #"{"a": [[1, 2]], "b": [[1, 2]]}"#, saying: "input.a has 2 columns but input.b has 1 rows: a x b needs them equal")
        // The largest allowed shape is accepted.
        #expect(throws: Never.self) {
            try executor.validate(input: .object(["a": filled(rows: 256, columns: 256), "b": filled(rows: 256, columns: 256)]))
        }
    }

    @Test func matrixProductThatOverflowsFailsWithAMessage() async {
        await #expect(throws: JobInputError("the product overflows: entry [0][0] is beyond the range of a double")) {
            try await MatrixMultiplyExecutor().run(input: json(#"{"a": [[1e308, 1e308]], "b": [[10], [10]]}"#))
        }
    }

    @Test func matrixProductStopsWhenCancelled() async {
        let big = filled(rows: 256, columns: 256)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await MatrixMultiplyExecutor().run(input: .object(["a": big, "b": big]))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    // MARK: The list

    @Test func allListsEachAlgorithmOnce() {
        let names = ComputeAlgorithms.all().map(\.algorithm)
        #expect(names.sorted() == ["matrix_multiply", "prime_factorization", "sha256", "sort"])
        let registry = ExecutorRegistry(ComputeAlgorithms.all())
        #expect(registry.algorithms == ["matrix_multiply", "prime_factorization", "sha256", "sort"])
    }
}
