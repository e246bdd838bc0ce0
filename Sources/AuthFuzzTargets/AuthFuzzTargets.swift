import FuzzTargets

/// The targets of the API's authentication: access tokens and JWKS documents. They stand
/// apart from `FuzzTarget.all` because they need `JobsServer`, whose OpenAPI generator plugin
/// cannot be built in the instrumented build: `-sanitize=fuzzer` reaches the plugin's own
/// executable, whose `main` then clashes with libFuzzer's at its link. Until that is solved
/// they run in the corpus replay only, over their seeds and committed inputs.
public enum AuthFuzzTargets {
    public static let all: [FuzzTarget] = [.accessToken, .jwks]
}
