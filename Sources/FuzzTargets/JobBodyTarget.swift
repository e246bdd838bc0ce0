import ComputeJobs
import Foundation
import Jobs

extension FuzzTarget {
    /// A job submission's JSON body as the service reads it: the document into `JSONValue`
    /// (whose canonical bytes fingerprint idempotent submissions and hash results), the
    /// payload's fields, and every `compute` executor's check of `payload.input`, which runs
    /// at submission before anything is stored. The canonical form must be a fixed point:
    /// decoding it and writing it again gives the same bytes.
    static let jobBody = FuzzTarget(name: "job-body", maximumInputLength: 4096, run: { data in
        guard let document = try? JSONValue.decode(data) else { return }
        let canonical = document.canonicalData()
        guard let reread = try? JSONValue.decode(canonical) else {
            throw InvariantViolation("job body: the canonical form of a document does not decode")
        }
        guard reread.canonicalData() == canonical else {
            throw InvariantViolation("job body: the canonical form is not a fixed point")
        }
        let payload = document["payload"] ?? document
        _ = try? InputFields(payload, path: "payload", kind: "a compute payload", known: ["algorithm", "input", "parameters"])
        if let parameters = payload["parameters"] {
            _ = try? InputFields(parameters, path: "payload.parameters", kind: "the job parameters", known: ["timeout"])
        }
        let input = payload["input"] ?? payload
        for executor in executors { _ = try? executor.validate(input: input) }
        _ = JobSubmission(type: .compute, payload: payload).fingerprint
    }, seeds: {
        [
            #"{"type": "compute", "payload": {"algorithm": "sort", "input": {"values": [3, 1.5, -2, 1e3], "order": "desc"}}, "priority": "high"}"#,
            #"{"type": "compute", "payload": {"algorithm": "sha256", "input": {"base64": "aGVsbG8="}, "parameters": {"timeout": 30}}}"#,
            #"{"type": "compute", "payload": {"algorithm": "prime_factorization", "input": {"number": "600851475143"}}}"#,
            #"{"type": "compute", "payload": {"algorithm": "prime_factorization", "input": {"number": 8051}}}"#,
            #"{"type": "compute", "payload": {"algorithm": "sha256", "input": {"data": "text"}}}"#,
            #"{"type": "compute", "payload": {"algorithm": "matrix_multiply", "input": {"a": [[1, 2], [3, 4]], "b": [[5], [6]]}}}"#,
            #"{"type": "fhe_compute", "useFHE": true, "payload": {"algorithm": "program", "encrypted_data_id": "0f0e", "parameters": {"x": null}}, "callbackUrl": "https://example.com/hook"}"#,
            #"[1, "two", {"three": [false, null, 4.5e-7]}, "\u00e9\ud83d\ude00"]"#,
        ].map { Data($0.utf8) }
    })

    private static let executors = ComputeAlgorithms.all()
}
