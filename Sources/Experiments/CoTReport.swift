// results.json, report.md and the plots of cot_vocab_alignment, all computed from the measured stages.
// Conclusions are sentences chosen by comparing numbers and their intervals, never written in advance.
import Foundation
import Introspection
import Transformer
import Datasets

/// The model's shape as the report prints it (and as results.json's model_config holds it).
public struct ModelShape: Sendable, Equatable {
    public var layerCount: Int, hiddenSize: Int, headCount: Int, kvHeadCount: Int, vocabularySize: Int

    public init(layerCount: Int, hiddenSize: Int, headCount: Int, kvHeadCount: Int, vocabularySize: Int) {
        (self.layerCount, self.hiddenSize, self.headCount, self.kvHeadCount, self.vocabularySize) = (layerCount, hiddenSize, headCount, kvHeadCount, vocabularySize)
    }

    init(_ c: ModelConfig) {
        self.init(layerCount: c.layerCount, hiddenSize: c.hiddenSize, headCount: c.headCount, kvHeadCount: c.kvHeadCount, vocabularySize: c.vocabularySize)
    }

    init(_ d: [String: Double]) {
        self.init(layerCount: Int(d["layers"] ?? 0), hiddenSize: Int(d["hidden_size"] ?? 0), headCount: Int(d["heads"] ?? 0),
                  kvHeadCount: Int(d["kv_heads"] ?? 0), vocabularySize: Int(d["vocab_size"] ?? 0))
    }

    var dictionary: [String: Double] {
        ["layers": Double(layerCount), "hidden_size": Double(hiddenSize), "heads": Double(headCount),
         "kv_heads": Double(kvHeadCount), "vocab_size": Double(vocabularySize)]
    }
}

struct CoTReport {
    let parameters: CoTVocabAlignment.Parameters
    let model: String
    let config: ModelShape
    /// One entry per training seed; the per-layer tables show the first, the conclusions use all of them.
    let runs: [SeedRun]
    let targets: TargetTokens
    let wallSeconds: Double

    var stages: [StageResult] { runs.first?.stages ?? [] }
    var dataCounts: [String: Int] {
        guard let d = runs.first?.data else { return [:] }
        return ["train": d.train, "valid": d.valid, "test": d.test]
    }
    static let stageNames = ["baseline", "direct_sft", "cot_sft"]
    static let comparisons = [("cot_sft", "baseline"), ("cot_sft", "direct_sft"), ("direct_sft", "baseline")]
    static func stage(_ run: SeedRun, _ name: String) -> StageResult? { run.stages.first { $0.name == name } }

    static let stageTitles = ["baseline": "Baseline", "direct_sft": "Direct SFT", "cot_sft": "CoT SFT"]
    func title(_ s: StageResult) -> String { Self.stageTitles[s.name] ?? s.name }
    func stage(_ name: String) -> StageResult? { stages.first { $0.name == name } }

    /// The original experiment's check layers: Int(p × n_layers).
    var checkLayers: [(pct: Double, index: Int)] {
        parameters.checkLayersPct.map { ($0, LayerSelection.index(fraction: $0, layerCount: config.layerCount)) }
    }
    var lastLayer: Int { config.layerCount - 1 }
    var heldoutN: Int { stages.first?.accuracyHeldout.n ?? 0 }

    func row(_ s: StageResult, _ index: Int) -> LayerRow? { s.layers.first { $0.index == index } }

    /// Largest mean task probability over the check layers (the original experiment's "Max Vocab Alignment").
    func maxAlignment(_ s: StageResult) -> (value: Double, layer: String) {
        var best = (value: -1.0, layer: "-")
        for (_, i) in checkLayers { if let r = row(s, i), r.meanTaskProb > best.value { best = (r.meanTaskProb, r.name) } }
        return best
    }

    // MARK: Positive control

    struct PositiveControl: Codable {
        var stage: String
        var layer: String
        var lensTaskAccuracy: Double
        var top1Rate: Double
        var meanTaskProb: Double
        var criterion: String
        var passed: Bool
        enum CodingKeys: String, CodingKey {
            case stage, layer, criterion, passed
            case lensTaskAccuracy = "lens_task_accuracy", top1Rate = "top1_rate", meanTaskProb = "mean_task_prob"
        }
    }

    /// A model trained on "a op b = opname: r" must put its operation word first at its last layer.
    var positiveControl: PositiveControl { positiveControl(runs.first) }

    func positiveControl(_ run: SeedRun?) -> PositiveControl {
        let r = run.flatMap { Self.stage($0, "cot_sft") }.flatMap { row($0, lastLayer) }
        let acc = r?.lensTaskAccuracy ?? 0, top1 = r?.top1Rate ?? 0
        return PositiveControl(stage: "cot_sft", layer: "L\(lastLayer)", lensTaskAccuracy: acc, top1Rate: top1,
                               meanTaskProb: r?.meanTaskProb ?? 0,
                               criterion: "at the last layer, the prompt's own operation word outscores the other two for at least 80% of held-out prompts and is the arg-max token for at least 50%",
                               passed: acc >= 0.8 && top1 >= 0.5)
    }

    // MARK: Paired tests and across-seed figures

    /// The paired tests of one run: answer accuracy per pair of stages (Holm over the three pairs), and lens task
    /// accuracy per layer (Holm over the layers of each pair), all on the same held-out prompts.
    func pairedTests(_ run: SeedRun) -> [PairedTest] {
        var answer: [PairedTest] = []
        var lens: [PairedTest] = []
        for (a, b) in Self.comparisons {
            guard let sa = Self.stage(run, a), let sb = Self.stage(run, b) else { continue }
            if let ca = sa.heldoutCorrect, let cb = sb.heldoutCorrect, ca.count == cb.count {
                answer.append(PairedTest(measure: "answer_accuracy", layer: nil, a: a, b: b,
                                         outcomesA: PairedOutcomes.decode(ca), outcomesB: PairedOutcomes.decode(cb)))
            }
            var family: [PairedTest] = []
            for ra in sa.layers {
                guard let rb = row(sb, ra.index), let la = ra.lensCorrect, let lb = rb.lensCorrect, la.count == lb.count else { continue }
                family.append(PairedTest(measure: "lens_task_accuracy", layer: ra.name, a: a, b: b,
                                         outcomesA: PairedOutcomes.decode(la), outcomesB: PairedOutcomes.decode(lb)))
            }
            lens += PairedTest.holmAdjusted(family)
        }
        return PairedTest.holmAdjusted(answer) + lens
    }

    /// The first layer (not embed) whose lens task accuracy reaches 80% in a stage's primary rows.
    static func firstReadableLayer(_ s: StageResult) -> LayerRow? { s.layers.first { $0.index >= 0 && $0.lensTaskAccuracy >= 0.8 } }

    /// The same through the tuned lens (prompt end, primary form), nil when no tuned lens was read.
    func firstTunedReadableLayer(_ s: StageResult) -> Int? {
        s.tunedLens?.positions.first { $0.position == "prompt_end" }?.forms[targets.primaryForm]?
            .first { $0.index >= 0 && $0.lensTaskAccuracy >= 0.8 }?.index
    }

    /// The first layer (not embed) where the cross-validated probe reaches 90% with selectivity ≥ 0.3 against the
    /// Hewitt–Liang control task (the shuffled-label control where no control task was run).
    static func firstProbeLayer(_ s: StageResult) -> LayerRow? {
        s.layers.first { $0.index >= 0 && $0.probeAccuracy >= 0.9 && $0.probeAccuracy - ($0.probeControlTaskAccuracy ?? $0.probeControlAccuracy) >= 0.3 }
    }

    var acrossSeeds: AcrossSeeds {
        var accuracy: [String: Statistics.MeanInterval] = [:]
        var firstLayer: [String: AcrossSeeds.LayerFigure] = [:]
        var nextToken: [String: AcrossSeeds.LayerFigure] = [:]
        for name in Self.stageNames {
            let values = runs.compactMap { Self.stage($0, name)?.accuracyHeldout.value }
            if !values.isEmpty { accuracy[name] = Statistics.meanInterval(values).clipped(to: 0...1) }
            let first = runs.map { Self.stage($0, name).flatMap(Self.firstReadableLayer).map(\.index) }
            firstLayer[name] = AcrossSeeds.LayerFigure(perSeed: first)
            let next = runs.map { run -> Int? in
                guard let layer = Self.stage(run, name)?.nextToken?.firstLayer80 else { return nil }
                return Int(layer.dropFirst())
            }
            nextToken[name] = AcrossSeeds.LayerFigure(perSeed: next)
        }
        let gaps = runs.compactMap { run -> Double? in
            guard let d = Self.stage(run, "direct_sft"), let c = Self.stage(run, "cot_sft") else { return nil }
            return d.accuracyHeldout.value - c.accuracyHeldout.value
        }
        var tuned: [String: AcrossSeeds.LayerFigure] = [:], probe: [String: AcrossSeeds.LayerFigure] = [:]
        let hasTuned = runs.contains { $0.stages.contains { $0.tunedLens != nil } }
        for name in Self.stageNames {
            if hasTuned { tuned[name] = AcrossSeeds.LayerFigure(perSeed: runs.map { Self.stage($0, name).flatMap(firstTunedReadableLayer) }) }
            probe[name] = AcrossSeeds.LayerFigure(perSeed: runs.map { Self.stage($0, name).flatMap(Self.firstProbeLayer)?.index })
        }
        var across = AcrossSeeds(seeds: runs.map(\.seed), heldoutAccuracy: accuracy,
                                 directMinusCoT: gaps.isEmpty ? nil : Statistics.meanInterval(gaps).clipped(to: -1...1),
                                 firstLensLayer80: firstLayer, nextTokenLayer80: nextToken,
                                 positiveControlPassed: runs.map { positiveControl($0).passed })
        across.tunedFirstLensLayer80 = hasTuned ? tuned : nil
        across.probeFirstLayer90 = probe
        return across
    }

    // MARK: Conclusions

    var conclusions: [String] {
        var out: [String] = []
        guard !runs.isEmpty, stage("baseline") != nil else { return out }
        func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
        func points(_ v: Double) -> String { String(format: "%+.1f", v * 100) }
        // Every figure this prints is a proportion: its t-interval is clipped to [0, 1].
        func meanText(_ raw: Statistics.MeanInterval) -> String {
            let m = raw.clipped(to: 0...1)
            // The base model's figures do not depend on the training seed: equal in every seed, no interval to give.
            if m.n > 1, m.high - m.low < 1e-12 { return "\(pct(m.mean)) (the same in all \(m.n) seeds)" }
            return m.n > 1 ? "\(pct(m.mean)) (95% t-interval \(pct(m.low))–\(pct(m.high)) over \(m.n) seeds)" : "\(pct(m.mean)) (one seed: no spread known)"
        }
        // How many seeds a layer figure leaves out (their mean is over the seeds that reach the threshold).
        func reachText(_ missing: Int) -> String {
            missing == 0 ? (runs.count == 1 ? "the one seed reaches it" : "every seed reaches it") : "\(missing) of \(runs.count) seeds never reach it"
        }
        // A layer's interval stays within the layers that exist (embed is -1).
        func layerLow(_ m: Statistics.MeanInterval) -> Double { max(-1, m.low) }
        func layerHigh(_ m: Statistics.MeanInterval) -> Double { min(Double(config.layerCount - 1), m.high) }
        let across = acrossSeeds
        let n = heldoutN, seeds = runs.count
        let tests = runs.map(pairedTests)

        let passed = across.positiveControlPassed.filter { $0 }.count
        if passed < seeds {
            out.append("The positive control FAILED in \(seeds - passed) of \(seeds) seeds: after CoT training the last layer (L\(lastLayer)) does not read the prompt's operation word first for most prompts. The CoT model did not learn to emit the operation word there, so the alignment numbers below measure a training or measurement failure, not the absence of vocabulary alignment.")
        } else {
            let c = positiveControl
            out.append("The positive control passed in \(seeds == 1 ? "the one seed" : "all \(seeds) seeds"): after CoT training the last layer (L\(lastLayer)) reads the prompt's operation word first (first seed: top-1 for \(pct(c.top1Rate)) of prompts, lens task accuracy \(pct(c.lensTaskAccuracy))), so the lens does see operation words where the model uses them.")
        }
        // Answer accuracy: means across seeds, and the exact paired tests of each seed.
        for name in ["direct_sft", "cot_sft"] {
            guard let m = across.heldoutAccuracy[name], let b = across.heldoutAccuracy["baseline"] else { continue }
            let perSeed = tests.map { t in t.first { $0.measure == "answer_accuracy" && $0.a == name && $0.b == "baseline" } }
            let significant = perSeed.compactMap { $0 }.filter { $0.pHolm < 0.05 }
            var sentence = "\(Self.stageTitles[name]!) held-out accuracy is \(meanText(m)) against the baseline's \(meanText(b)); "
            sentence += "exact McNemar on the same \(n) prompts (Holm over the three stage pairs): "
            sentence += significant.count == seeds ? "different in every seed (largest adjusted p = \(String(format: "%.2g", significant.map(\.pHolm).max() ?? 1)))."
                : significant.isEmpty ? "no difference detected at n=\(n) in any seed." : "different in \(significant.count) of \(seeds) seeds, no difference detected at n=\(n) in the others."
            out.append(sentence)
        }
        for variant in ["few_shot", "chat_template"] {
            let values = runs.compactMap { $0.baselines?[variant]?.value }
            guard !values.isEmpty, let zero = across.heldoutAccuracy["baseline"] else { continue }
            let label = variant == "few_shot" ? "With three solved examples before the prompt" : "With the chat template (answer: the reply's last integer)"
            out.append("\(label), the base model's held-out accuracy is \(meanText(Statistics.meanInterval(values))), against \(meanText(zero)) zero-shot on the bare prompt.")
        }
        if let gap = across.directMinusCoT {
            let perSeed = tests.compactMap { t in t.first { $0.measure == "answer_accuracy" && $0.a == "cot_sft" && $0.b == "direct_sft" } }
            let p = perSeed.map { String(format: "%.2g", $0.pHolm) }.joined(separator: ", ")
            var sentence = "Direct minus CoT held-out accuracy: \(points(gap.mean)) points"
            if gap.n > 1 {
                sentence += " (95% t-interval \(points(gap.low)) to \(points(gap.high)) over \(gap.n) seeds)"
                sentence += gap.low > 0 ? ": direct training answers better." : gap.high < 0 ? ": CoT training answers better." : ": the interval contains 0, so no difference between the two trainings is detected across seeds."
            } else {
                sentence += " in a single seed: one run cannot order the two trainings."
            }
            sentence += " Per seed, exact McNemar adjusted p = \(p)."
            out.append(sentence)
        }
        // Where the CoT model's operation word becomes readable, against an ordinary next token's depth.
        if let first = across.firstLensLayer80["cot_sft"] {
            let depth = { (i: Double) in String(format: "%.0f%%", (i + 1) / Double(config.layerCount) * 100) }
            if let m = first.interval {
                var sentence = "After CoT training the operation word is readable through the vocabulary at the prompt's end (lens task accuracy ≥ 80%, \(targets.primaryForm) form) from layer L\(String(format: "%.1f", m.mean))"
                sentence += m.n > 1 ? String(format: " on average (95%% t-interval L%.1f–L%.1f; per seed ", layerLow(m), layerHigh(m)) + first.text + ")" : " (one seed)"
                sentence += ", \(depth(m.mean)) of depth; \(reachText(first.missing))."
                if let next = across.nextTokenLayer80["cot_sft"]?.interval {
                    sentence += String(format: " The yardstick, the CoT model's own next token before the answer (mostly its first digit), becomes the lens's arg-max for 80%% of prompts from L%.1f on average", next.mean)
                    // At the prompt's end the operation word is the CoT model's next token too: both figures are
                    // outputs forming, so the comparison says how early one output appears, not that it is a classifier.
                    let gap = next.mean - m.mean
                    sentence += abs(gap) < 1 ? ": the operation word appears no earlier than an ordinary next token — at the prompt's end it is the output being formed, not an intermediate classifier."
                        : String(format: ": the operation word, itself the CoT model's next token at the prompt's end, is readable %.1f layers %@ than the digit; both are outputs forming in the last blocks, so this is not an intermediate classifier (the operator and after-\"opname:\" positions below test that).", abs(gap), gap > 0 ? "earlier" : "later")
                }
                out.append(sentence)
            } else {
                out.append("After CoT training no layer reads the operation word through the vocabulary for 80% of prompts in any seed.")
            }
        }
        // The positions where the word is NOT the next token: the real test of an intermediate, vocabulary-aligned classifier.
        for position in ["operator", "after_opname"] {
            let best = runs.compactMap { run -> (String, Double)? in
                guard let rows = Self.stage(run, "cot_sft")?.positions?.first(where: { $0.position == position })?.forms[targets.primaryForm] else { return nil }
                return rows.filter { $0.index >= 0 && $0.index < lastLayer }.map { ($0.name, $0.lensTaskAccuracy) }.max { $0.1 < $1.1 }
            }
            guard !best.isEmpty else { continue }
            let m = Statistics.meanInterval(best.map(\.1))
            out.append("At the \(position == "operator" ? "operator token" : "position after \"opname:\" (next token: the answer)"), the CoT model's best intermediate lens task accuracy is \(meanText(m)) (per seed: \(best.map { "\(pct($0.1)) at \($0.0)" }.joined(separator: ", ")); chance 33.3%).")
        }
        // Paired lens tests between stages at every intermediate layer.
        for (a, b) in [("cot_sft", "baseline"), ("cot_sft", "direct_sft")] {
            let perSeed = tests.map { t in
                t.filter { $0.measure == "lens_task_accuracy" && $0.a == a && $0.b == b && $0.layer != "L\(lastLayer)" && $0.layer != "embed" }
            }
            let higher = perSeed.map { $0.filter { $0.pHolm < 0.05 && $0.accuracyA > $0.accuracyB }.count }
            let lower = perSeed.map { $0.filter { $0.pHolm < 0.05 && $0.accuracyA < $0.accuracyB }.count }
            let layers = perSeed.first?.count ?? 0
            out.append("Against \(Self.stageTitles[b]!), at the \(layers) intermediate layers (exact McNemar on the same \(n) prompts, Holm-adjusted over layers): CoT training raised lens task accuracy at \(higher.map(String.init).joined(separator: "/")) layers and lowered it at \(lower.map(String.init).joined(separator: "/")) (per seed); no difference detected at n=\(n) at the others.")
        }
        // Centred accuracy: does the picture survive removing each word's average advantage?
        for name in Self.stageNames {
            let best = runs.compactMap { run -> Double? in
                Self.stage(run, name)?.layers.filter { $0.index >= 0 && $0.index < lastLayer }.compactMap(\.centredTaskAccuracy).max()
            }
            guard !best.isEmpty else { continue }
            out.append("\(Self.stageTitles[name]!): the best intermediate lens task accuracy on centred logits (each word's mean over prompts subtracted) is \(meanText(Statistics.meanInterval(best))).")
        }
        // Probe versus lens: where the task is linearly decodable, across seeds, with what the probe could be using.
        for name in Self.stageNames {
            guard let figure = across.probeFirstLayer90?[name] else { continue }
            let rows = runs.compactMap { Self.stage($0, name).flatMap(Self.firstProbeLayer) }
            let probeN = runs.compactMap { Self.stage($0, name)?.probeCV?.n }.first
            let setText = probeN.map { " (\($0)-prompt balanced probe set, \(parameters.probeFolds)-fold CV grouped by operand pair)" } ?? ""
            if let m = figure.interval {
                var sentence = "\(Self.stageTitles[name]!): a cross-validated linear probe\(setText) decodes the task from layer L\(String(format: "%.1f", m.mean))"
                sentence += m.n > 1 ? String(format: " on average (95%% t-interval L%.1f–L%.1f; per seed ", layerLow(m), layerHigh(m)) + figure.text + ")" : " (one seed)"
                func meanAt(_ value: (LayerRow) -> Double?) -> String {
                    let v = rows.compactMap(value).filter(\.isFinite)
                    return v.isEmpty ? "–" : meanText(Statistics.meanInterval(v).clipped(to: 0...1))
                }
                sentence += "; at that layer accuracy \(meanAt { $0.probeAccuracy }), Hewitt–Liang control task \(meanAt { $0.probeControlTaskAccuracy })"
                sentence += ", first-operand negative control \(meanAt { $0.probeFirstOperandAccuracy }) (chance 33.3%)"
                sentence += "; \(reachText(figure.missing))"
                sentence += parameters.matchedRanges ? "." : "; the operator token is in the prompt and the operand ranges differ per operation, so this shows the label is present, not where the model computes it."
                out.append(sentence)
            } else {
                let best = runs.compactMap { Self.stage($0, name)?.layers.filter { $0.index >= 0 }.map(\.probeAccuracy).max() }
                out.append("\(Self.stageTitles[name]!): no layer reaches 90% cross-validated probe accuracy with selectivity ≥ 0.3 in any seed (best per seed \(best.map(pct).joined(separator: ", "))).")
            }
        }
        // The tuned lens beside the logit lens, when one was read.
        if let tuned = across.tunedFirstLensLayer80?["cot_sft"], let logit = across.firstLensLayer80["cot_sft"] {
            func figure(_ f: AcrossSeeds.LayerFigure) -> String {
                guard let m = f.interval else { return "no layer in any seed" }
                return String(format: "L%.1f", m.mean) + (m.n > 1 ? String(format: " (95%% t-interval L%.1f–L%.1f)", layerLow(m), layerHigh(m)) : "") + " (per seed \(f.text))"
            }
            var sentence = "Through the tuned lens, the CoT model's operation word reaches 80% lens task accuracy at the prompt's end from \(figure(tuned)), against \(figure(logit)) through the logit lens"
            if let t = tuned.interval, let l = logit.interval {
                sentence += t.mean < l.mean - 1 ? ": the tuned lens reads it earlier, so part of the logit lens's late reading is the lens's own mismatch with intermediate layers." : t.mean > l.mean + 1 ? ": the tuned lens reads it later." : ": within a layer of each other."
            } else { sentence += "." }
            out.append(sentence)
        }
        // The reference prompts: what each is, so that no reader takes a trained-on prompt for a held-out one.
        if let first = runs.first {
            var byKind: [ProblemProvenance: Int] = [:]
            for r in first.referenceProvenance { byKind[r.provenance, default: 0] += 1 }
            let parts = ProblemProvenance.allCases.compactMap { k in byKind[k].map { "\($0) \(k.rawValue)" } }
            out.append("The \(first.referenceProvenance.count) reference prompts are \(parts.joined(separator: ", ")) (seed \(first.seed)); only held-out ones count in the summary table.")
        }
        return out
    }

    // MARK: results.json

    struct SummaryRow: Codable {
        var stage: String
        /// The first seed's held-out accuracy with its Wilson interval.
        var accuracy: Proportion
        /// Over the reference prompts that are held out only (n = 0 when none is).
        var accuracyReferencePrompts: Proportion
        var maxVocabAlignment: Double
        var maxVocabAlignmentLayer: String
        /// Held-out accuracy across seeds.
        var accuracyAcrossSeeds: Statistics.MeanInterval?
        enum CodingKeys: String, CodingKey {
            case stage, accuracy
            case accuracyReferencePrompts = "accuracy_seed_prompts"
            case maxVocabAlignment = "max_vocab_alignment"
            case maxVocabAlignmentLayer = "max_vocab_alignment_layer"
            case accuracyAcrossSeeds = "accuracy_across_seeds"
        }
    }

    /// One seed's record in results.json.
    struct PerSeed: Codable {
        var seed: Int
        var dataSeed: Int
        var data: DataCounts
        var referenceProvenance: [ReferenceProvenance]
        var stages: [String: StageResult]
        var pairedTests: [PairedTest]
        var baselines: [String: Proportion]?
        enum CodingKeys: String, CodingKey {
            case seed, dataSeed = "data_seed", data, referenceProvenance = "reference_provenance", stages, pairedTests = "paired_tests", baselines
        }
    }

    /// The reference prompts' outcomes restricted to the held-out ones.
    func heldOutReferenceAccuracy(_ s: StageResult) -> Proportion {
        guard let provenance = runs.first?.referenceProvenance else { return Proportion(successes: 0, n: 0) }
        let kept = zip(s.referencePromptOutcomes, provenance).filter { $0.1.provenance == .heldOut }.map(\.0)
        return Proportion(successes: kept.filter(\.correct).count, n: kept.count)
    }

    struct CheckLayer: Codable { var pct: Double; var index: Int; var name: String }

    struct Summary: Codable {
        var positiveControlPassed: Bool
        var positiveControl: PositiveControl
        var table: [SummaryRow]
        var checkLayers: [CheckLayer]
        var conclusions: [String]
        enum CodingKeys: String, CodingKey {
            case positiveControlPassed = "positive_control_passed", positiveControl = "positive_control"
            case table, checkLayers = "check_layers", conclusions
        }
    }

    struct Results: Codable {
        var schema: String
        var experiment: String
        var model: String
        var modelConfig: [String: Double]
        var parameters: CoTVocabAlignment.Parameters
        var data: [String: Int]
        var stages: [String: StageResult]
        var summary: Summary
        var timings: [String: Double]
        var targetTokens: TargetTokens
        var perSeed: [PerSeed]
        var acrossSeeds: AcrossSeeds
        enum CodingKeys: String, CodingKey {
            case schema, experiment, model, modelConfig = "model_config", parameters, data, stages, summary, timings
            case targetTokens = "target_tokens", perSeed = "per_seed", acrossSeeds = "across_seeds"
        }
    }

    var summaryTable: [SummaryRow] {
        let across = acrossSeeds
        return stages.map { s in
            let m = maxAlignment(s)
            return SummaryRow(stage: s.name, accuracy: s.accuracyHeldout, accuracyReferencePrompts: heldOutReferenceAccuracy(s),
                              maxVocabAlignment: m.value, maxVocabAlignmentLayer: m.layer, accuracyAcrossSeeds: across.heldoutAccuracy[s.name])
        }
    }

    var results: Results {
        Results(
            schema: "lazarus.cot_vocab_alignment.v2", experiment: CoTVocabAlignment.name, model: model,
            modelConfig: config.dictionary,
            parameters: parameters, data: dataCounts,
            stages: Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) }),
            summary: Summary(positiveControlPassed: positiveControl.passed, positiveControl: positiveControl, table: summaryTable,
                             checkLayers: checkLayers.map { CheckLayer(pct: $0.pct, index: $0.index, name: "L\($0.index)") },
                             conclusions: conclusions),
            timings: ["wall_s": wallSeconds], targetTokens: targets,
            perSeed: runs.map { r in
                PerSeed(seed: r.seed, dataSeed: r.dataSeed, data: r.data, referenceProvenance: r.referenceProvenance,
                        stages: Dictionary(uniqueKeysWithValues: r.stages.map { ($0.name, $0) }), pairedTests: pairedTests(r), baselines: r.baselines)
            },
            acrossSeeds: acrossSeeds)
    }

    // MARK: report.md

    func markdown() -> String {
        func pct(_ v: Double, _ digits: Int = 1) -> String { v.isNaN ? "–" : String(format: "%.\(digits)f%%", v * 100) }
        // Probabilities span many orders of magnitude below 0.01%; scientific notation keeps them visible.
        func prob(_ v: Double) -> String {
            if v.isNaN { return "–" }
            return v == 0 || v >= 1e-4 ? String(format: "%.2f%%", v * 100) : String(format: "%.1e%%", v * 100)
        }
        var md = "# cot_vocab_alignment — results\n\n"
        md += "Model: `\(model)` (\(config.layerCount) blocks, width \(config.hiddenSize), vocabulary \(config.vocabularySize)). "
        let d = runs.first?.data
        md += "Prompt style: `\(parameters.promptStyle.rawValue)`. Training seeds: \(runs.map { String($0.seed) }.joined(separator: ", "))"
        md += parameters.varyDataSeed ? " (each with its own data)" : " (data seed \(parameters.seed) for all)"
        md += ". Operand ranges: \(parameters.matchedRanges ? "matched (a ≥ b in \(ArithmeticOperation.matchedRange.lowerBound)…\(ArithmeticOperation.matchedRange.upperBound) for every operation)" : "the original experiment's (multiply 2…12; add, subtract 1…50)"). "
        md += "Loss on \(parameters.maskPrompt ? "the completion only (mask_prompt)" : "every token"). "
        if let d {
            md += "Data: \(d.train) training problems drawn, \(d.examplesSeen) examples seen (\(parameters.maxSteps) steps × batch \(parameters.batchSize), \(String(format: "%.2f", d.epochs)) epochs), "
            md += "distinct problems seen per operation: " + ArithmeticOperation.allCases.map { "\($0.rawValue) \(d.distinctSeenProblems[$0.rawValue] ?? 0) (of \(d.distinctTrainingProblems[$0.rawValue] ?? 0) drawn)" }.joined(separator: ", ")
            md += "; \(d.valid) validation and \(d.test) held-out test problems, split from training by unordered operand pair"
            md += heldOutCapNote(requested: parameters.evalSamples, drawn: d.test).map { " (\($0))" } ?? ""
            md += ". "
        }
        md += "LoRA r\(parameters.lora.rank) α\(Int(parameters.lora.alpha)) on "
        md += "\(parameters.lora.targets.joined(separator: ", ")), \(parameters.maxSteps) steps, batch \(parameters.batchSize), lr \(parameters.learningRate).\n"
        // Stages reused from the cache cost this run nothing: say what they took when they ran.
        // One baseline evaluation serves every training seed of a data seed: counted once per data seed.
        var seenBaselines = Set<Int>()
        let stages = runs.flatMap { run in run.stages.filter { $0.name != "baseline" || seenBaselines.insert(run.dataSeed).inserted } }
        let trainingSeconds = stages.compactMap { $0.training?.seconds }.reduce(0, +)
        let evaluationSeconds = stages.map(\.evaluationSeconds).reduce(0, +)
        md += String(format: "Wall time: %.1f min on %d cores; the stages took %.1f min of training and %.1f min of evaluation when they ran (a stage reused from the cache costs a run nothing; see log.txt).\n\n",
                     wallSeconds / 60, ProcessInfo.processInfo.activeProcessorCount, trainingSeconds / 60, evaluationSeconds / 60)

        md += "## Summary\n\n| Stage | Held-out accuracy across seeds (mean, 95% t-interval) | First seed (95% Wilson) | Held-out reference prompts | Max Vocab Alignment (first seed) |\n|---|---|---|---|---|\n"
        for r in summaryTable {
            let s = stage(r.stage)!
            let across = r.accuracyAcrossSeeds.map { $0.n > 1 ? "\(pct($0.mean)) [\(pct($0.low))–\(pct($0.high))] (\($0.n) seeds)" : "\(pct($0.mean)) (1 seed)" } ?? "–"
            md += "| \(title(s)) | \(across) | \(pct(r.accuracy.value)) [\(pct(r.accuracy.low))–\(pct(r.accuracy.high))] (n=\(r.accuracy.n)) | "
            md += "\(r.accuracyReferencePrompts.n > 0 ? "\(r.accuracyReferencePrompts.successes)/\(r.accuracyReferencePrompts.n)" : "none held out") | \(prob(r.maxVocabAlignment)) (\(r.maxVocabAlignmentLayer)) |\n"
        }
        if let b = runs.first?.baselines, !b.isEmpty {
            md += "\nBaseline variants (first seed, answers only): " + b.keys.sorted().map { k in
                "\(k == "few_shot" ? "three solved examples before the prompt" : "chat template") \(pct(b[k]!.value)) [\(pct(b[k]!.low))–\(pct(b[k]!.high))]"
            }.joined(separator: "; ") + ".\n"
        }
        md += "\nMax Vocab Alignment is the largest mean probability of the prompt's own operation word over the original experiment's layers "
        md += "(the \(targets.primaryForm) form, the token the model faces after the prompt). Reference prompts count here only when held out.\n\n"
        md += "Word forms (first token of each): " + CoTVocabAlignment.tasks.map { task in
            let f = targets.forms[task] ?? [:]
            return ["bare", "spaced"].compactMap { k in f[k].map { "`\($0.text.replacingOccurrences(of: " ", with: "␣"))` → \($0.id) `\($0.piece)`" } }.joined(separator: ", ")
        }.joined(separator: "; ") + ".\n\n"

        md += "## Conclusions\n\n" + conclusions.map { "- \($0)" }.joined(separator: "\n") + "\n\n"

        md += acrossSeedsMarkdown(pct)
        md += positionsMarkdown(pct)
        md += pairedMarkdown()
        md += "## Per-layer vocabulary alignment (the original experiment's layers)\n\n| Layer | " + stages.map(title).joined(separator: " | ") + " |\n"
        md += "|---|" + stages.map { _ in "---|" }.joined() + "\n"
        for (p, i) in checkLayers {
            md += "| L\(i) (\(Int((p * 100).rounded()))%) | " + stages.map { s in row(s, i).map { prob($0.meanTaskProb) } ?? "–" }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Positive control\n\n"
        let c = positiveControl
        md += "\(c.passed ? "**Passed.**" : "**FAILED** — a measurement or training failure, not a finding.") Criterion: \(c.criterion). "
        md += "Measured at \(c.layer) after CoT training: lens task accuracy \(pct(c.lensTaskAccuracy)), top-1 rate \(pct(c.top1Rate)), mean task probability \(prob(c.meanTaskProb)).\n\n"

        md += "## Full depth (first seed)\n\nPer layer: mean task probability (P), lens task accuracy (Lens), top-1 rate (Top1), probe accuracy (Probe, with the shuffled-label control / the Hewitt–Liang control task / the first-operand negative control in brackets).\n\n"
        md += "| Layer | " + stages.map { "\(title($0)) P | Lens | Top1 | Probe" }.joined(separator: " | ") + " |\n"
        md += "|---|" + stages.map { _ in "---|---|---|---|" }.joined() + "\n"
        for l in stages.first?.layers ?? [] {
            md += "| \(l.name) | " + stages.map { s in
                guard let r = row(s, l.index) else { return "– | – | – | –" }
                let controls = [r.probeControlAccuracy, r.probeControlTaskAccuracy ?? .nan, r.probeFirstOperandAccuracy ?? .nan].map { pct($0) }.joined(separator: " / ")
                return "\(prob(r.meanTaskProb)) | \(pct(r.lensTaskAccuracy)) | \(pct(r.top1Rate)) | \(pct(r.probeAccuracy)) (\(controls))"
            }.joined(separator: " | ") + " |\n"
        }
        md += probesMarkdown(pct)
        md += tunedLensMarkdown(pct)
        md += routingMarkdown(pct)
        md += "\n## Training\n\nThe validation loss covers each format's whole text (or its completion with mask_prompt), so it differs between formats; the answer-token loss covers the same tokens (the answer and the end token) in both.\n\n"
        md += "| Seed | Stage | Steps | Epochs | First train loss | Last train loss | Last validation loss | Answer-token validation loss | Tokens/s |\n|---|---|---|---|---|---|---|---|---|\n"
        for run in runs {
            for s in run.stages {
                guard let t = s.training else { continue }
                md += "| \(run.seed) | \(title(s)) | \(t.steps) | \(t.epochs.map { String(format: "%.2f", $0) } ?? "–") | \(t.trainLoss.first.map { String(format: "%.3f", $0.loss) } ?? "–") | "
                md += "\(t.trainLoss.last.map { String(format: "%.3f", $0.loss) } ?? "–") | \(t.validLoss.last.map { String(format: "%.3f", $0.loss) } ?? "–") | "
                md += "\(t.answerValidLoss.map { String(format: "%.3f", $0) } ?? "–") | "
                md += String(format: "%.0f |\n", t.tokensPerSecond)
            }
        }
        md += "\n## Reference prompts (the original experiment's nine)\n\nWhere each stands against the first seed's data (in-training: it or its commuted form was among the examples seen).\n\n| Prompt | Expected | Provenance | " + stages.map(title).joined(separator: " | ") + " |\n|---|---|---|" + stages.map { _ in "---|" }.joined() + "\n"
        let provenance = runs.first?.referenceProvenance ?? []
        for (i, tp) in parameters.testPrompts.enumerated() {
            let kind = i < provenance.count ? provenance[i].provenance.rawValue : "–"
            md += "| `\(CoTVocabAlignment.styled(tp.input, parameters.promptStyle))` | \(tp.expected) | \(kind) | " + stages.map { s in
                guard i < s.referencePromptOutcomes.count else { return "–" }
                let o = s.referencePromptOutcomes[i]
                let shown = o.generated.replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "|", with: "\\|")
                return "\(o.correct ? "✓" : "✗") `\(shown.prefix(28))`"
            }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Plots\n\n![alignment by depth](alignment_by_depth.svg)\n\n![lens task accuracy by depth](lens_accuracy_by_depth.svg)\n\n"
        md += "![probe accuracy by depth](probe_accuracy_by_depth.svg)\n\n"
        if acrossSeeds.tunedFirstLensLayer80 != nil { md += "![tuned vs logit lens](tuned_lens_accuracy_by_depth.svg)\n\n" }
        md += "![training loss](training_loss.svg)\n\n"
        md += "## Method\n\n"
        md += "- Accuracy: greedy decoding of at most \(parameters.maxNewTokens) tokens, stopping at a newline or EOS; the answer is the first integer after the last ':' of the first line.\n"
        md += "- Logit lens at layer l: softmax(W_U · FinalNorm(h_l)) at the last prompt token. Mean task probability: the probability of the prompt's own operation word; lens task accuracy: the own word outscores the other two; top-1 rate: the own word's token is the arg-max of the vocabulary.\n"
        md += "- Probe controls: the shuffled-label control (labels permuted once), the Hewitt–Liang control task (a random label fixed per unordered operand pair, the same for every operation, so only memorising operand pairs scores; seed \(parameters.seed)), and the negative control at the first operand's last token (it has seen no operator: near chance only when the operands carry no label, i.e. with matched_ranges). \n"
        md += "- Baseline variants: three solved problems (one per operation, from the training data) before the prompt; the ChatML chat template (when the tokenizer has its special tokens), scored by the reply's last integer.\n"
        let probeSet = stages.first?.probeCV
        md += "- Probe: a ridge classifier (least squares onto one-hot labels, arg-max; closed form in its dual) on hidden states standardised with the training folds' statistics, at the prompt's last token. "
        md += "Probe set: \(probeSet.map { "\($0.n) prompts, \($0.perOperation) per operation, drawn from each operation's whole problem universe (\($0.inTraining) of them share an unordered operand pair with the first seed's training data), \($0.groups) operand-pair groups" } ?? "–"). "
        md += "Why not the held-out prompts alone: \(heldoutN) of them give a probe about \(Int((Double(heldoutN) * 0.2).rounded())) test prompts a split, where every layer sat at the ceiling; the probe asks whether the state at the prompt's end carries the operation, which the operator token in every prompt decides, so a prompt the LoRA trained on is a fair probe input, and the probe's own train and test never share an operand pair. "
        md += "\(parameters.probeFolds)-fold cross-validation, stratified by operation, with folds grouped by unordered operand pair (\"3 * 7\" and \"7 * 3\" never straddle train and test); in each outer fold the L2 penalty λ (objective mean squared error + λ‖W‖²) is chosen from \(parameters.probeL2Grid.map { String(format: "%g", $0) }.joined(separator: ", ")) by \(probeSet?.innerFolds ?? 3)-fold inner cross-validation on the outer training part (grouped the same way; best mean inner accuracy, ties to the larger λ), then refitted on the whole training part. "
        md += "Accuracy is pooled over the out-of-fold predictions (each prompt predicted once); its interval is Wilson's on those pooled predictions, which treats them as independent (the usual approximation; slightly narrow). The chosen λ per layer and fold is in results.json (`probe_l2`). "
        md += "The control task, the shuffled labels and the first-operand negative control go through the same nested CV, each with its own λ.\n"
        md += "- Lens positions: `prompt_end` (the prompt's last token; after a CoT model's \"=\" the next token is the operation word, so this reads the output forming), `operator` (the operator token), `after_opname` (the \":\" after the operation word in CoT text, where the next token is the answer); each stage is read on the same texts. Each word form is measured alone (`bare`, `spaced`) and as the larger of the two (`larger`); tables and tests use the primary form.\n"
        md += "- Centred lens task accuracy: each task's logit minus its mean over the held-out prompts at that layer, then the same three-way comparison (a word that outscores the others on every prompt no longer wins its class's share by default).\n"
        md += "- Next-token yardstick: at the position before the answer's first digit in the stage's own format (\"a op b = \" or \"a op b = opname: \"), the first layer whose lens arg-max equals the model's own final arg-max (the token greedy decoding emits there) for at least 80% of prompts — the same 80% criterion as the operation word's depth.\n"
        md += "- Paired tests: two-sided exact McNemar (binomial on the discordant prompts) between stages on the same held-out prompts; Holm's step-down adjustment over the layers of each pair of stages (lens) and over the three pairs (answers). \"No difference detected at n=…\" means the adjusted p is at least 0.05, not that the stages are equal.\n"
        md += "- Across seeds: means with two-sided 95% Student-t intervals over the training seeds; a layer figure's interval covers the seeds that reach the criterion.\n"
        md += "- Layers are named by block output: L0 is the output of the first block, `embed` the embedding output.\n"
        return md
    }

    /// Per layer and stage (first seed): the cross-validated probe with its Wilson interval and the penalty inner CV
    /// chose most often over the outer folds, and the controls.
    func probesMarkdown(_ pct: (Double, Int) -> String) -> String {
        guard stages.contains(where: { $0.probeCV != nil }) else { return "" }
        func modal(_ l: [Double]?) -> String {
            guard let l, !l.isEmpty else { return "–" }
            let counts = Dictionary(l.map { ($0, 1) }, uniquingKeysWith: +)
            let top = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }!
            return String(format: "%g", top.key) + " (\(top.value)/\(l.count))"
        }
        var md = "\n## Probes (first seed, cross-validated)\n\nPer layer: pooled out-of-fold accuracy [95% Wilson], the λ inner CV chose most often (folds choosing it), then the Hewitt–Liang control task / shuffled labels / first-operand negative control.\n\n"
        md += "| Layer | " + stages.map { "\(title($0)) probe | λ | controls" }.joined(separator: " | ") + " |\n|---|" + stages.map { _ in "---|---|---|" }.joined() + "\n"
        for l in stages.first?.layers ?? [] {
            md += "| \(l.name) | " + stages.map { s in
                guard let r = row(s, l.index) else { return "– | – | –" }
                let interval = r.probeLow.map { lo in " [\(pct(lo, 0))–\(pct(r.probeHigh ?? .nan, 0))]" } ?? ""
                return "\(pct(r.probeAccuracy, 1))\(interval) | \(modal(r.probeL2)) | \(pct(r.probeControlTaskAccuracy ?? .nan, 0)) / \(pct(r.probeControlAccuracy, 0)) / \(pct(r.probeFirstOperandAccuracy ?? .nan, 0))"
            }.joined(separator: " | ") + " |\n"
        }
        if let info = stages.first?.probeCV { md += String(format: "\nOne stage's probe sweep (states and nested CV at every layer) took %.1f s.\n", info.seconds) }
        return md
    }

    /// The tuned lens beside the logit lens at every position (first seed, primary form), when one was read.
    func tunedLensMarkdown(_ pct: (Double, Int) -> String) -> String {
        guard let folder = stages.compactMap({ $0.tunedLens?.folder }).first else { return "" }
        var md = "\n## Tuned lens beside the logit lens (first seed)\n\nTranslators from `\(folder)`. Lens task accuracy (\(targets.primaryForm) form) per layer: logit / tuned, at each position.\n\n"
        let positions = LensPositions.positionNames
        md += "| Layer | " + stages.map { s in positions.map { "\(title(s)) \($0)" }.joined(separator: " | ") }.joined(separator: " | ") + " |\n"
        md += "|---|" + stages.map { _ in positions.map { _ in "---|" }.joined() }.joined() + "\n"
        for l in stages.first?.layers ?? [] {
            md += "| \(l.name) | " + stages.map { s in
                positions.map { name -> String in
                    let logit = s.positions?.first { $0.position == name }?.forms[targets.primaryForm]?.first { $0.index == l.index }?.lensTaskAccuracy
                    let tuned = s.tunedLens?.positions.first { $0.position == name }?.forms[targets.primaryForm]?.first { $0.index == l.index }?.lensTaskAccuracy
                    return "\(pct(logit ?? .nan, 0)) / \(pct(tuned ?? .nan, 0))"
                }.joined(separator: " | ")
            }.joined(separator: " | ") + " |\n"
        }
        for s in stages { if let next = s.tunedLens?.nextToken { md += "\n\(title(s)): through the tuned lens the next-token yardstick reaches 80% from \(next.firstLayer80 ?? "no layer").\n" } }
        return md
    }

    func acrossSeedsMarkdown(_ pct: (Double, Int) -> String) -> String {
        let a = acrossSeeds
        func mean(_ m: Statistics.MeanInterval?) -> String {
            guard let m else { return "–" }
            return m.n > 1 ? "\(pct(m.mean, 1)) [\(pct(m.low, 1))–\(pct(m.high, 1))]" : "\(pct(m.mean, 1)) (n=1)"
        }
        func layers(_ f: AcrossSeeds.LayerFigure?) -> String {
            guard let f else { return "–" }
            let m = f.interval.map { $0.n > 1 ? String(format: "L%.1f [%.1f–%.1f]", $0.mean, $0.low, $0.high) : String(format: "L%.0f", $0.mean) } ?? "none"
            return "\(m) (\(f.text))"
        }
        let tuned = a.tunedFirstLensLayer80 != nil
        var md = "## Across seeds\n\n| Stage | Held-out accuracy | Lens ≥ 80% from (prompt end) |" + (tuned ? " Tuned lens ≥ 80% from |" : "")
        md += " Next token ≥ 80% from | Probe ≥ 90% (selective) from |\n|---|---|---|" + (tuned ? "---|" : "") + "---|---|\n"
        for name in Self.stageNames {
            md += "| \(Self.stageTitles[name]!) | \(mean(a.heldoutAccuracy[name])) | \(layers(a.firstLensLayer80[name])) |"
            if tuned { md += " \(layers(a.tunedFirstLensLayer80?[name])) |" }
            md += " \(layers(a.nextTokenLayer80[name])) | \(layers(a.probeFirstLayer90?[name])) |\n"
        }
        if let g = a.directMinusCoT {
            md += g.n > 1 ? String(format: "\nDirect − CoT accuracy: %+.1f points [%+.1f, %+.1f] over %d seeds.\n\n", g.mean * 100, g.low * 100, g.high * 100, g.n)
                : String(format: "\nDirect − CoT accuracy: %+.1f points (one seed).\n\n", g.mean * 100)
        } else { md += "\n" }
        return md
    }

    func positionsMarkdown(_ pct: (Double, Int) -> String) -> String {
        var md = "## Lens by position and word form (first seed)\n\nLens task accuracy per layer; each cell: bare / spaced / larger form, then the centred accuracy of the primary (\(targets.primaryForm)) form in brackets.\n\n"
        let positions = LensPositions.positionNames
        for s in stages {
            guard let ps = s.positions else { continue }
            md += "### \(title(s))\n\n"
            md += "Example texts: " + ps.map { "`\($0.position)`: `\($0.example)` (ids \($0.exampleTokenIds.map(String.init).joined(separator: " ")))" }.joined(separator: "; ") + ".\n\n"
            md += "| Layer | " + positions.joined(separator: " | ") + " |\n|---|" + positions.map { _ in "---|" }.joined() + "\n"
            for l in s.layers {
                md += "| \(l.name) | " + positions.map { name -> String in
                    guard let p = ps.first(where: { $0.position == name }) else { return "–" }
                    let cells = LensPositions.formNames.map { f in p.forms[f]?.first { $0.index == l.index }.map { pct($0.lensTaskAccuracy, 0) } ?? "–" }
                    let centred = p.forms[targets.primaryForm]?.first { $0.index == l.index }.map { pct($0.centredTaskAccuracy, 0) } ?? "–"
                    return cells.joined(separator: " / ") + " (\(centred))"
                }.joined(separator: " | ") + " |\n"
            }
            if let next = s.nextToken {
                md += "\nNext-token yardstick at `\(next.example)`: the emitted token is a digit for \(pct(next.digitShare, 0)) of prompts; lens arg-max = emitted token for ≥ 80% from \(next.firstLayer80 ?? "no layer").\n"
            }
            if let last = s.positions?.first(where: { $0.position == "prompt_end" })?.forms[targets.primaryForm]?.last {
                let names = CoTVocabAlignment.tasks
                md += "\nConfusion at \(last.name), prompt end (rows: true operation; columns: the word that scores highest, " + names.joined(separator: " / ") + "): "
                md += zip(names, last.confusion).map { "\($0) \($1.map(String.init).joined(separator: "/"))" }.joined(separator: "; ") + ".\n"
            }
            md += "\n"
        }
        return md
    }

    func pairedMarkdown() -> String {
        guard let run = runs.first else { return "" }
        let tests = pairedTests(run)
        var md = "## Paired tests (first seed, n = \(heldoutN) held-out prompts)\n\n| Measure | Layer | A | B | Acc A | Acc B | only A | only B | p | p (Holm) |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for t in tests where t.measure == "answer_accuracy" || t.pHolm < 0.05 || t.layer == "L\(lastLayer)" {
            md += "| \(t.measure) | \(t.layer ?? "–") | \(t.a) | \(t.b) | \(String(format: "%.1f%%", t.accuracyA * 100)) | \(String(format: "%.1f%%", t.accuracyB * 100)) | \(t.onlyA) | \(t.onlyB) | \(String(format: "%.2g", t.p)) | \(String(format: "%.2g", t.pHolm)) |\n"
        }
        md += "\nLens rows are shown where the adjusted p is below 0.05 and at the last layer; every layer's test is in results.json (`per_seed[].paired_tests`).\n\n"
        return md
    }

    // MARK: plots

    func plots() -> [(String, String)] {
        // Each stage: the across-seed mean per layer (thick), and each seed's curve (thin, same colour).
        func curves(_ value: (LayerRow) -> Double, label: String = "", offset: Int = 0) -> [ChartSeries] {
            var out: [ChartSeries] = []
            for (k, name) in Self.stageNames.enumerated() {
                let perSeed = runs.compactMap { Self.stage($0, name) }
                guard let first = perSeed.first else { continue }
                let mean = first.layers.map { l -> (x: Double, y: Double) in
                    let ys = perSeed.compactMap { s in s.layers.first { $0.index == l.index }.map(value) }.filter(\.isFinite)
                    return (Double(l.index), ys.isEmpty ? .nan : ys.reduce(0, +) / Double(ys.count))
                }
                let title = Self.stageTitles[name]! + label
                out.append(ChartSeries(name: runs.count > 1 ? "\(title) (mean of \(perSeed.count))" : title, points: mean, colorIndex: k + offset))
                if runs.count > 1 {
                    out += perSeed.map { s in ChartSeries(name: title, points: s.layers.map { (Double($0.index), value($0)) }, thin: true, colorIndex: k + offset) }
                }
            }
            return out
        }
        func depthChart(_ title: String, _ y: String, _ series: [ChartSeries], probabilities: Bool = false) -> String {
            var chart = SVGLineChart(title: title, xLabel: "layer (embed = -1)", yLabel: y, series: series, yRange: 0...1)
            for l in stages.first?.layers ?? [] { chart.xTickLabels[Double(l.index)] = l.name }
            // Task-word probabilities run from ~1e-14 in early layers to ~1 at the last: only a log axis shows both.
            // Accuracies stay in [0.2, 1] (chance is 1/3), so their axes stay linear.
            if probabilities { chart.yScale = .probability(for: chart.series.flatMap { $0.points.map(\.y) }) }
            return chart.render()
        }
        let seedsNote = runs.count > 1 ? " (\(runs.count) seeds: mean, thin lines per seed)" : ""
        var out: [(String, String)] = []
        out.append(("alignment_by_depth.svg", depthChart("Vocabulary alignment by depth (mean task-word probability)" + seedsNote, "probability",
                                                         curves { $0.meanTaskProb }, probabilities: true)))
        out.append(("lens_accuracy_by_depth.svg", depthChart("Logit-lens task accuracy by depth" + seedsNote, "accuracy", curves { $0.lensTaskAccuracy })))
        let probe = curves { $0.probeAccuracy } + curves({ $0.probeControlTaskAccuracy ?? .nan }, label: " control task", offset: 3)
            + curves({ $0.probeFirstOperandAccuracy ?? .nan }, label: " first operand", offset: 6)
        out.append(("probe_accuracy_by_depth.svg", depthChart("Cross-validated probe accuracy by depth" + seedsNote, "accuracy", probe)))
        if runs.contains(where: { $0.stages.contains { $0.tunedLens != nil } }) {
            var series: [ChartSeries] = []
            for (k, name) in Self.stageNames.enumerated() {
                let perSeed = runs.compactMap { Self.stage($0, name)?.tunedLens?.positions.first { $0.position == "prompt_end" }?.forms[targets.primaryForm] }
                guard let first = perSeed.first else { continue }
                let mean = first.map { l in (x: Double(l.index), y: perSeed.compactMap { rows in rows.first { $0.index == l.index }?.lensTaskAccuracy }.reduce(0, +) / Double(perSeed.count)) }
                series.append(ChartSeries(name: "\(Self.stageTitles[name]!) tuned", points: mean, colorIndex: k))
            }
            series += curves({ $0.lensTaskAccuracy }, label: " logit", offset: 3).filter { !$0.thin }
            out.append(("tuned_lens_accuracy_by_depth.svg", depthChart("Tuned vs logit lens task accuracy at the prompt's end (seed mean)", "accuracy", series)))
        }
        var loss: [ChartSeries] = []
        for (k, name) in Self.stageNames.enumerated() {
            for (j, run) in runs.enumerated() {
                guard let t = Self.stage(run, name)?.training else { continue }
                // One legend entry per stage and split; the other seeds' curves are thin lines in the same colour.
                let label = "\(Self.stageTitles[name]!) train" + (runs.count > 1 ? " (seed \(run.seed); thin: other seeds)" : "")
                loss.append(ChartSeries(name: label, points: t.trainLoss.map { (Double($0.step), $0.loss) }, thin: j > 0, colorIndex: 2 * k))
                if !t.validLoss.isEmpty {
                    loss.append(ChartSeries(name: "\(Self.stageTitles[name]!) valid", points: t.validLoss.map { (Double($0.step), $0.loss) }, thin: j > 0, colorIndex: 2 * k + 1))
                }
            }
        }
        // Losses run from ~4 to ~0.1: within two decades, a linear axis shows them.
        out.append(("training_loss.svg", SVGLineChart(title: "Training loss", xLabel: "step", yLabel: "cross-entropy", series: loss).render()))
        return out
    }
}
