// `model info`'s memory account as a user reads it: GPT-OSS-20B's shape with no file (native total under 16 GiB,
// f32 far over it, the KV cache following --context), and a tiny MXFP4 GGUF whose native weights are its tensor
// bytes and far below its f32 ones; a bad workload number is a usage error.
import Foundation
import Testing

@Suite struct MemoryAccountCLITests {
    static func json(_ arguments: [String]) throws -> [String: Any] {
        let run = try LazarusProcess.run(arguments + ["--json"])
        guard run.status == 0 else { throw TestFailure("\(arguments): status \(run.status): \(run.stderr)") }
        guard let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("no JSON object: \(run.stdout)")
        }
        return object
    }

    @Test func gptOss20BShapeFitsSixteenGiBNativeOnly() throws {
        let text = try LazarusProcess.run(["model", "info", "shape:gpt-oss-20b", "--context", "4096"])
        #expect(text.status == 0 && text.stdout.contains("fits in 16 GiB") && text.stdout.contains("20.91B"), "\(text.stdout)\(text.stderr)")
        let a = try Self.json(["model", "info", "shape:gpt-oss-20b", "--context", "4096"])
        let b = try Self.json(["model", "info", "shape:gpt-oss-20b", "--context", "8192"])
        let total = try #require(a["forward_and_lens_total_bytes"] as? Int), f32 = try #require(a["forward_and_lens_total_f32_bytes"] as? Int)
        #expect(total < 16 << 30 && f32 > 64 << 30)
        #expect((b["kv_cache_bytes"] as? Int) == 2 * (a["kv_cache_bytes"] as? Int ?? 0))
    }

    @Test func aTinyMXFP4ModelsAccountIsItsFile() throws {
        let path = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/moe/tiny_gpt_oss.gguf").path
        let memory = try #require(try Self.json(["model", "info", path])["memory"] as? [String: Any])
        let held = try #require(memory["weights_held_bytes"] as? Int), f32 = try #require(memory["weights_f32_bytes"] as? Int)
        let experts = try #require(memory["experts_held_bytes"] as? Int)
        #expect(experts > 0 && held < f32 && held > f32 / 8)
        let bad = try LazarusProcess.run(["model", "info", path, "--batch", "0"])
        #expect(bad.status == 64, "\(bad.stderr)")
    }
}
