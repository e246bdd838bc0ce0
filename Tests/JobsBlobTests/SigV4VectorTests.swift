import BlobStoreS3
import Crypto
import Foundation
import Jobs
import Testing

/// AWS Signature Version 4 against AWS's published test suite ("aws-sig-v4-test-suite", as
/// botocore ships it in tests/unit/auth/aws4_testsuite; the cases kept and why are in
/// Tests/Vectors/aws-sig-v4/README.md), and against botocore's own signer.
@Suite("SigV4")
struct SigV4VectorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/aws-sig-v4")
    static let cases: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { !$0.contains(".") && $0 != "LICENSE" && $0 != "NOTICE" }.sorted()
    /// The suite's credentials and time (botocore's tests/unit/auth/test_sigv4.py).
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    struct Vector {
        var request: SigV4Request
        var canonicalRequest: String, stringToSign: String, authorization: String
        var sessionToken: String?
    }

    static func load(_ name: String) throws -> Vector {
        func read(_ ext: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent("\(name)/\(name).\(ext)"), encoding: .utf8).replacingOccurrences(of: "\r", with: "")
        }
        let raw = try read("req")
        let (head, body) = raw.range(of: "\n\n").map { (String(raw[..<$0.lowerBound]), String(raw[$0.upperBound...])) } ?? (raw, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // "METHOD TARGET HTTP/1.1"; get-space's target holds a raw space, so split at both ends.
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let (rawPath, rawQuery) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        let query: [(name: String, value: String)] = rawQuery.isEmpty ? [] : rawQuery.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]).removingPercentEncoding ?? String(parts[0]),
                    parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : "")
        }
        let headers: [(name: String, value: String)] = lines.filter { !$0.isEmpty }.map { line in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        let creq = try read("creq")
        let token = creq.split(separator: "\n").first { $0.hasPrefix("x-amz-security-token:") }.map { String($0.dropFirst("x-amz-security-token:".count)) }
        let request = SigV4Request(method: method, path: rawPath.removingPercentEncoding ?? rawPath, query: query, headers: headers,
                                   payloadHash: SHA256.hash(data: Data(body.utf8)).hexString)
        return Vector(request: request, canonicalRequest: creq, stringToSign: try read("sts"), authorization: try read("authz"), sessionToken: token)
    }

    @Test("the vectors are there")
    func vectorsPresent() {
        #expect(Self.cases.count >= 20, "Tests/Vectors/aws-sig-v4 holds \(Self.cases)")
    }

    @Test("canonical request, string to sign and signature of AWS's test suite", arguments: SigV4VectorTests.cases)
    func vector(_ name: String) throws {
        let vector = try Self.load(name)
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                             sessionToken: vector.sessionToken),
                                 region: "us-east-1", service: "service")
        let signed = signer.sign(vector.request, at: Self.date)
        #expect(signed.canonicalRequest == vector.canonicalRequest)
        #expect(signed.stringToSign == vector.stringToSign)
        #expect(signed.authorization == vector.authorization)
        #expect(signed.headers.last?.name == "Authorization")
    }

    @Test("a changed byte anywhere changes the signature")
    func sensitivity() throws {
        let vector = try Self.load("get-vanilla")
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let base = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").sign(vector.request, at: Self.date).signature
        var otherPath = vector.request; otherPath.path = "/x"
        var otherPayload = vector.request; otherPayload.payloadHash = SigV4Request.unsignedPayload
        let variants = [
            SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").sign(otherPath, at: Self.date).signature,
            SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").sign(otherPayload, at: Self.date).signature,
            SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").sign(vector.request, at: Self.date + 1).signature,
            SigV4Signer(credentials: credentials, region: "eu-west-1", service: "service").sign(vector.request, at: Self.date).signature,
            SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"),
                        region: "us-east-1", service: "service").sign(vector.request, at: Self.date).signature,
        ]
        #expect(Set(variants + [base]).count == variants.count + 1)
    }

    @Test("credentials never show their secret")
    func redacted() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "token-123")
        for text in [credentials.description, "\(credentials)", String(reflecting: credentials)] {
            #expect(!text.contains("wJalr") && !text.contains("token-123"), "\(text)")
        }
    }

    /// The same S3 requests signed by botocore's S3SigV4Auth (scripts/s3_peer.py sign, in the
    /// venv scripts/test makes): every Authorization header must be the same, byte for byte.
    @Test("S3 requests signed as botocore signs them", .enabled(if: S3TestServer.python != nil, S3TestServer.missingMessage))
    func botocoreAgrees() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let session = AWSCredentials(accessKeyID: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
                                     sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=")
        let hold = "holds/" + String(repeating: "ab", count: 32) + "/" + String(repeating: "cd", count: 32) + "/job:e621e1f8-c36c-495a-93fc-0c247a3e6e5f"
        let cases: [(AWSCredentials, String, SigV4Request)] = [
            (credentials, "us-east-1", SigV4Request(method: "GET", path: "/bucket/prefix/blobs/x", headers: [("Host", "127.0.0.1:9000"), ("Range", "bytes=0-1048575")],
                                                    payloadHash: SigV4Request.emptyPayloadHash)),
            (credentials, "eu-central-1", SigV4Request(method: "PUT", path: "/bucket/" + hold, headers: [("Host", "s3.eu-central-1.amazonaws.com"),
                                                       ("If-None-Match", "*"), ("Content-Type", "text/plain")],
                                                       payloadHash: SHA256.hash(data: Data("1767225600.0\n".utf8)).hexString)),
            (credentials, "us-east-1", SigV4Request(method: "PUT", path: "/bucket/staging/u", query: [("partNumber", "3"), ("uploadId", "a+b/c=d~e f")],
                                                    headers: [("Host", "s3.amazonaws.com")], payloadHash: SigV4Request.unsignedPayload)),
            (credentials, "us-east-1", SigV4Request(method: "POST", path: "/bucket/staging/u", query: [("uploads", "")],
                                                    headers: [("Host", "s3.amazonaws.com"), ("Content-Type", "application/octet-stream")],
                                                    payloadHash: SigV4Request.emptyPayloadHash)),
            (credentials, "us-west-2", SigV4Request(method: "GET", path: "/bucket", query: [("list-type", "2"), ("prefix", "tenant a/ü"), ("continuation-token", "1+2/3==")],
                                                    headers: [("Host", "[::1]:9000"), ("X-Amz-Meta-Note", "  two   spaces  ")],
                                                    payloadHash: SigV4Request.emptyPayloadHash)),
            (session, "ap-southeast-2", SigV4Request(method: "DELETE", path: "/bucket/key with space/and~tilde/ü", query: [],
                                                     headers: [("Host", "minio.internal"), ("If-Match", "\"0123abcd\"")],
                                                     payloadHash: SigV4Request.emptyPayloadHash)),
        ]
        let date = Date(timeIntervalSince1970: 1_796_601_600)  // 2026-12-07T00:00:00Z
        var lines = ""
        var expected: [String] = []
        for (credentials, region, unsent) in cases {
            // As S3Client sends every request: the payload's hash is a signed header too.
            var request = unsent
            request.headers.append(("x-amz-content-sha256", request.payloadHash))
            let signature = SigV4Signer(credentials: credentials, region: region, service: "s3").sign(request, at: date)
            expected.append(signature.authorization)
            // What botocore is given: the URL as we send it, and the headers we sign but the ones
            // the signer added (botocore adds X-Amz-Date and the token itself).
            let query = SigV4Signer.encodeQuery(request.query)
            let url = "https://\(request.headers[0].value)" + SigV4Signer.encodePath(request.path) + (query.isEmpty ? "" : "?" + query)
            let json: [String: Any] = [
                "method": request.method, "url": url, "headers": request.headers.map { [$0.name, $0.value] },
                "payload_sha256": request.payloadHash, "access_key": credentials.accessKeyID, "secret_key": credentials.secretAccessKey,
                "session_token": credentials.sessionToken.map { $0 as Any } ?? NSNull(), "region": region, "service": "s3", "amz_date": "20261207T000000Z",
            ]
            lines += String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self) + "\n"
        }
        let output = try S3TestServer.runPeer(["sign"], input: lines)
        #expect(output.split(separator: "\n").map(String.init) == expected)
    }
}
