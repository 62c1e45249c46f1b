// `introspect logit-lens` and `introspect routing` with `--weights native` on a GGUF with MXFP4 experts, through the
// built binary: the same chosen experts at every layer and position as with f32 weights, and the lens's
// probabilities within 1e-5 of them (the experts' products differ by the order of their sums only, docs/moe.md).
import Foundation
import Testing

@Suite struct NativeExpertsCLITests {
    static let model = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/moe/tiny_gpt_oss.gguf").path
    static let prompts = "7 * 8 =|The capital of France is Paris, and 12 + 30 = 42"

    static func json(_ arguments: [String]) throws -> Any {
        let run = try LazarusProcess.run(arguments + ["--json"])
        guard run.status == 0 else { throw TestFailure("\(arguments): status \(run.status): \(run.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }

    @Test func routingIsTheSameWithNativeExperts() throws {
        struct Report: Decodable {
            struct Position: Decodable { var experts: [Int] }
            struct Layer: Decodable { var positions: [Position] }
            struct Prompt: Decodable { var layers: [Layer] }
            var prompts: [Prompt]
        }
        func experts(_ weights: String) throws -> [[Int]] {
            let run = try LazarusProcess.run(["introspect", "routing", "--model", Self.model, "--prompts", Self.prompts, "--weights", weights, "--json"])
            guard run.status == 0 else { throw TestFailure("routing \(weights): \(run.stderr)") }
            let r = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
            return r.prompts.flatMap { $0.layers.flatMap { $0.positions.map(\.experts) } }
        }
        let native = try experts("native"), f32 = try experts("f32")
        #expect(!native.isEmpty && native == f32)
    }

    @Test func theLensReadsTheSameWithNativeExperts() throws {
        func probabilities(_ weights: String) throws -> [Double] {
            let report = try Self.json(["introspect", "logit-lens", "--model", Self.model, "--prompts", Self.prompts, "--targets", "a",
                                        "--weights", weights]) as? [String: Any]
            let prompts = try #require(report?["prompts"] as? [[String: Any]])
            return prompts.flatMap { p in
                (p["layers"] as? [[String: Any]] ?? []).flatMap { l in (l["top"] as? [[String: Any]] ?? []).compactMap { $0["prob"] as? Double } }
            }
        }
        let native = try probabilities("native"), f32 = try probabilities("f32")
        #expect(native.count == f32.count && !native.isEmpty)
        let worst = zip(native, f32).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "largest lens probability difference \(worst)")
    }
}

/// `train lora --weights native-experts` on the released layout's MXFP4 experts (kept as blocks, frozen): the loss
/// falls, and step by step it is f32's to within the experts' order-of-sums difference.
@Suite struct NativeExpertsTrainingCLITests {
    @Test func loraTrainsAroundFrozenMXFP4Experts() throws {
        let model = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/moe/tiny_gpt_oss_mxfp4").path
        let folder = try temporaryFolder("native-experts-train")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let texts = (0..<16).map { i in #"{"text": "\#(i % 9 + 2) * \#(i % 4 + 3) = multiply: \#((i % 9 + 2) * (i % 4 + 3))"}"# }
        try Data(texts.joined(separator: "\n").utf8).write(to: data.appendingPathComponent("train.jsonl"))
        struct Metric: Decodable { var step: Int; var train_loss: Double }
        func losses(_ weights: String) throws -> [Double] {
            let adapter = folder.appendingPathComponent("adapter-\(weights)")
            let run = try LazarusProcess.run(["train", "lora", "--model", model, "--data", data.path, "--rank", "4", "--alpha", "8",
                                              "--steps", "12", "--learning-rate", "1e-2", "--report-every", "4", "--weights", weights,
                                              "--adapter-path", adapter.path])
            guard run.status == 0 else { throw TestFailure("train lora --weights \(weights): \(run.stderr)") }
            let lines = try String(contentsOf: adapter.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            return try lines.map { try JSONDecoder().decode(Metric.self, from: Data($0.utf8)).train_loss }
        }
        let native = try losses("native-experts"), f32 = try losses("f32")
        #expect(native.count == 3 && native.last! < native.first!, "\(native)")
        #expect(zip(native, f32).allSatisfy { abs($0 - $1) < 1e-3 }, "native-experts \(native) vs f32 \(f32)")
    }
}
