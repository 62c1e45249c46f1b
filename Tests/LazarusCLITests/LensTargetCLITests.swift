// Logit-lens targets: an empty one is an error, a special token is measured by its own id, the ids are printed.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct LensTargetCLITests {
    static let tiny = LazarusProcess.tinyModel.path

    @Test func lensTargetsAreWordsOrSpecialTokensMeasuredByTheirOwnIds() throws {
        try CLIExpect.error(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "ab", "--targets", "", "--layers", "1"],
                             "lazarus: target \"\" is empty: a lens target is a word, e.g. --targets add")
        let run = try LazarusProcess.run(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "ab", "--targets", "<|im_end|>",
                                          "--layers", "1", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let layer = try #require(((report["prompts"] as? [[String: Any]])?.first?["layers"] as? [[String: Any]])?.first)
        let target = try #require((layer["targets"] as? [String: Any])?["<|im_end|>"] as? [String: Any])
        #expect(target["token_ids"] as? [Int] == [2], "\(target)")
        let table = try LazarusProcess.run(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "ab", "--targets", "<|im_end|>",
                                            "--targets", "add", "--layers", "1"])
        #expect(table.stdout.hasPrefix("target tokens: <|im_end|> → 2 \"<|im_end|>\"; add → "), "\(table.stdout)")
    }
}
