// results.json, report.md and the plots of cot_vocab_alignment, all computed from the measured stages.
// Conclusions are sentences chosen by comparing numbers and their intervals, never written in advance.
import Foundation
import Introspection
import Transformer

struct CoTReport {
    let parameters: CoTVocabAlignment.Parameters
    let model: String
    let config: ModelConfig
    let stages: [StageResult]
    let dataCounts: [String: Int]
    let wallSeconds: Double

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
    var positiveControl: PositiveControl {
        let r = stage("cot_sft").flatMap { row($0, lastLayer) }
        let acc = r?.lensTaskAccuracy ?? 0, top1 = r?.top1Rate ?? 0
        return PositiveControl(stage: "cot_sft", layer: "L\(lastLayer)", lensTaskAccuracy: acc, top1Rate: top1,
                               meanTaskProb: r?.meanTaskProb ?? 0,
                               criterion: "at the last layer, the prompt's own operation word outscores the other two for at least 80% of held-out prompts and is the arg-max token for at least 50%",
                               passed: acc >= 0.8 && top1 >= 0.5)
    }

    // MARK: Conclusions

    var conclusions: [String] {
        var out: [String] = []
        guard let base = stage("baseline") else { return out }
        func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
        func interval(_ p: Proportion) -> String { "\(pct(p.value)) [\(pct(p.low)), \(pct(p.high))], n=\(p.n)" }

        let control = positiveControl
        if !control.passed {
            out.append("The positive control FAILED: after CoT training the last layer (\(control.layer)) reads the prompt's operation word first for only \(pct(control.top1Rate)) of prompts (lens task accuracy \(pct(control.lensTaskAccuracy))). The CoT model did not learn to emit the operation word, so the alignment numbers below measure a training or measurement failure, not the absence of vocabulary alignment.")
        } else {
            out.append("The positive control passed: after CoT training the last layer (\(control.layer)) reads the prompt's operation word first for \(pct(control.top1Rate)) of prompts (lens task accuracy \(pct(control.lensTaskAccuracy))), so the lens does see operation words where the model uses them.")
        }
        for name in ["direct_sft", "cot_sft"] {
            guard let s = stage(name) else { continue }
            let a = s.accuracyHeldout, b = base.accuracyHeldout
            let verdict = a.differs(from: b) ? (a.value > b.value ? "higher than" : "lower than") : "not distinguishable from"
            out.append("\(title(s)) held-out accuracy is \(interval(a)), \(verdict) the baseline's \(interval(b)) (95% Wilson intervals).")
        }
        // Vocabulary alignment at the intermediate layers: every layer before the last.
        let intermediate = Array(0..<lastLayer)
        for other in ["baseline", "direct_sft"] {
            guard let cot = stage("cot_sft"), let ref = stage(other) else { continue }
            var above: [String] = [], below: [String] = []
            for i in intermediate {
                guard let c = row(cot, i), let r = row(ref, i) else { continue }
                let pc = Proportion(successes: Int((c.lensTaskAccuracy * Double(heldoutN)).rounded()), n: heldoutN)
                let pr = Proportion(successes: Int((r.lensTaskAccuracy * Double(heldoutN)).rounded()), n: heldoutN)
                if pc.differs(from: pr) { (pc.value > pr.value ? { above.append(c.name) } : { below.append(c.name) })() }
            }
            let cm = maxAlignment(cot), rm = maxAlignment(ref)
            var sentence = "Against \(title(ref)): CoT training raised the lens task accuracy beyond the 95% intervals at \(above.count) of \(intermediate.count) intermediate layers"
            sentence += above.isEmpty ? "" : " (\(above.prefix(12).joined(separator: ", "))\(above.count > 12 ? ", …" : ""))"
            sentence += below.isEmpty ? "" : ", and lowered it at \(below.count)"
            sentence += String(format: "; max vocabulary alignment over the original experiment's layers is %.3g%% (%@) vs %.3g%% (%@).", cm.value * 100, cm.layer, rm.value * 100, rm.layer)
            out.append(sentence)
        }
        // Where, in depth, the CoT model's operation word becomes readable through the vocabulary.
        if let cot = stage("cot_sft") {
            let depth = { (i: Int) in String(format: "%.0f%%", Double(i + 1) / Double(config.layerCount) * 100) }
            if let first = cot.layers.first(where: { $0.index >= 0 && $0.lensTaskAccuracy >= 0.8 }) {
                let before = cot.layers.filter { $0.index < first.index }
                let maxBefore = before.map(\.meanTaskProb).max() ?? 0
                out.append("After CoT training the operation word is readable through the vocabulary (lens task accuracy ≥ 80%) from \(first.name) on (block \(first.index + 1) of \(config.layerCount), \(depth(first.index)) of depth); at every earlier layer its mean probability is at most \(String(format: "%.3g%%", maxBefore * 100)).")
            } else {
                out.append("After CoT training no layer reads the operation word through the vocabulary for 80% of prompts.")
            }
        }
        // Probe versus lens: where the task is linearly decodable, and whether the vocabulary reads it there.
        for s in stages {
            let embed = row(s, -1)
            let strong = s.layers.filter { $0.index >= 0 && $0.probeAccuracy >= 0.9 && $0.probeSelectivity >= 0.3 }
            let bestLensIntermediate = s.layers.filter { $0.index >= 0 && $0.index < lastLayer }.max { $0.lensTaskAccuracy < $1.lensTaskAccuracy }
            if let first = strong.first {
                var sentence = "\(title(s)): a linear probe decodes the task from \(first.name) on (\(pct(first.probeAccuracy)), control \(pct(first.probeControlAccuracy)); embed floor \(pct(embed?.probeAccuracy ?? .nan)))"
                if let l = bestLensIntermediate {
                    sentence += ", while the best intermediate logit-lens task accuracy is \(pct(l.lensTaskAccuracy)) at \(l.name) with mean task probability \(String(format: "%.3g%%", l.meanTaskProb * 100))"
                    sentence += l.lensTaskAccuracy < first.probeAccuracy - 0.2 ? ": the task is encoded but not vocabulary-aligned there." : "."
                }
                out.append(sentence)
            } else {
                out.append("\(title(s)): no layer reaches 90% probe accuracy with selectivity ≥ 0.3 (best \(pct(s.layers.map(\.probeAccuracy).max() ?? 0))).")
            }
        }
        return out
    }

    // MARK: results.json

    struct SummaryRow: Codable {
        var stage: String
        var accuracy: Proportion
        var accuracyReferencePrompts: Proportion
        var maxVocabAlignment: Double
        var maxVocabAlignmentLayer: String
        enum CodingKeys: String, CodingKey {
            case stage, accuracy
            case accuracyReferencePrompts = "accuracy_seed_prompts"
            case maxVocabAlignment = "max_vocab_alignment"
            case maxVocabAlignmentLayer = "max_vocab_alignment_layer"
        }
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
        enum CodingKeys: String, CodingKey {
            case schema, experiment, model, modelConfig = "model_config", parameters, data, stages, summary, timings
        }
    }

    var summaryTable: [SummaryRow] {
        stages.map { s in
            let m = maxAlignment(s)
            return SummaryRow(stage: s.name, accuracy: s.accuracyHeldout, accuracyReferencePrompts: s.accuracyReferencePrompts,
                              maxVocabAlignment: m.value, maxVocabAlignmentLayer: m.layer)
        }
    }

    var results: Results {
        Results(
            schema: "lazarus.cot_vocab_alignment.v1", experiment: CoTVocabAlignment.name, model: model,
            modelConfig: ["layers": Double(config.layerCount), "hidden_size": Double(config.hiddenSize), "heads": Double(config.headCount),
                          "kv_heads": Double(config.kvHeadCount), "vocab_size": Double(config.vocabularySize)],
            parameters: parameters, data: dataCounts,
            stages: Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) }),
            summary: Summary(positiveControlPassed: positiveControl.passed, positiveControl: positiveControl, table: summaryTable,
                             checkLayers: checkLayers.map { CheckLayer(pct: $0.pct, index: $0.index, name: "L\($0.index)") },
                             conclusions: conclusions),
            timings: ["wall_s": wallSeconds])
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
        md += "Prompt style: `\(parameters.promptStyle.rawValue)`. Data: \(dataCounts["train"] ?? 0) training problems (seed \(parameters.seed)), "
        md += "\(dataCounts["test"] ?? 0) held-out test problems disjoint from training"
        md += heldOutCapNote(requested: parameters.evalSamples, drawn: dataCounts["test"] ?? 0).map { " (\($0))" } ?? ""
        md += ". LoRA r\(parameters.lora.rank) α\(Int(parameters.lora.alpha)) on "
        md += "\(parameters.lora.targets.joined(separator: ", ")), \(parameters.maxSteps) steps, batch \(parameters.batchSize), lr \(parameters.learningRate).\n"
        md += String(format: "Wall time: %.1f min on %d cores.\n\n", wallSeconds / 60, ProcessInfo.processInfo.activeProcessorCount)

        md += "## Summary\n\n| Stage | Accuracy (held-out, 95% CI) | Reference prompts | Max Vocab Alignment |\n|---|---|---|---|\n"
        for r in summaryTable {
            let s = stage(r.stage)!
            md += "| \(title(s)) | \(pct(r.accuracy.value)) [\(pct(r.accuracy.low))–\(pct(r.accuracy.high))] (n=\(r.accuracy.n)) | "
            md += "\(r.accuracyReferencePrompts.successes)/\(r.accuracyReferencePrompts.n) | \(prob(r.maxVocabAlignment)) (\(r.maxVocabAlignmentLayer)) |\n"
        }
        md += "\nMax Vocab Alignment is the largest mean probability of the prompt's own operation word over the original experiment's layers "
        md += "(first token of \"word\" and \" word\", the larger).\n\n"

        md += "## Conclusions\n\n" + conclusions.map { "- \($0)" }.joined(separator: "\n") + "\n\n"

        md += "## Per-layer vocabulary alignment (the original experiment's layers)\n\n| Layer | " + stages.map(title).joined(separator: " | ") + " |\n"
        md += "|---|" + stages.map { _ in "---|" }.joined() + "\n"
        for (p, i) in checkLayers {
            md += "| L\(i) (\(Int((p * 100).rounded()))%) | " + stages.map { s in row(s, i).map { prob($0.meanTaskProb) } ?? "–" }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Positive control\n\n"
        let c = positiveControl
        md += "\(c.passed ? "**Passed.**" : "**FAILED** — a measurement or training failure, not a finding.") Criterion: \(c.criterion). "
        md += "Measured at \(c.layer) after CoT training: lens task accuracy \(pct(c.lensTaskAccuracy)), top-1 rate \(pct(c.top1Rate)), mean task probability \(prob(c.meanTaskProb)).\n\n"

        md += "## Full depth\n\nPer layer: mean task probability (P), lens task accuracy (Lens), top-1 rate (Top1), probe accuracy (Probe, shuffled-label control in brackets).\n\n"
        md += "| Layer | " + stages.map { "\(title($0)) P | Lens | Top1 | Probe" }.joined(separator: " | ") + " |\n"
        md += "|---|" + stages.map { _ in "---|---|---|---|" }.joined() + "\n"
        for l in stages.first?.layers ?? [] {
            md += "| \(l.name) | " + stages.map { s in
                guard let r = row(s, l.index) else { return "– | – | – | –" }
                return "\(prob(r.meanTaskProb)) | \(pct(r.lensTaskAccuracy)) | \(pct(r.top1Rate)) | \(pct(r.probeAccuracy)) (\(pct(r.probeControlAccuracy)))"
            }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Training\n\n| Stage | Steps | First train loss | Last train loss | Last validation loss | Tokens/s |\n|---|---|---|---|---|---|\n"
        for s in stages {
            guard let t = s.training else { continue }
            md += "| \(title(s)) | \(t.steps) | \(t.trainLoss.first.map { String(format: "%.3f", $0.loss) } ?? "–") | "
            md += "\(t.trainLoss.last.map { String(format: "%.3f", $0.loss) } ?? "–") | \(t.validLoss.last.map { String(format: "%.3f", $0.loss) } ?? "–") | "
            md += String(format: "%.0f |\n", t.tokensPerSecond)
        }
        md += "\n## Reference prompts (the original experiment's nine)\n\n| Prompt | Expected | " + stages.map(title).joined(separator: " | ") + " |\n|---|---|" + stages.map { _ in "---|" }.joined() + "\n"
        for (i, tp) in parameters.testPrompts.enumerated() {
            md += "| `\(CoTVocabAlignment.styled(tp.input, parameters.promptStyle))` | \(tp.expected) | " + stages.map { s in
                guard i < s.referencePromptOutcomes.count else { return "–" }
                let o = s.referencePromptOutcomes[i]
                let shown = o.generated.replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "|", with: "\\|")
                return "\(o.correct ? "✓" : "✗") `\(shown.prefix(28))`"
            }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Plots\n\n![alignment by depth](alignment_by_depth.svg)\n\n![lens task accuracy by depth](lens_accuracy_by_depth.svg)\n\n"
        md += "![probe accuracy by depth](probe_accuracy_by_depth.svg)\n\n![training loss](training_loss.svg)\n\n"
        md += "## Method\n\n"
        md += "- Accuracy: greedy decoding of at most \(parameters.maxNewTokens) tokens, stopping at a newline or EOS; the answer is the first integer after the last ':' of the first line.\n"
        md += "- Logit lens at layer l: softmax(W_U · FinalNorm(h_l)) at the last prompt token. Mean task probability: the probability of the prompt's own operation word; lens task accuracy: the own word outscores the other two; top-1 rate: the own word's token is the arg-max of the vocabulary.\n"
        md += "- Probe: multinomial logistic regression on standardised hidden states (L2), stratified 80/20 split of the \(heldoutN) held-out prompts (about \(Int((Double(heldoutN) * 0.2).rounded())) test prompts, so one prompt is about \(String(format: "%.1f", 100 / max(1, (Double(heldoutN) * 0.2).rounded()))) points of probe accuracy), \(parameters.probeEpochs) epochs of Adam (lr \(parameters.probeLr), batch \(parameters.probeBatchSize)); the control is the same probe on shuffled labels.\n"
        md += "- Layers are named by block output: L0 is the output of the first block, `embed` the embedding output.\n"
        return md
    }

    // MARK: plots

    func plots() -> [(String, String)] {
        func depthChart(_ title: String, _ y: String, _ value: (LayerRow) -> Double, extra: [ChartSeries] = [],
                        probabilities: Bool = false) -> String {
            var chart = SVGLineChart(title: title, xLabel: "layer (embed = -1)", yLabel: y,
                                     series: stages.map { s in ChartSeries(name: self.title(s), points: s.layers.map { (Double($0.index), value($0)) }) } + extra,
                                     yRange: 0...1)
            for l in stages.first?.layers ?? [] { chart.xTickLabels[Double(l.index)] = l.name }
            // Task-word probabilities run from ~1e-14 in early layers to ~1 at the last: only a log axis shows both.
            if probabilities { chart.yScale = .probability(for: chart.series.flatMap { $0.points.map(\.y) }) }
            return chart.render()
        }
        var out: [(String, String)] = []
        out.append(("alignment_by_depth.svg", depthChart("Vocabulary alignment by depth (mean task-word probability)", "probability", { $0.meanTaskProb }, probabilities: true)))
        out.append(("lens_accuracy_by_depth.svg", depthChart("Logit-lens task accuracy by depth", "accuracy", { $0.lensTaskAccuracy })))
        let controls = stages.map { s in ChartSeries(name: "\(title(s)) control", points: s.layers.map { (Double($0.index), $0.probeControlAccuracy) }) }
        out.append(("probe_accuracy_by_depth.svg", depthChart("Linear-probe accuracy by depth", "accuracy", { $0.probeAccuracy }, extra: controls)))
        var loss: [ChartSeries] = []
        for s in stages {
            guard let t = s.training else { continue }
            loss.append(ChartSeries(name: "\(title(s)) train", points: t.trainLoss.map { (Double($0.step), $0.loss) }))
            if !t.validLoss.isEmpty { loss.append(ChartSeries(name: "\(title(s)) valid", points: t.validLoss.map { (Double($0.step), $0.loss) })) }
        }
        out.append(("training_loss.svg", SVGLineChart(title: "Training loss", xLabel: "step", yLabel: "cross-entropy", series: loss).render()))
        return out
    }
}
