import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
@testable import JobsServer
import Testing

/// `GET /openapi.yml` and `GET /docs`: the committed spec byte for byte, Swagger UI's files
/// from their folder only, under a self-only Content-Security-Policy, without a token; a
/// clear 503 when the files are not installed.
@Suite("API docs") struct APIDocsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let spec = repository.appendingPathComponent("openapi.yml")

    static func harness(_ store: any JobStore, _ context: StoreContext, assets: URL, spec: URL = spec) async throws -> ServiceHarness {
        try await ServiceHarness(store: store, context: context) { http, _, _ in
            http.docs.assetsDirectory = assets
            http.docs.specFile = spec
        }
    }

    /// A folder standing in for swagger-ui-dist, beside a file outside it that must stay out of reach.
    static func assetsFolder() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fhe-jobs-docs-\(UUID().uuidString)")
        let assets = root.appendingPathComponent("swagger-ui")
        try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
        try Data("window.SwaggerUIBundle = function () {};".utf8).write(to: assets.appendingPathComponent("swagger-ui-bundle.js"))
        try Data("body { margin: 0 }".utf8).write(to: assets.appendingPathComponent("swagger-ui.css"))
        try Data([0x89, 0x50, 0x4e, 0x47]).write(to: assets.appendingPathComponent("favicon-32x32.png"))
        try Data("MZ".utf8).write(to: assets.appendingPathComponent("tool.exe"))
        try Data("hidden".utf8).write(to: assets.appendingPathComponent(".hidden.js"))
        try Data("outside".utf8).write(to: root.appendingPathComponent("secret.js"))
        try FileManager.default.createSymbolicLink(atPath: assets.appendingPathComponent("link.js").path, withDestinationPath: "../secret.js")
        try FileManager.default.createDirectory(at: assets.appendingPathComponent("sub.js"), withIntermediateDirectories: true)
        return assets
    }

    @Test func specIsTheCommittedFile() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context, assets: URL(fileURLWithPath: "/nonexistent"))
            try await h.test { client in
                let response = try await client.execute(uri: "/openapi.yml", method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/yaml")
                let committed = try Data(contentsOf: Self.spec)
                #expect(Data(buffer: response.body) == committed)
            }
        }
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context, assets: URL(fileURLWithPath: "/nonexistent"), spec: URL(fileURLWithPath: "/nonexistent/openapi.yml"))
            try await h.test { client in
                let response = try await client.execute(uri: "/openapi.yml", method: .get)
                #expect(response.status == .serviceUnavailable && response.problemCode == "SERVICE_UNAVAILABLE")
            }
        }
    }

    @Test func missingAssetsAnswerHowToInstallThem() async throws {
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context, assets: URL(fileURLWithPath: "/nonexistent/swagger-ui"))
            try await h.test { client in
                for path in ["/docs", "/docs/swagger-ui.css"] {
                    let response = try await client.execute(uri: path, method: .get)
                    #expect(response.status == .serviceUnavailable && response.problemCode == "SERVICE_UNAVAILABLE")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect((response.json["detail"] as? String)?.contains("scripts/serve") == true)
                }
            }
        }
    }

    @Test func pageAndFilesUnderSelfOnlyPolicy() async throws {
        let assets = try Self.assetsFolder()
        defer { try? FileManager.default.removeItem(at: assets.deletingLastPathComponent()) }
        try await withStore(.sqlite) { store, context in
            let h = try await Self.harness(store, context, assets: assets)
            try await h.test { client in
                let page = try await client.execute(uri: "/docs", method: .get)
                #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
                let policy = try #require(page.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'self'") && policy.contains("script-src 'self'") && !policy.contains("unsafe"))
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                let html = String(buffer: page.body)
                #expect(html.contains("/docs/swagger-ui-bundle.js") && !html.contains("http"))

                let initializer = try await client.execute(uri: "/docs/fhe-jobs-docs.js", method: .get)
                #expect(initializer.status == .ok && String(buffer: initializer.body).contains("\"/openapi.yml\""))
                let css = try await client.execute(uri: "/docs/swagger-ui.css", method: .get)
                #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8" && String(buffer: css.body) == "body { margin: 0 }")
                #expect(css.headers[.contentSecurityPolicy] == policy)
                let js = try await client.execute(uri: "/docs/swagger-ui-bundle.js", method: .get)
                #expect(js.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(try await client.execute(uri: "/docs/favicon-32x32.png", method: .get).headers[.contentType] == "image/png")

                // Nothing outside the folder, nothing hidden, no other type, no folder.
                for path in ["/docs/link.js", "/docs/..%2Fsecret.js", "/docs/%2e%2e%2fsecret.js", "/docs/../secret.js", "/docs/.hidden.js",
                             "/docs/tool.exe", "/docs/sub.js", "/docs/missing.js", "/docs/swagger-ui-bundle.js%00.png", "/docs/a/b.js"] {
                    let response = try await client.execute(uri: path, method: .get)
                    #expect(response.status == .notFound, "\(path): \(response.status)")
                    #expect(!String(buffer: response.body).contains("outside") && !String(buffer: response.body).contains("hidden\""), "\(path)")
                }
            }
        }
    }

    @Test func plainNames() {
        for good in ["swagger-ui.css", "favicon-32x32.png", "a", "swagger-ui-bundle.js.map"] { #expect(DocsAssets.isPlainName(good), "\(good)") }
        for bad in ["", ".", "..", "../x", "a/b", ".hidden", "a..b", "-x", "x\u{0}", "é.js", String(repeating: "a", count: 129)] {
            #expect(!DocsAssets.isPlainName(bad), "\(bad)")
        }
    }
}
