// Prompts (plus --max-tokens) beyond the model's context length are refused with the numbers; long work shows
// a line on a terminal and nothing in a pipe.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ContextLimitCLITests {
    static let tiny = LazarusProcess.tinyModel.path

    @Test func promptsBeyondTheContextAreRefusedWithTheNumbers() throws {
        let prompt = String(repeating: "a", count: 70)
        let tokens = try LazarusProcess.run(["tokenize", Self.tiny, prompt, "--json"])
        let count = try #require((try JSONSerialization.jsonObject(with: Data(tokens.stdout.utf8)) as? [String: Any])?["ids"] as? [Int]).count
        #expect(count == 70)
        try CLIExpect.error(["generate", Self.tiny, prompt, "--max-tokens", "200"],
                             "lazarus: the prompt has 70 tokens; with 200 new tokens that is 270 positions, more than the model's context length of 64; shorten the prompt or lower --max-tokens")
        try CLIExpect.error(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "ab|" + prompt, "--targets", "add"],
                             "lazarus: prompt 2 has 70 tokens, more than the model's context length of 64; shorten it")
        let fits = try LazarusProcess.run(["generate", Self.tiny, "ab", "--max-tokens", "62"])
        #expect(fits.status == 0, "\(fits.stderr)")
    }

    /// On a terminal (a pseudo-terminal from script(1)) the lens shows a line while its forward pass runs;
    /// in a pipe stderr stays empty.
    @Test func longWorkShowsProgressOnATerminalOnly() throws {
        let binary = try LazarusProcess.executable().path
        let (status, text) = try CLIExpect.wrapped("/usr/bin/script", ["-qec", "\(binary) introspect logit-lens --model \(Self.tiny) --prompts abc --targets add --layers 1", "/dev/null"])
        #expect(status == 0)
        #expect(text.contains("logit lens over 1 prompts, 3 tokens: 0.0s"), "\(text.debugDescription)")
        let piped = try LazarusProcess.run(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "abc", "--targets", "add", "--layers", "1"])
        #expect(piped.status == 0 && piped.stderr.isEmpty, "\(piped.stderr)")
    }
}
