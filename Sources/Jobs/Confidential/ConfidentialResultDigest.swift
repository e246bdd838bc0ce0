import Crypto
import Foundation

/// The hash an FHE job's confirmation commits to (on chain or in the ledger): the result
/// blob and everything that produced it, so that anyone holding the inputs can check what
/// was computed. It is the SHA-256 of the UTF-8 lines, each ended by "\n":
///
///     fhe-jobs fhe-result-digest v1
///     algorithm: <payload.algorithm>
///     parameters: <hex SHA-256 of the canonical JSON of payload.parameters, {} when absent>
///     key-set: <key set id, hex>
///     server-key: <server key id, hex, or none>
///     inputs: <hex SHA-256 of the input file>
///     result: <hex SHA-256 of the result file>
///
/// Canonical JSON: keys sorted, no insignificant whitespace (`JSONValue.canonicalData`).
/// The first line names the message, so this digest can never be taken for another signed
/// or hashed message of the service.
public enum ConfidentialResultDigest {
    public static func message(algorithm: String, parameters: JSONValue, keySetID: String, serverKeyID: String?,
                               inputBlob: String, resultBlob: String) -> String {
        let parametersHash = SHA256.hash(data: parameters.canonicalData()).hexString
        return """
            fhe-jobs fhe-result-digest v1
            algorithm: \(algorithm)
            parameters: \(parametersHash)
            key-set: \(keySetID)
            server-key: \(serverKeyID ?? "none")
            inputs: \(inputBlob)
            result: \(resultBlob)

            """
    }

    public static func digest(algorithm: String, parameters: JSONValue, keySetID: String, serverKeyID: String?,
                              inputBlob: String, resultBlob: String) -> String {
        let text = message(algorithm: algorithm, parameters: parameters, keySetID: keySetID, serverKeyID: serverKeyID,
                           inputBlob: inputBlob, resultBlob: resultBlob)
        return SHA256.hash(data: Data(text.utf8)).hexString
    }
}
