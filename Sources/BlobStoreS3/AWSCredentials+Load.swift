import Foundation
import Jobs

extension AWSCredentials {
    /// The credentials from `file` if given (read through `SecretFile`, so a file others may
    /// read is refused), else from the standard environment variables AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. The file holds the same names as
    /// `NAME=value` lines (blank lines and `#` comments allowed), as an env file or a mounted
    /// Kubernetes Secret gives them. Errors name the file and the variable, never a value.
    public static func load(file: String?, environment: [String: String]) throws(BlobStoreError) -> AWSCredentials {
        var values = environment
        var source = "the environment"
        if let file {
            let data: Data?
            do { data = try SecretFile.read(file) } catch { throw .invalidConfiguration("\(error)") }
            guard let data else { throw .invalidConfiguration("\(file): no such file") }
            values = [:]
            source = file
            for (number, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                guard !line.isEmpty, !line.hasPrefix("#") else { continue }
                guard let equals = line.firstIndex(of: "=") else {
                    throw .invalidConfiguration("\(file), line \(number + 1): not NAME=value")
                }
                let name = line[..<equals].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                values[name.hasPrefix("export ") ? String(name.dropFirst(7)).trimmingCharacters(in: .whitespaces) : name] = value
            }
        }
        guard let id = values["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
            throw .invalidConfiguration("AWS_ACCESS_KEY_ID is missing from \(source)")
        }
        guard let secret = values["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw .invalidConfiguration("AWS_SECRET_ACCESS_KEY is missing from \(source)")
        }
        // The key id goes into the Authorization header as is; the secret only into HMAC keys.
        guard id.utf8.count <= 128, id.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x2F && $0 != 0x2C }) else {
            throw .invalidConfiguration("AWS_ACCESS_KEY_ID in \(source) is not an access key id")
        }
        let token = values["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let token, !token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw .invalidConfiguration("AWS_SESSION_TOKEN in \(source) holds characters a header cannot carry")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }
}
