import AsyncHTTPClient
import Crypto
import Foundation
import Jobs
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Where the store's objects live: an S3 (or S3-compatible) endpoint, a bucket, and a key prefix
/// inside it. Requests use path-style addresses (`ENDPOINT/BUCKET/KEY`), which every
/// S3-compatible server accepts (MinIO, Ceph RGW, moto) and AWS S3 keeps serving.
public struct S3Location: Sendable, Equatable {
    /// `http(s)://host[:port]`, no path.
    public var endpoint: URL
    public var region: String
    public var bucket: String
    /// Empty, or ends with `/`.
    public var prefix: String

    /// `blobStore` is `s3://BUCKET` or `s3://BUCKET/PREFIX`; `endpoint` defaults to AWS's
    /// regional endpoint `https://s3.REGION.amazonaws.com`.
    public init(blobStore: String, endpoint: String?, region: String) throws(BlobStoreError) {
        guard blobStore.hasPrefix("s3://") else { throw .invalidConfiguration("an S3 blob store is s3://BUCKET[/PREFIX], not \(blobStore)") }
        let rest = blobStore.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        // S3 bucket naming rules (S3 User Guide, "General purpose bucket naming rules"): 3 to 63
        // of a-z 0-9 . -, starting and ending with a letter or digit.
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count),
              bytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D }),
              bytes.first != 0x2E, bytes.first != 0x2D, bytes.last != 0x2E, bytes.last != 0x2D else {
            throw .invalidConfiguration("\(blobStore): the bucket name must be 3 to 63 of a-z 0-9 . - starting and ending with a letter or digit")
        }
        var prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        guard prefix.utf8.count <= 512, !prefix.contains("//"), !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidConfiguration("\(blobStore): the prefix must be at most 512 bytes of printable characters without empty segments")
        }
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        guard region.utf8.count <= 64, !region.isEmpty,
              region.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }) else {
            throw .invalidConfiguration("the S3 region must be a name like us-east-1, not \(region.prefix(80))")
        }
        let endpointText = endpoint ?? "https://s3.\(region).amazonaws.com"
        guard let url = URL(string: endpointText), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = url.host, !host.isEmpty, url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil else {
            throw .invalidConfiguration("the S3 endpoint must be http(s)://HOST[:PORT] without a path, not \(endpointText)")
        }
        var trimmed = endpointText
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let endpointURL = URL(string: trimmed) else {
            throw .invalidConfiguration("the S3 endpoint must be http(s)://HOST[:PORT] without a path, not \(endpointText)")
        }
        self.endpoint = endpointURL
        self.region = region; self.bucket = bucket; self.prefix = prefix
    }

    /// The `Host` header: the port only when it is not the scheme's default (RFC 9110
    /// section 7.2), as the HTTP client sends it.
    var hostHeader: String {
        let host = endpoint.host ?? ""
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port = endpoint.port, !(endpoint.scheme == "https" && port == 443), !(endpoint.scheme == "http" && port == 80) else { return bracketed }
        return "\(bracketed):\(port)"
    }
}

/// One answer of S3 whose status the caller takes (the others became errors).
struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
}

/// Signed requests to one bucket, with retries and a circuit breaker.
///
/// - Every request is signed (SigV4Signer) with the SHA-256 of its body as
///   `x-amz-content-sha256`: bodies are at most one part, already in memory, so S3 checks the
///   bytes it stores against the signature and no streaming (aws-chunked) signature is needed.
/// - A timeout, a connection failure, a 5xx or a 429 is retried (`attempts` in all, backoff
///   doubling from 200 ms) and counts against the breaker; other errors are S3's answer
///   (`NoSuchKey`, `PreconditionFailed`, `AccessDenied`) and prove the endpoint is up. Every
///   request the store sends is idempotent, or (conditional writes) safe to repeat: a repeat of
///   a write that had succeeded is answered 412, which the callers read as "already there".
/// - S3 errors become typed `BlobStoreError`s: `unavailable` (retryable), `denied` (the
///   credentials, the clock, or the bucket's policy: fix the configuration), `io` (the rest),
///   each naming the request and S3's code and message. Secrets never reach a message.
final class S3Client: Sendable {
    let location: S3Location
    let signer: SigV4Signer
    let http: HTTPClient
    let breaker: CircuitBreaker
    let timeout: TimeAmount
    let attempts: Int

    init(location: S3Location, credentials: AWSCredentials, http: HTTPClient, breaker: CircuitBreaker,
         timeout: TimeAmount, attempts: Int) {
        self.location = location
        signer = SigV4Signer(credentials: credentials, region: location.region, service: "s3")
        self.http = http; self.breaker = breaker; self.timeout = timeout; self.attempts = attempts
    }

    /// Sends one request to `key` (nil: the bucket) and returns the answer if its status is in
    /// `accept`; any other status is an error. Reads at most `maxBody` bytes of the answer.
    func send(_ method: HTTPMethod, key: String?, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
              body: Data? = nil, payloadHash: String? = nil, accept: Set<Int> = [200], maxBody: Int = 16 << 20) async throws(BlobStoreError) -> S3Response {
        let what = "S3 \(method.rawValue) \(key.map { "/\(location.bucket)/\($0)" } ?? "/\(location.bucket)")"
        return try await withRetries(what) { () async throws(BlobStoreError) -> S3Response in
            let response = try await self.execute(method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash, what: what)
            let data: Data
            do {
                data = Data(buffer: try await response.body.collect(upTo: maxBody))
            } catch let error as NIOTooManyBytesError {
                throw .io("\(what): the answer is longer than \(maxBody) bytes (\(error))")
            } catch {
                throw Self.transportError(error, what)
            }
            if accept.contains(Int(response.status.code)) { return S3Response(status: Int(response.status.code), headers: response.headers, body: data) }
            throw Self.error(status: Int(response.status.code), body: data, what)
        }
    }

    /// Sends a GET and returns the answer with its body not yet read (a blob's content,
    /// consumed as it arrives: the HTTP client reads from the socket only as the body is asked
    /// for). Errors as `send`.
    func stream(key: String, headers: [(name: String, value: String)], accept: Set<Int>) async throws(BlobStoreError) -> HTTPClientResponse {
        let what = "S3 GET /\(location.bucket)/\(key)"
        return try await withRetries(what) { () async throws(BlobStoreError) -> HTTPClientResponse in
            let response = try await self.execute(.GET, key: key, query: [], headers: headers, body: nil, payloadHash: nil, what: what)
            if accept.contains(Int(response.status.code)) { return response }
            let data = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
            throw Self.error(status: Int(response.status.code), body: data, what)
        }
    }

    /// One attempt, through the breaker.
    private func execute(_ method: HTTPMethod, key: String?, query: [(name: String, value: String)], headers: [(name: String, value: String)],
                         body: Data?, payloadHash: String?, what: String) async throws(BlobStoreError) -> HTTPClientResponse {
        let path = "/" + location.bucket + (key.map { "/" + location.prefix + $0 } ?? "")
        var signed = SigV4Request(method: method.rawValue, path: path, query: query, headers: headers,
                                  payloadHash: payloadHash ?? body.map { SHA256Hex.of($0) } ?? SigV4Request.emptyPayloadHash)
        signed.headers.append(("Host", location.hostHeader))
        signed.headers.append(("x-amz-content-sha256", signed.payloadHash))
        let signature = signer.sign(signed, at: Date())
        let queryText = SigV4Signer.encodeQuery(query)
        var request = HTTPClientRequest(url: location.endpoint.absoluteString + SigV4Signer.encodePath(path) + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = method
        for (name, value) in signature.headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
        } else if method == .PUT || method == .POST {
            request.headers.add(name: "Content-Length", value: "0")
        }
        let http = http, timeout = timeout, prepared = request
        do {
            return try await breaker.run(isFailure: Self.isEndpointFailure) {
                let response = try await http.execute(prepared, timeout: timeout)
                // A 5xx or 429 is the endpoint failing: counted, and retried by the caller.
                if response.status.code >= 500 || response.status.code == 429 {
                    let data = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
                    throw Self.error(status: Int(response.status.code), body: data, what)
                }
                return response
            }
        } catch let error as BlobStoreError {
            throw error
        } catch let error as CircuitOpenError {
            throw .unavailable("\(what): \(error)")
        } catch {
            throw Self.transportError(error, what)
        }
    }

    static func isEndpointFailure(_ error: any Error) -> Bool {
        if case .unavailable = error as? BlobStoreError { return true }
        return !(error is BlobStoreError)
    }

    static func transportError(_ error: any Error, _ what: String) -> BlobStoreError {
        if error is CancellationError { return .sourceFailed("\(what): cancelled") }
        return .unavailable("\(what): \(error)")
    }

    /// Retries what is retryable (`unavailable`, but not an open breaker's refusal).
    private func withRetries<T>(_ what: String, _ body: () async throws(BlobStoreError) -> T) async throws(BlobStoreError) -> T {
        var delay = Duration.milliseconds(200)
        for attempt in 1... {
            do {
                return try await body()
            } catch {
                // An open breaker's refusal is not retried: it says when to come back.
                guard case .unavailable = error, attempt < attempts, breaker.state == .closed else { throw error }
                do { try await Task.sleep(for: delay) } catch { throw .sourceFailed("\(what): cancelled") }
                delay *= 2
            }
        }
        fatalError("unreachable")
    }

    /// S3's error document (S3 API reference, "Error responses": `<Error><Code>…</Code>
    /// <Message>…</Message></Error>`) as a typed error.
    static func error(status: Int, body: Data, _ what: String) -> BlobStoreError {
        let document = S3XML.parse(body)
        let code = document?.child("Code")?.text ?? "HTTP \(status)"
        let message = document?.child("Message")?.text.prefix(300).description ?? ""
        let text = "\(what): \(status) \(code)\(message.isEmpty ? "" : ": \(message)")"
        switch (status, code) {
        case (500..., _), (429, _), (_, "SlowDown"), (_, "RequestTimeout"), (_, "InternalError"), (_, "ServiceUnavailable"):
            return .unavailable(text)
        case (403, _), (_, "AccessDenied"), (_, "InvalidAccessKeyId"), (_, "SignatureDoesNotMatch"), (_, "RequestTimeTooSkewed"),
             (_, "NoSuchBucket"), (_, "ExpiredToken"), (_, "InvalidToken"), (301, _), (_, "PermanentRedirect"), (_, "AuthorizationHeaderMalformed"):
            return .denied(text)
        default:
            return .io(text)
        }
    }
}

enum SHA256Hex {
    static func of(_ data: Data) -> String { SHA256.hash(data: data).hexString }
}
