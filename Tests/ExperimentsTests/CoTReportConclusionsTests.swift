// The flagship's report rendered from a fixed, small results.json (two seeds, ten prompts, a model of two blocks),
// each conclusion checked against numbers computed by hand from that file.
import Experiments
import Foundation
import Testing

@Suite struct CoTReportConclusionsTests {
    static func proportion(_ successes: Int, _ n: Int) -> [String: Any] {
        let p = Proportion(successes: successes, n: n)
        return ["value": p.value, "low": p.low, "high": p.high, "n": n, "successes": successes]
    }

    /// One layer row: lens outcomes per prompt, top-1 rate, centred accuracy.
    static func layer(_ index: Int, lens: String, top1: Double = 0, centred: Double? = nil,
                      probe: Double = 0.5, controlTask: Double? = nil, firstOperand: Double? = nil) -> [String: Any] {
        let acc = Double(lens.filter { $0 == "1" }.count) / Double(lens.count)
        var row: [String: Any] = ["name": index < 0 ? "embed" : "L\(index)", "index": index, "mean_task_prob": acc / 2,
                                  "lens_task_accuracy": acc, "top1_rate": top1, "probe_accuracy": probe,
                                  "probe_control_accuracy": 0.4, "probe_selectivity": 0.1, "lens_correct": lens]
        if let centred { row["centred_task_accuracy"] = centred }
        if let controlTask { row["probe_control_task_accuracy"] = controlTask }
        if let firstOperand { row["probe_first_operand_accuracy"] = firstOperand }
        return row
    }

    static func stage(_ name: String, answers: String, layers: [[String: Any]], nextToken: String?) -> [String: Any] {
        let right = answers.filter { $0 == "1" }.count
        let outcomes: [[String: Any]] = (0..<9).map { i in
            ["prompt": "p\(i)", "task": "add", "expected": 1, "generated": " 1", "answer": 1, "correct": i < 2 && name != "baseline"]
        }
        var s: [String: Any] = ["name": name, "accuracy_seed_prompts": proportion(name == "baseline" ? 0 : 2, 9),
                                "accuracy_heldout": proportion(right, answers.count), "accuracy_by_task": [String: Any](),
                                "seed_prompt_outcomes": outcomes, "heldout_examples": [Any](), "layers": layers,
                                "evaluation_s": 0.0, "heldout_correct": answers]
        if let nextToken {
            s["next_token"] = ["position": "before_answer_direct", "example": "1 + 1 = ", "example_token_ids": [1], "digit_share": 1.0,
                               "layers": [Any](), "first_layer_80": nextToken]
        }
        return s
    }

    static let none = "0000000000"

    /// Cross-validated probe figures of the CoT stage at L0 and L1: (accuracy, control task, first operand).
    typealias ProbeCell = (Double, Double, Double)

    static func seed(_ seed: Int, direct: String, cot: String, cotL0: String, probeL0: ProbeCell, probeL1: ProbeCell) -> [String: Any] {
        let baseline = stage("baseline", answers: none,
                             layers: [layer(-1, lens: none), layer(0, lens: none), layer(1, lens: none)], nextToken: nil)
        let directStage = stage("direct_sft", answers: direct,
                                layers: [layer(-1, lens: none), layer(0, lens: none), layer(1, lens: none)], nextToken: nil)
        var cotStage = stage("cot_sft", answers: cot,
                             layers: [layer(-1, lens: none),
                                      layer(0, lens: cotL0, centred: 0.7, probe: probeL0.0, controlTask: probeL0.1, firstOperand: probeL0.2),
                                      layer(1, lens: "1111111110", top1: 0.9, probe: probeL1.0, controlTask: probeL1.1, firstOperand: probeL1.2)],
                             nextToken: "L1")
        // The tuned lens at the prompt's end reads the word from L0 (8/10) in both seeds: mean L0.0, sd 0.
        func tunedRow(_ index: Int, _ acc: Double) -> [String: Any] {
            ["name": index < 0 ? "embed" : "L\(index)", "index": index, "mean_task_prob": 0.1, "lens_task_accuracy": acc, "top1_rate": 0.0,
             "centred_task_accuracy": acc, "confusion": [[Int]]()]
        }
        let tunedPosition: [String: Any] = ["position": "prompt_end", "example": "1 + 1 =", "example_token_ids": [1],
                                            "forms": ["spaced": [tunedRow(-1, 0.3), tunedRow(0, 0.8), tunedRow(1, 0.9)]]]
        cotStage["tuned_lens"] = ["folder": "lens", "positions": [tunedPosition],
                                  "next_token": ["position": "before_answer_cot", "example": "1 + 1 = add: ", "example_token_ids": [1],
                                                 "digit_share": 1.0, "layers": [Any](), "first_layer_80": "L1"]]
        let kinds = ["held-out", "held-out", "in-training", "in-training", "in-training", "out-of-range", "out-of-range", "out-of-range", "out-of-range"]
        return ["seed": seed, "data_seed": 42,
                "data": ["train": 100, "valid": 6, "test": 10, "examples_seen": 80, "epochs": 0.8,
                         "distinct_training_problems": ["add": 30], "distinct_seen_problems": ["add": 25]],
                "reference_provenance": kinds.enumerated().map { ["prompt": "p\($0.offset)", "provenance": $0.element] },
                "stages": ["baseline": baseline, "direct_sft": directStage, "cot_sft": cotStage]]
    }

    static func results() throws -> Data {
        let parameters = try JSONSerialization.jsonObject(with: JSONEncoder().encode(CoTVocabAlignment.defaultParameters))
        let forms = Dictionary(uniqueKeysWithValues: ["multiply", "add", "subtract"].enumerated().map { k, task in
            (task, ["bare": ["text": task, "id": 10 + k, "piece": task], "spaced": ["text": " " + task, "id": 20 + k, "piece": "Ġ" + task]])
        })
        let root: [String: Any] = [
            "model": "tiny", "model_config": ["layers": 2, "hidden_size": 8, "heads": 2, "kv_heads": 1, "vocab_size": 32],
            "parameters": parameters, "timings": ["wall_s": 1.0],
            "target_tokens": ["primary_form": "spaced", "forms": forms],
            // Seed 42: direct 5/10, CoT 2/10; seed 43: direct 6/10, CoT 4/10.
            // CoT probe: seed 42 first selective at L0 (0.95, control task 0.40); seed 43 at L1 (0.93, 0.50; L0 is 0.85 < 90%).
            "per_seed": [seed(42, direct: "1111100000", cot: "1100000000", cotL0: "1111111100", probeL0: (0.95, 0.40, 0.30), probeL1: (0.97, 0.40, 0.30)),
                         seed(43, direct: "1111110000", cot: "1111000000", cotL0: "1111100000", probeL0: (0.85, 0.40, 0.33), probeL1: (0.93, 0.50, 0.36))],
        ]
        return try JSONSerialization.data(withJSONObject: root)
    }

    @Test func eachConclusionCarriesItsHandComputedNumbers() throws {
        let rendered = try CoTVocabAlignment.renderReport(fromResults: Self.results())
        let c = rendered.conclusions
        func sentence(_ start: String) throws -> String { try #require(c.first { $0.hasPrefix(start) }, "no conclusion starting '\(start)' in \(c)") }

        // CoT's last layer: 9/10 lens, top-1 0.9 in both seeds.
        #expect(try sentence("The positive control passed in all 2 seeds").contains("top-1 for 90.0%"))

        // Direct 50%, 60%: mean 55%, sd 0.0707, half-width t(1)·sd/√2 = 12.7062 · 0.05 = 63.53 points: the t-interval
        // -8.5%…118.5% is clipped to a proportion's [0, 100%].
        // McNemar direct vs baseline: 5 vs 0 → p = 2/32, and 6 vs 0 → 2/64; Holm over the three pairs makes them
        // 0.1875 and 0.09375: no difference detected in either seed.
        let direct = try sentence("Direct SFT held-out accuracy is")
        #expect(direct.contains("55.0% (95% t-interval 0.0%–100.0% over 2 seeds)"))
        // The baseline does not depend on the training seed: 0% in both seeds, no interval given.
        #expect(direct.contains("against the baseline's 0.0% (the same in all 2 seeds)"))
        #expect(direct.contains("no difference detected at n=10 in any seed"))

        // Gaps 0.3 and 0.2: mean +25.0, interval 0.25 ± 0.6353 → -38.5 to +88.5: contains 0.
        // Per seed: CoT vs direct 0 vs 3 → p = 0.25, Holm ×2 = 0.5; 0 vs 2 → p = 0.5, Holm 0.5 (×1, after 0.094 and 0.25).
        let gap = try sentence("Direct minus CoT held-out accuracy")
        #expect(gap.contains("+25.0 points (95% t-interval -38.5 to +88.5 over 2 seeds)"))
        #expect(gap.contains("no difference between the two trainings is detected across seeds"))
        #expect(gap.contains("adjusted p = 0.5, 0.5"))

        // First layer with lens ≥ 80%: L0 (8/10) in seed 42, L1 in seed 43: mean 0.5, half-width 12.7062 · 0.5 = 6.35, clipped
        // to the layers the two-block model has (embed = L-1 … L1).
        // Next token from L1 in both: within one layer of 0.5, so no earlier than an ordinary next token.
        let depth = try sentence("After CoT training the operation word is readable")
        #expect(depth.contains("from layer L0.5 on average (95% t-interval L-1.0–L1.0; per seed L0, L1)"))
        #expect(depth.contains("75% of depth; every seed reaches it"))
        #expect(depth.contains("appears no earlier than an ordinary next token"))

        // L0 is the only intermediate layer. CoT vs baseline at L0: 8 vs 0 → p = 2/256; with embed (p = 1) and
        // L1 (9 vs 0 → 2/512) Holm gives 0.0156 < 0.05 in seed 42; 5 vs 0 → 0.0625 · 2 = 0.125 in seed 43.
        let lens = try sentence("Against Baseline, at the 1 intermediate layers")
        #expect(lens.contains("raised lens task accuracy at 1/0 layers and lowered it at 0/0"))
        #expect(lens.contains("no difference detected at n=10"))

        #expect(try sentence("CoT SFT: the best intermediate lens task accuracy on centred logits").contains("70.0%"))
        #expect(try sentence("Baseline: no layer reaches 90% cross-validated probe accuracy").contains("best per seed 50.0%, 50.0%"))
        // CoT probe: first selective layer L0, L1 → mean 0.5 [-5.9, 6.9]. At those layers: accuracy 0.95, 0.93 → 94.0%,
        // sd 0.01414, half-width 12.7062 · 0.01 = 12.7 points → 81.3%…106.7%, clipped to 100.0%; control task 0.40, 0.50 →
        // 45.0%, half-width 63.5 → clipped to 0.0%–100.0%; first operand 0.30, 0.36 → 33.0%, half-width 38.1 → 0.0%–71.1%.
        let probe = try sentence("CoT SFT: a cross-validated linear probe")
        #expect(probe.contains("from layer L0.5 on average (95% t-interval L-1.0–L1.0; per seed L0, L1)"))
        #expect(probe.contains("accuracy 94.0% (95% t-interval 81.3%–100.0% over 2 seeds)"))
        #expect(probe.contains("Hewitt–Liang control task 45.0% (95% t-interval 0.0%–100.0% over 2 seeds)"))
        #expect(probe.contains("first-operand negative control 33.0% (95% t-interval 0.0%–71.1% over 2 seeds)"))
        #expect(probe.contains("; every seed reaches it"))
        // Tuned lens L0, L0 (mean 0.0, no spread) against the logit lens's L0, L1 (mean 0.5): within one layer.
        let tuned = try sentence("Through the tuned lens, the CoT model's operation word reaches 80%")
        #expect(tuned.contains("from L0.0 (95% t-interval L0.0–L0.0) (per seed L0, L0), against L0.5 (95% t-interval L-1.0–L1.0) (per seed L0, L1)"))
        #expect(tuned.hasSuffix("within a layer of each other."))
        #expect(rendered.markdown.contains("## Tuned lens beside the logit lens") && rendered.markdown.contains("Tuned lens ≥ 80% from"))
        #expect(try sentence("The 9 reference prompts are").contains("2 held-out, 3 in-training, 4 out-of-range"))

        // The summary counts only held-out reference prompts: outcomes 0 and 1 are right and held out → 2/2.
        #expect(rendered.markdown.contains("| 2/2 |"))
        #expect(!c.contains { $0.contains("not distinguishable") })
    }
}
