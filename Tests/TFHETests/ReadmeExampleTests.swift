import Foundation
import Testing

/// The first code a user copies works: the README's engine example is the program in
/// `Examples/EngineInBrief`, and that program, built, prints what its comments say.
@Suite struct ReadmeExampleTests {
    static let root = TestPaths.repository

    @Test func theEngineExampleIsTheProgramAndRuns() throws {
        let program = try String(contentsOf: Self.root.appendingPathComponent("Examples/EngineInBrief/main.swift"), encoding: .utf8)
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + program + "```\n"), "the README's example is Examples/EngineInBrief/main.swift verbatim")

        let binary = TestPaths.built("engine-in-brief")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the package first (scripts/test does)")
        let (status, output, _) = try TestPaths.run(binary, in: Self.root)
        #expect(status == 0)
        #expect(output == "3 squared mod 16: 9\ntrue AND false: false\nXOR layer: [false, true, true, false]\n", "\(output)")
    }
}
