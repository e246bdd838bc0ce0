import Crypto
import Foundation
import Jobs

/// AWS credentials: an access key and its secret, and the session token of temporary ones.
/// `description` never shows the secret or the token, so a logged value leaks nothing.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID; self.secretAccessKey = secretAccessKey; self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret redacted\(sessionToken == nil ? "" : ", session token redacted"))" }
}

/// One request to sign: the path and query as decoded text (the signer encodes them, and
/// `SigV4Signer.encodePath` / `encodeQuery` give the same bytes for the request line), the
/// headers to sign (with `Host`), and the payload's SHA-256 in hex or `UNSIGNED-PAYLOAD`.
public struct SigV4Request: Sendable {
    public var method: String
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    public var payloadHash: String

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)], payloadHash: String) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.payloadHash = payloadHash
    }

    /// The payload hash of a request without a body (the SHA-256 of no bytes).
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash S3 accepts in place of the body's, over TLS (S3 API reference,
    /// "Authenticating Requests: Using the Authorization Header", x-amz-content-sha256).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
}

/// What signing produced: each intermediate value of AWS Signature Version 4 (kept for tests
/// and for the message of a `SignatureDoesNotMatch`, which S3 answers with its own canonical
/// request), and the headers to send.
public struct SigV4Signature: Sendable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    public var authorization: String
    /// The request's headers plus `X-Amz-Date` (and `X-Amz-Security-Token`) if they were missing,
    /// and `Authorization`.
    public var headers: [(name: String, value: String)]
}

/// AWS Signature Version 4 (AWS General Reference, "Signature Version 4 signing process";
/// IAM User Guide, "Create a signed AWS API request"), with S3's rules: the path is encoded
/// once and never normalised (S3 API reference, "Signature Calculations for the Authorization
/// Header"). Checked against AWS's published test suite (Tests/Vectors/aws-sig-v4) and against
/// botocore's SigV4Auth (scripts/s3_peer.py).
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials; self.region = region; self.service = service
    }

    public func sign(_ request: SigV4Request, at date: Date) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        var headers = request.headers
        if !headers.contains(where: { $0.name.lowercased() == "x-amz-date" }) { headers.append(("X-Amz-Date", amzDate)) }
        if let token = credentials.sessionToken, !headers.contains(where: { $0.name.lowercased() == "x-amz-security-token" }) {
            headers.append(("X-Amz-Security-Token", token))
        }
        // Canonical headers: lowercase names in order, values trimmed with inner runs of spaces
        // made one, repeated names joined by commas in the order given.
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [request.method, Self.encodePath(request.path), Self.encodeQuery(request.query),
                                canonicalHeaders, signedHeaders, request.payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SHA256.hash(data: Data(canonicalRequest.utf8)).hexString]
            .joined(separator: "\n")
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day))).hexString
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
                              authorization: authorization, headers: headers + [("Authorization", authorization)])
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `X-Amz-Date` (ISO 8601 basic, UTC) and the scope's day.
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { let n = n ?? 0; return n < 10 ? "0\(n)" : "\(n)" }
        let day = "\(c.year ?? 1970)\(two(c.month))\(two(c.day))"
        return (day + "T" + two(c.hour) + two(c.minute) + two(c.second) + "Z", day)
    }

    /// The path as sent and as signed: every byte but the unreserved ones (RFC 3986 section
    /// 2.3: A-Z a-z 0-9 - . _ ~) and `/` as %XX with uppercase hex; an empty path is `/`.
    public static func encodePath(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, keepSlash: true)
    }

    /// The query as sent and as signed: names and values encoded as the path but with `/`
    /// encoded too, sorted by name then value, `name=value` joined by `&`.
    public static func encodeQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (uriEncode($0.name, keepSlash: false), uriEncode($0.value, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
