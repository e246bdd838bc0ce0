import AsyncHTTPClient
import Foundation
import NIOCore

/// What a server answered to ``SafeFetcher/post(_:body:headers:policy:)`` or
/// ``SafeFetcher/get(_:headers:policy:)``.
public struct HTTPAnswer: Sendable, Equatable {
    /// The HTTP status, whatever it is: a redirect is answered as is, never followed.
    public let status: Int
    /// The response's header fields, names lowercase, in order.
    public let headers: [HTTPHeaderField]
    /// The body: all of it for a GET (which fails past the limit), its first bytes for a POST.
    public let body: Data

    public init(status: Int, headers: [HTTPHeaderField], body: Data) {
        self.status = status; self.headers = headers; self.body = body
    }

    /// The first value of the header `name` (any case), nil without one.
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.name == name }?.value
    }

    /// The `Retry-After` header as sent (RFC 9110 §10.2.3).
    public var retryAfter: String? { header("retry-after") }
}

public struct HTTPHeaderField: Sendable, Equatable {
    public let name: String
    public let value: String
    public init(name: String, value: String) { self.name = name.lowercased(); self.value = value }
}

extension SafeFetcher {
    /// Checks `url` as a fetch or a post would before connecting: the scheme, the host on
    /// the allow-list, and every address the host resolves to now of a kind the policy
    /// admits. It says nothing of later resolutions: a post checks its addresses again.
    public func check(_ url: URL, policy: FetchPolicy) async throws(FetchError) {
        let target = try HTTPTarget(url, policy: policy)
        do {
            _ = try await Self.within(policy.timeout) { try await self.checkedAddresses(for: target, policy: policy) }
        } catch let error as FetchError {
            throw error
        } catch {
            throw Self.classify(error, timeout: policy.timeout, deadline: .now)
        }
    }

    /// POSTs `body` to `url` (an outbound notification), under the same rules as a fetch:
    /// only allowed hosts, every resolved address checked and the connection pinned to the
    /// checked address (no DNS rebinding between a check and the connection), certificates
    /// verified against the URL's host, everything within ``FetchPolicy/timeout``.
    ///
    /// Unlike a fetch, no redirect is followed (a 3xx is the answer; a POST redirected
    /// elsewhere would carry its body to a host nobody checked), and a status other than 2xx
    /// is an answer, not an error: the caller decides what to retry. At most
    /// ``FetchPolicy/maxBytes`` of the response body are read; the connection is closed on
    /// the rest.
    public func post(
        _ url: URL,
        body: Data,
        headers: [(name: String, value: String)],
        policy: FetchPolicy
    ) async throws(FetchError) -> HTTPAnswer {
        try await exchange(url, body: body, headers: headers, policy: policy)
    }

    /// GETs `url` under the fetch's rules, with its answer's status and headers (a document
    /// whose caching the caller honours), no redirect followed. A body past
    /// ``FetchPolicy/maxBytes`` fails with ``FetchError/tooLarge(limit:)`` as soon as it is
    /// announced or counted.
    public func get(
        _ url: URL,
        headers: [(name: String, value: String)] = [],
        policy: FetchPolicy
    ) async throws(FetchError) -> HTTPAnswer {
        try await exchange(url, body: nil, headers: headers, policy: policy)
    }

    /// A POST of `body`, or a GET without one. A POST's answer is cut at the limit (only its
    /// status matters); a GET's body past the limit is an error.
    private func exchange(
        _ url: URL,
        body: Data?,
        headers: [(name: String, value: String)],
        policy: FetchPolicy
    ) async throws(FetchError) -> HTTPAnswer {
        let truncate = body != nil
        let deadline = ContinuousClock.now + policy.timeout
        do {
            return try await Self.within(policy.timeout) {
                let target = try HTTPTarget(url, policy: policy)
                return try await self.overCheckedAddresses(of: target, policy: policy) { address in
                    try await self.withPinnedClient(to: target, at: address, deadline: deadline) { client, remaining in
                        var request = HTTPClientRequest(url: target.url.absoluteString)
                        request.method = body == nil ? .GET : .POST
                        for header in headers { request.headers.add(name: header.name, value: header.value) }
                        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
                        let response = try await Self.execute(request, with: client, deadline: .now() + remaining)
                        if !truncate, let declared = response.headers.first(name: "content-length").flatMap(Int.init),
                           declared > policy.maxBytes {
                            throw FetchError.tooLarge(limit: policy.maxBytes)
                        }
                        var kept = Data()
                        for try await buffer in response.body {
                            let room = policy.maxBytes - kept.count
                            if !truncate, buffer.readableBytes > room { throw FetchError.tooLarge(limit: policy.maxBytes) }
                            kept.append(contentsOf: buffer.readableBytesView.prefix(max(0, room)))
                            if truncate, kept.count >= policy.maxBytes { break }
                        }
                        return HTTPAnswer(status: Int(response.status.code),
                                          headers: response.headers.map { HTTPHeaderField(name: $0.name, value: $0.value) }, body: kept)
                    }
                }
            }
        } catch let error as FetchError {
            throw error
        } catch {
            throw Self.classify(error, timeout: policy.timeout, deadline: deadline)
        }
    }
}
