import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

// How a connection is pinned to the checked address, and why certificates are still verified
// against the URL's host name.
//
// For every hop (the first request and each redirect) the fetcher resolves the host once with
// its `HostResolver`, refuses the hop if any answer is of a kind the policy forbids, and then
// builds a fresh `HTTPClient` whose `Configuration.dnsOverride` maps the URL's host to that
// checked address, written as an IP literal. With an override, AsyncHTTPClient
// (ConnectionPool.swift, `applyDNSOverride`) makes the connection target the IP literal, so its
// own resolver is never asked, and sets the TLS server-name override to the original host
// name; `NIOSSLClientHandler(context:serverHostname:)` then sends that name as SNI and, with
// `certificateVerification = .fullVerification`, verifies the chain to `trustRoots` and
// the leaf certificate's names against that same host name (NIOSSL
// `SSLConnection.validateHostname`). The Host header comes from the request URL, which still
// names the host. So the bytes go to the address we checked, and TLS proves that address
// speaks for the name the client gave, as if the name had been resolved normally.
//
// Requesting the IP literal URL with an explicit Host header would not do: the client would
// then verify the certificate against the IP address, which a public certificate never names.
//
// A fresh client per hop keeps one resolution per connection: its pool has no connection
// that an earlier resolution made, and it is shut down when the hop ends. Redirects are
// turned off in the client (`.disallow`) and followed here, each hop resolved and checked anew.

extension SafeFetcher {
    private enum HopOutcome {
        case delivered(FetchResult)
        case redirect(location: String?)
    }

    func fetchHTTP(
        _ url: URL,
        policy: FetchPolicy,
        deadline: ContinuousClock.Instant,
        expected: String?,
        consume: @escaping @Sendable (Data) async throws -> Void
    ) async throws -> FetchResult {
        var target = try HTTPTarget(url, policy: policy)
        var redirects = 0
        while true {
            switch try await hop(to: target, policy: policy, deadline: deadline, expected: expected, consume: consume) {
            case .delivered(let result):
                return result
            case .redirect(let location):
                let next = try target.redirect(to: location, policy: policy)
                redirects += 1
                guard redirects <= policy.maxRedirects else { throw FetchError.tooManyRedirects(limit: policy.maxRedirects) }
                target = next
            }
        }
    }

    /// The addresses a connection to `target` may go to, in the resolver's order: the
    /// literal, or every answer once all have been checked (a name with one forbidden answer
    /// is refused, so a round-robin of public and private addresses gains nothing).
    func checkedAddresses(for target: HTTPTarget, policy: FetchPolicy) async throws -> [IPAddress] {
        let addresses: [IPAddress]
        if let literal = target.literal {
            addresses = [literal]
        } else {
            do {
                addresses = try await resolver.resolve(host: target.host, port: target.port)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw FetchError.fetchFailed(.resolution(host: target.host))
            }
        }
        guard !addresses.isEmpty else { throw FetchError.fetchFailed(.resolution(host: target.host)) }
        if let refused = addresses.first(where: { !policy.admits($0.kind) }) {
            throw FetchError.addressNotAllowed(host: target.host, address: refused, kind: refused.kind)
        }
        return addresses
    }

    private func hop(
        to target: HTTPTarget,
        policy: FetchPolicy,
        deadline: ContinuousClock.Instant,
        expected: String?,
        consume: @escaping @Sendable (Data) async throws -> Void
    ) async throws -> HopOutcome {
        try await overCheckedAddresses(of: target, policy: policy) { address in
            try await self.withPinnedClient(to: target, at: address, deadline: deadline) { client, remaining in
                try await self.exchange(with: client, target: target, policy: policy, deadline: .now() + remaining,
                                        expected: expected, consume: consume)
            }
        }
    }

    /// Runs `attempt` against the checked addresses of `target` in the resolver's order
    /// until one connects (a host whose first answer is an unreachable IPv6 address still
    /// works); none is resolved again.
    func overCheckedAddresses<T: Sendable>(
        of target: HTTPTarget,
        policy: FetchPolicy,
        _ attempt: @Sendable (IPAddress) async throws -> T
    ) async throws -> T {
        let addresses = try await checkedAddresses(for: target, policy: policy)
        for (index, address) in addresses.enumerated() {
            do {
                return try await attempt(address)
            } catch is NotConnected where index < addresses.count - 1 {
                continue
            } catch let failure as NotConnected {
                throw failure.underlying
            }
        }
        preconditionFailure("checkedAddresses answers at least one address")
    }

    /// Runs `body` with a fresh client whose only connection goes to `address` (checked) for
    /// `target`'s host, redirects off, certificates verified against the URL's host name; the
    /// client is shut down when `body` ends. `body` also gets the time left until `deadline`.
    func withPinnedClient<T: Sendable>(
        to target: HTTPTarget,
        at address: IPAddress,
        deadline: ContinuousClock.Instant,
        _ body: @Sendable (HTTPClient, TimeAmount) async throws -> T
    ) async throws -> T {
        let remaining = TimeAmount(max(deadline - ContinuousClock.now, .milliseconds(1)))

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.trustRoots = trustRoots
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: remaining),
            proxy: nil,
            decompression: .disabled
        )
        if target.literal == nil {
            configuration.dnsOverride = [target.rawHost: address.description]
        }
        // One attempt: a refused connection is reported now, not retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        do {
            let outcome = try await body(client, remaining)
            try? await client.shutdown()
            return outcome
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func exchange(
        with client: HTTPClient,
        target: HTTPTarget,
        policy: FetchPolicy,
        deadline: NIODeadline,
        expected: String?,
        consume: @escaping @Sendable (Data) async throws -> Void
    ) async throws -> HopOutcome {
        var request = HTTPClientRequest(url: target.url.absoluteString)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "fhe-jobs-fetch")
        // Compressed bodies are not asked for: the byte limit is on what is stored.
        request.headers.add(name: "Accept-Encoding", value: "identity")

        let response = try await Self.execute(request, with: client, deadline: deadline)
        switch response.status.code {
        case 301, 302, 303, 307, 308:
            return .redirect(location: response.headers.first(name: "location"))
        case 200..<300:
            break
        default:
            throw FetchError.fetchFailed(.status(Int(response.status.code)))
        }
        if let declared = response.headers.first(name: "content-length").flatMap(Int.init), declared > policy.maxBytes {
            throw FetchError.tooLarge(limit: policy.maxBytes)
        }
        var meter = BodyMeter(limit: policy.maxBytes)
        for try await buffer in response.body {
            let chunk = Data(buffer.readableBytesView)
            try meter.admit(chunk)
            try await Self.deliver(chunk, to: consume)
        }
        return .delivered(try meter.finish(expected: expected))
    }
}

extension SafeFetcher {
    /// Sends `request`, marking a failure before any answer as ``NotConnected`` (the next
    /// checked address may be tried); timeouts, cancellation and TLS failures are final.
    static func execute(_ request: HTTPClientRequest, with client: HTTPClient, deadline: NIODeadline) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, deadline: deadline)
        } catch let error as HTTPClientError where error == .connectTimeout || error == .deadlineExceeded || error == .cancelled {
            throw error
        } catch where error is CancellationError || error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            throw error
        } catch {
            throw NotConnected(underlying: error)
        }
    }
}

/// No connection could be made to one checked address.
struct NotConnected: Error {
    let underlying: any Error
}
