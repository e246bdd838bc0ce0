import Foundation
import SafeFetch
import Synchronization

/// Collects what the fetcher consumes.
final class ByteSink: Sendable {
    private let collected = Mutex(Data())

    var data: Data { collected.withLock { $0 } }

    func append(_ chunk: Data) {
        collected.withLock { $0.append(chunk) }
    }
}

/// Answers each name with a scripted list of answers, one per call (the last one repeats),
/// and counts the calls.
final class ScriptedResolver: HostResolver {
    private let answers: [String: [[IPAddress]]]
    private let calls = Mutex<[String]>([])

    init(_ answers: [String: [[IPAddress]]]) {
        self.answers = answers
    }

    var resolved: [String] { calls.withLock { $0 } }

    func resolve(host: String, port: Int) async throws -> [IPAddress] {
        let index = calls.withLock { calls in
            calls.append(host)
            return calls.filter { $0 == host }.count - 1
        }
        guard let script = answers[host], !script.isEmpty else { throw NoSuchHost() }
        return script[min(index, script.count - 1)]
    }

    struct NoSuchHost: Error {}
}

/// FIPS 180-2 appendix B test vectors, so the digest is checked against a value not computed
/// by the code under test.
enum SHA256Vector {
    static let abc = (bytes: Array("abc".utf8), hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    static let millionA = (bytes: [UInt8](repeating: 0x61, count: 1_000_000), hex: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

/// Bytes that are not all alike, so a misplaced chunk changes the digest.
func patternBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
}

extension IPAddress {
    static let localhost = IPAddress(v4: 127, 0, 0, 1)
}
