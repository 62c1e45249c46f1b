// results.json, report.md and the overlay plots of scale_comparison: each model's flagship measurements as curves
// against normalised depth (embed 0, last block 1), seed means with clipped t-intervals, per-model positive
// controls, and conclusions computed from the numbers — including what a comparison of this many models can say.
import Foundation
import Introspection

/// One point of a depth curve: a layer, its normalised depth, the mean over seeds and its interval.
public struct DepthPoint: Codable, Sendable, Equatable {
    public var layer: String
    public var index: Int
    public var depth: Double
    public var value: SeedMean
}

/// A measurement of one stage against depth: `measure` is word_prob, lens_task_accuracy or probe_accuracy; `position`
/// prompt_end, operator or after_opname (the flagship's lens positions; probes read prompt_end).
public struct DepthCurve: Codable, Sendable, Equatable {
    public var measure: String
    public var position: String
    public var stage: String
    public var points: [DepthPoint]
}

public struct ScaleControl: Codable, Sendable, Equatable {
    public var seed: Int
    public var passed: Bool
    public var lensTaskAccuracy: Double
    public var top1Rate: Double
    enum CodingKeys: String, CodingKey { case seed, passed, lensTaskAccuracy = "lens_task_accuracy", top1Rate = "top1_rate" }
}

/// A layer figure (the first layer meeting a criterion) per seed, and the same as normalised depth.
public struct DepthFigure: Codable, Sendable, Equatable {
    public var layers: [String?]
    public var depths: [Double?]
}

public struct ScaleModelResult: Codable, Sendable, Equatable {
    public var name: String
    /// Where the model's own flagship report, results.json and plots are, relative to the run folder.
    public var folder: String
    public var layers: Int, hiddenSize: Int, heads: Int, vocabularySize: Int
    public var seeds: [Int]
    public var positiveControl: [ScaleControl]
    public var heldoutAccuracy: [String: SeedMean]
    /// First layer whose lens task accuracy at '=' is at least 80%, per stage.
    public var firstLensLayer80: [String: DepthFigure]
    /// First layer whose lens arg-max is the model's own next token before the answer for at least 80% of prompts.
    public var nextTokenLayer80: [String: DepthFigure]
    public var curves: [DepthCurve]
    /// The flagship's own conclusions for this model.
    public var flagshipConclusions: [String]
    public var seconds: Double
    enum CodingKeys: String, CodingKey {
        case name, folder, layers, hiddenSize = "hidden_size", heads, vocabularySize = "vocab_size", seeds
        case positiveControl = "positive_control", heldoutAccuracy = "heldout_accuracy", firstLensLayer80 = "first_lens_layer_80"
        case nextTokenLayer80 = "next_token_layer_80", curves, flagshipConclusions = "flagship_conclusions", seconds
    }

    /// Depth of a residual-stream layer: embed (-1) at 0, the last block (n − 1) at 1.
    static func depth(_ index: Int, layers: Int) -> Double { Double(index + 1) / Double(max(1, layers)) }

    init(name: String, folder: String, report: CoTReport, seconds: Double) {
        self.name = name
        self.folder = folder
        let shape = report.config
        (layers, hiddenSize, heads, vocabularySize) = (shape.layerCount, shape.hiddenSize, shape.headCount, shape.vocabularySize)
        seeds = report.runs.map(\.seed)
        positiveControl = report.runs.map { run in
            let c = report.positiveControl(run)
            return ScaleControl(seed: run.seed, passed: c.passed, lensTaskAccuracy: c.lensTaskAccuracy, top1Rate: c.top1Rate)
        }
        let across = report.acrossSeeds
        let n = shape.layerCount
        func figure(_ f: AcrossSeeds.LayerFigure?) -> DepthFigure {
            let perSeed = f?.perSeed ?? []
            return DepthFigure(layers: perSeed.map { $0.map { "L\($0)" } }, depths: perSeed.map { $0.map { Self.depth($0, layers: n) } })
        }
        var accuracy: [String: SeedMean] = [:], first: [String: DepthFigure] = [:], next: [String: DepthFigure] = [:]
        for stage in CoTReport.stageNames {
            let values = report.runs.compactMap { CoTReport.stage($0, stage)?.accuracyHeldout.value }
            if !values.isEmpty { accuracy[stage] = SeedMean(values) }
            first[stage] = figure(across.firstLensLayer80[stage])
            next[stage] = figure(across.nextTokenLayer80[stage])
        }
        (heldoutAccuracy, firstLensLayer80, nextTokenLayer80) = (accuracy, first, next)
        var curves: [DepthCurve] = []
        for stage in CoTReport.stageNames {
            let stages = report.runs.compactMap { CoTReport.stage($0, stage) }
            guard let firstStage = stages.first else { continue }
            func curve(_ measure: String, _ position: String, _ rows: [[(String, Int, Double)]]) -> DepthCurve {
                let points = rows.first!.indices.map { i in
                    DepthPoint(layer: rows[0][i].0, index: rows[0][i].1, depth: Self.depth(rows[0][i].1, layers: n), value: SeedMean(rows.map { $0[i].2 }))
                }
                return DepthCurve(measure: measure, position: position, stage: stage, points: points)
            }
            curves.append(curve("probe_accuracy", "prompt_end", stages.map { s in s.layers.map { ($0.name, $0.index, $0.probeAccuracy) } }))
            for position in LensPositions.positionNames {
                let readings = stages.map { s in s.positions?.first { $0.position == position }?.forms[report.targets.primaryForm] ?? [] }
                guard readings.allSatisfy({ $0.count == firstStage.layers.count }) else { continue }
                curves.append(curve("word_prob", position, readings.map { r in r.map { ($0.name, $0.index, $0.meanTaskProb) } }))
                curves.append(curve("lens_task_accuracy", position, readings.map { r in r.map { ($0.name, $0.index, $0.lensTaskAccuracy) } }))
            }
        }
        self.curves = curves
        flagshipConclusions = report.conclusions
        self.seconds = seconds
    }

    func curve(_ measure: String, _ position: String, _ stage: String) -> DepthCurve? {
        curves.first { $0.measure == measure && $0.position == position && $0.stage == stage }
    }
}

public struct ScaleComparisonResults: Codable, Sendable {
    public var schema = "lazarus.scale_comparison.v1"
    public var parameters: ScaleComparison.Parameters
    public var models: [ScaleModelResult]
    public var conclusions: [String]
    public var timings: [String: Double]
}

struct ScaleComparisonReport {
    let parameters: ScaleComparison.Parameters
    let models: [ScaleModelResult]
    let wallSeconds: Double

    static let measures = [("word_prob", "prompt_end"), ("lens_task_accuracy", "prompt_end"), ("probe_accuracy", "prompt_end"),
                           ("word_prob", "operator"), ("lens_task_accuracy", "operator"), ("word_prob", "after_opname"),
                           ("lens_task_accuracy", "after_opname")]
    static let measureTitles = ["word_prob": "operation word's lens probability", "lens_task_accuracy": "lens task accuracy",
                                "probe_accuracy": "linear-probe accuracy"]
    static let positionTitles = ["prompt_end": "at '='", "operator": "at the operator", "after_opname": "after 'opname:'"]

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
    static func depthText(_ d: Double?) -> String { d.map { String(format: "%.2f", $0) } ?? "never" }
    static func meanText(_ m: SeedMean) -> String { m.n > 1 ? "\(pct(m.mean)) [\(pct(m.low)), \(pct(m.high))]" : "\(pct(m.mean)) (one seed)" }

    /// The largest seed-mean value of a curve over a band of normalised depth, and where.
    static func peak(_ c: DepthCurve?, in band: ClosedRange<Double>) -> DepthPoint? {
        c?.points.filter { band.contains($0.depth) }.max { $0.value.mean < $1.value.mean }
    }

    var conclusions: [String] {
        var out: [String] = []
        guard !models.isEmpty else { return out }
        for m in models {
            let failed = m.positiveControl.filter { !$0.passed }.map { String($0.seed) }
            out.append(failed.isEmpty
                ? "\(m.name) (\(m.layers) blocks, width \(m.hiddenSize)): the positive control passed in every seed — after CoT training its last layer reads the operation word first at '=' (first seed: lens task accuracy \(Self.pct(m.positiveControl[0].lensTaskAccuracy)), top-1 \(Self.pct(m.positiveControl[0].top1Rate)))."
                : "\(m.name): the positive control FAILED in seed(s) \(failed.joined(separator: ", ")): its readings below measure a training or measurement failure, not the model.")
        }
        for m in models {
            let first = m.firstLensLayer80["cot_sft"], next = m.nextTokenLayer80["cot_sft"]
            let firstText = zip(first?.layers ?? [], first?.depths ?? []).map { l, d in l.map { "\($0) (depth \(Self.depthText(d)))" } ?? "no layer" }.joined(separator: ", ")
            let nextText = zip(next?.layers ?? [], next?.depths ?? []).map { l, d in l.map { "\($0) (depth \(Self.depthText(d)))" } ?? "no layer" }.joined(separator: ", ")
            var s = "\(m.name), CoT SFT at '=': the operation word is lens-readable (task accuracy ≥ 80%) from \(firstText); an ordinary next token (the answer's first digit) from \(nextText)"
            let mid = Self.peak(m.curve("word_prob", "prompt_end", "cot_sft"), in: 0.25...0.75)
            let base = Self.peak(m.curve("word_prob", "prompt_end", "baseline"), in: 0.25...0.75)
            if let mid, let base {
                s += String(format: "; the word's largest mean lens probability between depths 0.25 and 0.75 is %.2e at %@ (baseline %.2e at %@)", mid.value.mean, mid.layer, base.value.mean, base.layer)
            }
            if let probe = Self.peak(m.curve("probe_accuracy", "prompt_end", "cot_sft"), in: 0...0.5) {
                s += ", while a linear probe reaches \(Self.meanText(probe.value)) by depth 0.5 (at \(probe.layer))"
            }
            out.append(s + ".")
        }
        if models.count >= 2 {
            let readable = models.map { m -> (String, Double?) in (m.name, m.firstLensLayer80["cot_sft"]?.depths.compactMap { $0 }.min()) }
            let known = readable.compactMap { n, d in d.map { (n, $0) } }
            if known.count == models.count {
                let spread = (known.map(\.1).max() ?? 0) - (known.map(\.1).min() ?? 0)
                out.append("Across the models, CoT SFT's operation word becomes lens-readable at normalised depth " + known.map { "\(Self.depthText($0.1)) (\($0.0))" }.joined(separator: ", ")
                           + (spread <= 0.1 ? ": at about the same relative depth, near the output in each, not at intermediate layers." : String(format: ": %.2f of depth apart.", spread)))
            }
            out.append("What \(models.count) models can say: whether the flagship's finding (the operation is probe-readable early but lens-readable only near the output) holds in each of them, at what relative depth, with each model's positive control. What they cannot say: anything about scale as a cause. The models differ in family, tokenizer, training data and recipe, width, depth and quantisation, not only in size, so a difference between them has many candidate causes; \(models.count) points admit no trend (no fit, no interval over models); and both are far smaller than GPT-OSS, so neither tests the hypothesis at the scale where the original experiment saw vocabulary-aligned classifiers. A claim about scale needs a family of models that differ in size alone (e.g. one training recipe at several sizes), several per size range.")
        }
        if let m = models.first, m.seeds.count == 1 {
            out.append("One training seed per model: the intervals are over prompts inside each model's own report; how much a second seed would move these figures is unknown here (the flagship's three-seed run on SmolLM2 is the reference for that spread).")
        }
        return out
    }

    var results: ScaleComparisonResults {
        var timings = ["wall_s": wallSeconds]
        for m in models { timings["\(m.name)_s"] = m.seconds }
        return ScaleComparisonResults(parameters: parameters, models: models, conclusions: conclusions, timings: timings)
    }

    func plots() -> [(String, String)] {
        Self.measures.map { measure, position in
            var series: [ChartSeries] = []
            for m in models {
                for stage in CoTReport.stageNames {
                    guard let c = m.curve(measure, position, stage) else { continue }
                    series.append(ChartSeries(name: "\(m.name) \(CoTReport.stageTitles[stage] ?? stage)", points: c.points.map { ($0.depth, $0.value.mean) }))
                }
            }
            var chart = SVGLineChart(title: "\(Self.measureTitles[measure] ?? measure) \(Self.positionTitles[position] ?? position), by normalised depth",
                                     xLabel: "normalised depth (embed = 0, last block = 1)", yLabel: measure == "word_prob" ? "probability" : "accuracy",
                                     series: series, yRange: 0...1)
            for d in stride(from: 0.0, through: 1.0, by: 0.25) { chart.xTickLabels[d] = String(format: "%.2f", d) }
            // Word probabilities run from ~1e-12 early to ~1 at the last layer: a log axis shows both ends.
            if measure == "word_prob" { chart.yScale = .probability(for: series.flatMap { $0.points.map(\.y) }) }
            return ("\(measure)_\(position).svg", chart.render())
        }
    }

    func markdown() -> String {
        var md = "# scale_comparison\n\n"
        md += "The flagship's measurements (cot_vocab_alignment: baseline, direct SFT and CoT SFT; the logit lens at three positions, probes, the positive control) on \(models.count) models, "
        md += "training seeds \(parameters.seeds.map(String.init).joined(separator: ", ")), \(parameters.maxSteps) steps of batch \(parameters.batchSize). Depth is normalised: embed at 0, the last block at 1. Wall time \(String(format: "%.0f", wallSeconds)) s.\n\n"
        md += "## Conclusions\n\n" + conclusions.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
        md += "## Models\n\n| model | blocks | width | heads | vocabulary | positive control | held-out accuracy: baseline / direct / CoT | own report |\n|---|---|---|---|---|---|---|---|\n"
        for m in models {
            let acc = CoTReport.stageNames.map { m.heldoutAccuracy[$0].map(Self.meanText) ?? "–" }.joined(separator: " / ")
            md += "| \(m.name) | \(m.layers) | \(m.hiddenSize) | \(m.heads) | \(m.vocabularySize) | \(m.positiveControl.allSatisfy(\.passed) ? "passed" : "FAILED") | \(acc) | [\(m.folder)/report.md](\(m.folder)/report.md) |\n"
        }
        md += "\n## Curves by normalised depth (seed means)\n\n"
        for (measure, position) in Self.measures {
            md += "### \(Self.measureTitles[measure] ?? measure) \(Self.positionTitles[position] ?? position)\n\n![](\(measure)_\(position).svg)\n\n"
            md += "| depth | " + models.flatMap { m in ["baseline", "cot_sft"].map { "\(m.name) \($0)" } }.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: 2 * models.count) + "\n"
            for d in stride(from: 0.0, through: 1.0, by: 0.125) {
                let cells = models.flatMap { m in ["baseline", "cot_sft"].map { stage -> String in
                    guard let p = m.curve(measure, position, stage)?.points.min(by: { abs($0.depth - d) < abs($1.depth - d) }) else { return "–" }
                    let v = measure == "word_prob" ? String(format: "%.2e", p.value.mean) : Self.pct(p.value.mean)
                    return "\(v) (\(p.layer))"
                } }
                md += "| \(String(format: "%.3f", d)) | " + cells.joined(separator: " | ") + " |\n"
            }
            md += "\n"
        }
        md += "## Each model's flagship conclusions\n\n"
        for m in models { md += "### \(m.name)\n\n" + m.flagshipConclusions.map { "- \($0)" }.joined(separator: "\n") + "\n\n" }
        md += "## Method\n\nEach model runs the flagship's own per-seed runner with the flagship's parameters, in the flagship's folder (`flagship_folder`): data, trained adapters and stage results are shared with it, so stages it has already run are reused and stages run here serve it. Curves are the primary word form's (the token the model faces after the prompt). Each model's full flagship report, results.json (schema `lazarus.cot_vocab_alignment.v2`) and plots are in its folder under `models/`.\n"
        return md
    }
}
