import Crypto
import FHEJobs
import Foundation
import Jobs

/// The key service's side of result retrieval for each finished job of `fhe-jobs fhe bench`:
/// `retrievals` requests per suite (sealed to the job's P-256 key, and to a fresh X-Wing key
/// per request as `fhe client result --post-quantum` does), each step's median time, and
/// every answer opened as the client would, so a broken seal fails the benchmark.
extension ConfidentialBench {
    func retrievals(of jobs: [(label: String, job: Job)], count: Int) async throws {
        guard !jobs.isEmpty, count > 0 else { return }
        print("")
        print("Result retrieval, the key service's steps (median of \(count); the HTTP layer and the job lookup not included):")
        print("")
        print("| job | suite | signature check | nonce | result read | decryption | seal | answer signature | total | sealed bytes |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (label, job) in jobs {
            for postQuantum in [false, true] {
                var runs: [RetrievalTimings] = []
                var sealedBytes = 0
                for _ in 0..<count {
                    let (timings, bytes) = try await retrieveOnce(job, postQuantum: postQuantum)
                    runs.append(timings)
                    sealedBytes = bytes
                }
                func median(_ step: (RetrievalTimings) -> Duration) -> String {
                    let sorted = runs.map { step($0).seconds }.sorted()
                    return String(format: "%.3f ms", sorted[sorted.count / 2] * 1e3)
                }
                print("| \(label) | \(postQuantum ? "X-Wing, HKDF-SHA256, AES-256-GCM" : "P-256, HKDF-SHA256, AES-256-GCM") | "
                      + "\(median(\.signatureCheck)) | \(median(\.nonce)) | \(median(\.resultRead)) | \(median(\.decryption)) | "
                      + "\(median(\.seal)) | \(median(\.answerSignature)) | \(median(\.total)) | \(sealedBytes) |")
            }
        }
    }

    /// One retrieval with a fresh nonce, its answer opened; the step times and the seal's size.
    private func retrieveOnce(_ job: Job, postQuantum: Bool) async throws -> (RetrievalTimings, Int) {
        guard let resultHash = job.resultHash else { throw StartupError("the benchmark job has no result hash") }
        let xWing = postQuantum ? try XWingMLKEM768X25519.PrivateKey() : nil
        let sealingKey = try xWing.map { try SealingKey($0.publicKey.rawRepresentation) }
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let message = RetrievalMessages.request(jobID: job.id, nonce: nonce, resultHash: resultHash, sealingKey: sealingKey)
        let request = ResultRetrievalRequest(nonce: nonce, signature: try owner.signature(for: message).rawRepresentation.hexString,
                                             sealingKey: sealingKey)
        let (answer, timings) = try await api.retrieveTimed(job, request: request, now: Date())
        guard case .sealed(let suite, let enc, let ciphertext) = answer.payload else {
            throw StartupError("a network-key job's answer was not sealed")
        }
        let info = RetrievalMessages.info(jobID: job.id)
        let opened: Data
        if let xWing {
            var recipient = try HPKE.Recipient(privateKey: xWing, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256,
                                               info: info, encapsulatedKey: enc)
            opened = try recipient.open(ciphertext, authenticating: message)
        } else {
            let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: owner.rawRepresentation)
            var recipient = try HPKE.Recipient(privateKey: key, ciphersuite: .P256_SHA256_AES_GCM_256, info: info, encapsulatedKey: enc)
            opened = try recipient.open(ciphertext, authenticating: message)
        }
        guard suite == (postQuantum ? .xWing : .p256), (try? JSONSerialization.jsonObject(with: opened)) is [String: Any] else {
            throw StartupError("a retrieval's seal did not open to the outputs' JSON")
        }
        return (timings, enc.count + ciphertext.count)
    }
}
