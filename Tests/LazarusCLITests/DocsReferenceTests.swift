// The repository stands on its own: every "docs/SPEC.md §N" the code cites is a section of docs/SPEC.md,
// no citation points at a spec outside it, and the files docs/ARCHITECTURE.md names exist.
import Foundation
import Testing

@Suite struct DocsReferenceTests {
    static let root = LazarusProcess.packageRoot

    /// Every text file under the given folders, with its path relative to the package root.
    static func files(under folders: [String], extensions: Set<String>) throws -> [(path: String, text: String)] {
        var out: [(String, String)] = []
        for folder in folders {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where extensions.contains(url.pathExtension) && !url.path.contains("/Fixtures/") {
                out.append((folder + "/" + url.path.dropFirst(base.path.count + 1), try String(contentsOf: url, encoding: .utf8)))
            }
        }
        return out
    }

    static func matches(_ pattern: String, in text: String) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func specCitationsPointAtSectionsOfTheRepositorysSpec() throws {
        let spec = try String(contentsOf: Self.root.appendingPathComponent("docs/SPEC.md"), encoding: .utf8)
        let sections = Set(try Self.matches(#"(?m)^## (\d+)\. "#, in: spec))
        #expect(sections.count >= 10, "\(sections.sorted())")
        var cited = 0
        for (path, text) in try Self.files(under: ["Sources", "Tests", "tools", "docs"], extensions: ["swift", "py", "md", "sh"]) {
            for section in try Self.matches(#"docs/SPEC\.md §(\d+)"#, in: text) {
                cited += 1
                #expect(sections.contains(section), "\(path) cites docs/SPEC.md §\(section), which docs/SPEC.md does not have")
            }
            // Any later "§N" in the same citation ("§3, §6") is covered by the section list above only if it exists too.
            for section in try Self.matches(#"docs/SPEC\.md §\d+(?:, §\d+)*, §(\d+)"#, in: text) {
                #expect(sections.contains(section), "\(path) cites §\(section)")
            }
            for bare in try Self.matches(#"(?<![/\w.])(SPEC §\d+)"#, in: text) {
                Issue.record("\(path): '\(bare)' cites a spec that is not in the repository; write docs/SPEC.md §N")
            }
        }
        #expect(cited > 5, "the code cites docs/SPEC.md only \(cited) times: is the pattern still right?")
    }

    @Test func architectureNamesFilesThatExist() throws {
        let map = try String(contentsOf: Self.root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        let sources = try Self.files(under: ["Sources"], extensions: ["swift"]).map { $0.path }
        let names = Set(sources.map { String($0.split(separator: "/").last!) })
        let mentioned = try Self.matches(#"`([A-Za-z]+\.swift)`"#, in: map) + Self.matches(#"`Sources/[A-Za-z]+/([A-Za-z]+\.swift)`"#, in: map)
            + Self.matches(#", `?([A-Z][A-Za-z]+\.swift)`?"#, in: map)
        #expect(mentioned.count > 20, "\(mentioned.count) file names found")
        for name in mentioned where !name.contains("NAME") {
            #expect(names.contains(name), "docs/ARCHITECTURE.md names \(name), which is not in Sources/")
        }
        for target in try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path) {
            #expect(map.contains("`\(target)`") || map.contains(" \(target) "), "docs/ARCHITECTURE.md does not place the target \(target)")
        }
    }
}
