import Foundation
import Jobs
import NIOSSL

/// Where the API reaches a key service of its own process: `unix:/path/to/socket`, or
/// `https://host:port` (mutual TLS; the host is a DNS name that the key service's
/// certificate names, as RFC 6125 checks it).
public enum KeyServiceEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tls(host: String, port: Int)

    public init(parsing text: String) throws(KeyServiceError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            // sockaddr_un's sun_path holds 108 bytes with its terminating zero (unix(7)).
            guard path.hasPrefix("/"), path.utf8.count < 108 else {
                throw .invalidEndpoint("\(text): a Unix socket is unix:/absolute/path, shorter than 108 bytes")
            }
            self = .unix(path: path)
            return
        }
        guard let url = URLComponents(string: text), url.scheme == "https", let host = url.host, !host.isEmpty,
              let port = url.port, (1...65535).contains(port), url.path.isEmpty || url.path == "/",
              url.query == nil, url.user == nil else {
            throw .invalidEndpoint("\(text): give unix:/path or https://host:port")
        }
        // An IP address cannot be sent as the TLS server name (RFC 6066 section 3), so the
        // key service's certificate is checked against a DNS name.
        guard host.contains(where: { $0.isLetter }), !host.contains(":") else {
            throw .invalidEndpoint("\(text): name the key service by the DNS name its certificate holds, not an IP address")
        }
        self = .tls(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tls(let host, let port): "https://\(host):\(port)"
        }
    }
}

/// One side's certificate, its private key and the CA that signs the other side's
/// certificates (PEM files). The private key is read through `SecretFile` (mode 0600, never
/// group-readable); the certificates are public and read as they are, bounded in size.
public struct KeyServiceTLSFiles: Sendable, Equatable {
    public var certificate: String
    public var privateKey: String
    public var trustedCA: String

    public init(certificate: String, privateKey: String, trustedCA: String) {
        self.certificate = certificate; self.privateKey = privateKey; self.trustedCA = trustedCA
    }

    /// A PEM bundle larger than this is not a certificate chain.
    static let certificateFileLimit = 1 << 20

    /// The key service's side: its certificate, and a client certificate required and checked
    /// against `trustedCA` (no host name: the client is known by the CA that signed it).
    public func serverContext() throws(KeyServiceError) -> NIOSSLContext {
        let (chain, key, roots) = try load()
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates(roots)
        return try Self.context(configuration)
    }

    /// The API's side: its client certificate, and the key service's certificate checked
    /// against `trustedCA` and the endpoint's host name.
    public func clientContext() throws(KeyServiceError) -> NIOSSLContext {
        let (chain, key, roots) = try load()
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = .certificates(roots)
        configuration.certificateChain = chain.map { .certificate($0) }
        configuration.privateKey = .privateKey(key)
        return try Self.context(configuration)
    }

    private static func context(_ configuration: TLSConfiguration) throws(KeyServiceError) -> NIOSSLContext {
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw .invalidTLSFiles("the certificate and key do not make a TLS context: \(error)")
        }
    }

    private func load() throws(KeyServiceError) -> ([NIOSSLCertificate], NIOSSLPrivateKey, [NIOSSLCertificate]) {
        let chain = try Self.certificates(certificate), roots = try Self.certificates(trustedCA)
        let read: Data?
        do { read = try SecretFile.read(privateKey) } catch { throw .invalidTLSFiles("the private key: \(error)") }
        guard var bytes = read else { throw .invalidTLSFiles("there is no private key file \(privateKey)") }
        defer { bytes.zeroize() }
        do {
            return (chain, try NIOSSLPrivateKey(bytes: Array(bytes), format: .pem), roots)
        } catch {
            throw .invalidTLSFiles("\(privateKey) is not a PEM private key")
        }
    }

    private static func certificates(_ path: String) throws(KeyServiceError) -> [NIOSSLCertificate] {
        // Read through a bound, so that a wrong path (a device, a huge file) costs nothing.
        guard let file = FileHandle(forReadingAtPath: path) else { throw .invalidTLSFiles("cannot read the certificate file \(path)") }
        defer { try? file.close() }
        guard let data = try? file.read(upToCount: certificateFileLimit + 1) else {
            throw .invalidTLSFiles("cannot read the certificate file \(path)")
        }
        guard data.count <= certificateFileLimit else { throw .invalidTLSFiles("\(path) is larger than a certificate chain") }
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(data)), !certificates.isEmpty else {
            throw .invalidTLSFiles("\(path) holds no PEM certificate")
        }
        return certificates
    }
}
