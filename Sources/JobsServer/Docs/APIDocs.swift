import Foundation
import HTTPTypes
import Hummingbird

/// `GET /openapi.yml` (the committed contract, byte for byte) and `GET /docs` (Swagger UI over
/// it). Both are public, as API references are: the spec holds no secret, and the page's
/// "Try it out" requests carry the bearer token the reader pastes into its Authorize dialog,
/// so the page grants nothing by itself. The page and its files come from this origin only,
/// under a Content-Security-Policy that allows nothing else (W3C CSP Level 3): Swagger UI's
/// files are installed from a registry package at setup, never fetched from a CDN.
public struct APIDocs: Sendable {
    public struct Configuration: Sendable {
        /// openapi.yml as committed (`fhe-jobs serve` runs from the repository by default).
        public var specFile = URL(fileURLWithPath: "openapi.yml")
        /// Swagger UI's files (swagger-ui-dist), as `scripts/lib/docs-assets.sh` installs them.
        public var assetsDirectory = URL(fileURLWithPath: ".build-docs/swagger-ui", isDirectory: true)
        public init() {}
    }

    public static let paths: Set<String> = ["/openapi.yml", "/docs"]
    static let assetPrefix = "/docs/"
    /// The page's own script, served from memory (inline scripts are what the policy forbids).
    static let initializerFile = "fhe-jobs-docs.js"

    /// `'self'` only. Swagger UI's stylesheet draws its icons as `data:` SVG images, which
    /// load nothing from anywhere, so images may also be `data:`.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    let spec: Result<Data, SpecUnavailable>
    let assets: DocsAssets

    struct SpecUnavailable: Error { var detail: String }

    /// Reads the spec once: the file served is the one the process started with.
    public init(_ configuration: Configuration) {
        let file = configuration.specFile
        if let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int).flatMap({ $0 }),
           size <= 16 << 20, let data = try? Data(contentsOf: file) {
            spec = .success(data)
        } else {
            spec = .failure(SpecUnavailable(detail: "the API description \(file.path) could not be read: run fhe-jobs from the repository, or give --openapi-file"))
        }
        assets = DocsAssets(directory: configuration.assetsDirectory)
    }

    public static func isDocsPath(_ path: String) -> Bool { paths.contains(path) || path.hasPrefix(assetPrefix) }

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/openapi.yml") { _, _ -> Response in
            let data = try spec.mapError { APIProblem(.serviceUnavailable, .serviceUnavailable, $0.detail) }.get()
            // application/yaml: RFC 9512.
            return Self.response(data, contentType: "application/yaml", extra: [.cacheControl: "no-cache"])
        }
        router.get("/docs") { _, _ -> Response in
            guard assets.isInstalled else { throw notInstalled }
            return Self.response(Data(Self.page.utf8), contentType: "text/html; charset=utf-8", extra: [.cacheControl: "no-cache"])
        }
        router.get("/docs/{file}") { _, context -> Response in
            let name = context.parameters.get("file") ?? ""
            if name == Self.initializerFile {
                return Self.response(Data(Self.initializer.utf8), contentType: "text/javascript; charset=utf-8", extra: [.cacheControl: "no-cache"])
            }
            switch assets.file(named: name) {
            case .file(let data, let contentType): return Self.response(data, contentType: contentType, extra: [.cacheControl: "max-age=300"])
            case .notInstalled: throw notInstalled
            case .notFound: throw APIProblem(.notFound, .notFound, "no such file of the documentation page")
            }
        }
    }

    private var notInstalled: APIProblem {
        APIProblem(.serviceUnavailable, .serviceUnavailable,
                   "Swagger UI's files are not installed in \(assets.directory.path): run scripts/serve, which installs them "
                       + "(scripts/lib/docs-assets.sh), or give --docs-assets a folder of swagger-ui-dist")
    }

    private static func response(_ data: Data, contentType: String, extra: HTTPFields) -> Response {
        var headers: HTTPFields = [.contentType: contentType, .contentSecurityPolicy: contentSecurityPolicy,
                                   .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer"]
        for field in extra { headers[field.name] = field.value }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>fhe-jobs API</title>
        <link rel="stylesheet" href="/docs/swagger-ui.css">
        <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
        </head>
        <body>
        <div id="swagger-ui"></div>
        <script src="/docs/swagger-ui-bundle.js"></script>
        <script src="/docs/\(initializerFile)"></script>
        </body>
        </html>

        """

    /// Swagger UI over /openapi.yml; no validator badge (it would call a third party), operation
    /// ids shown, and the Authorize dialog's token kept only for the page's lifetime.
    static let initializer = """
        window.addEventListener("load", function () {
          window.ui = SwaggerUIBundle({
            url: "/openapi.yml",
            dom_id: "#swagger-ui",
            deepLinking: true,
            displayOperationId: true,
            validatorUrl: null,
            persistAuthorization: false,
            presets: [SwaggerUIBundle.presets.apis],
            layout: "BaseLayout"
          });
        });

        """
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
