// results.json, report.md and the plots of vocab_objective, computed from the measured stages: across-seed means
// with t-intervals clipped to [0, 1], Wilson intervals per seed, exact McNemar between each λ and λ = 0 on the same
// prompts (Holm over layers), and conclusions chosen by comparing those numbers, never written in advance.
import Foundation
import Introspection

/// A mean over seeds and its 95% t-interval, clipped to what the quantity can be.
public struct SeedMean: Codable, Sendable, Equatable {
    public var mean: Double, low: Double, high: Double, n: Int
    init(_ values: [Double], range: ClosedRange<Double> = 0...1) {
        let m = Statistics.meanInterval(values.isEmpty ? [.nan] : values)
        (mean, low, high, n) = (m.mean, min(range.upperBound, max(range.lowerBound, m.low)), min(range.upperBound, max(range.lowerBound, m.high)), values.count)
    }
}

public struct VocabLayerSummary: Codable, Sendable, Equatable {
    public var name: String, index: Int
    public var wordProb: SeedMean, lensAccuracy: SeedMean, probeAccuracy: SeedMean
    public var directWordProb: SeedMean, directLensAccuracy: SeedMean
    public var tunedWordProb: SeedMean?, tunedLensAccuracy: SeedMean?
    enum CodingKeys: String, CodingKey {
        case name, index, wordProb = "word_prob", lensAccuracy = "lens_accuracy", probeAccuracy = "probe_accuracy"
        case directWordProb = "direct_word_prob", directLensAccuracy = "direct_lens_accuracy"
        case tunedWordProb = "tuned_word_prob", tunedLensAccuracy = "tuned_lens_accuracy"
    }
}

/// One λ over every seed.
public struct VocabLambdaSummary: Codable, Sendable, Equatable {
    public var lambda: Double
    public var seeds: [Int]
    public var heldoutAccuracy: SeedMean
    /// λ minus λ = 0 held-out accuracy, per seed then averaged (nil for λ = 0).
    public var accuracyCost: SeedMean?
    public var layers: [VocabLayerSummary]
    /// Agreement of the lens-read classifier with the probe at k, pooled over seeds (Wilson) and as a seed mean.
    public var agreementPooled: Proportion
    public var agreement: SeedMean
    public var tunedAgreementPooled: Proportion?
    /// Layers whose lens task accuracy is above λ = 0's in every seed (exact McNemar, Holm over layers, p < 0.05).
    public var raisedLayers: [String]
    public var raisedLayersDirect: [String]
    public var raisedLayersTuned: [String]?
    public var positiveControlPassed: [Bool]
    enum CodingKeys: String, CodingKey {
        case lambda, seeds, heldoutAccuracy = "heldout_accuracy", accuracyCost = "accuracy_cost", layers
        case agreementPooled = "agreement_pooled", agreement, tunedAgreementPooled = "tuned_agreement_pooled"
        case raisedLayers = "raised_layers", raisedLayersDirect = "raised_layers_direct", raisedLayersTuned = "raised_layers_tuned"
        case positiveControlPassed = "positive_control_passed"
    }
}

public struct VocabSeedTests: Codable, Sendable, Equatable {
    public var seed: Int
    public var lambda: Double
    public var tests: [PairedTest]
}

public struct VocabObjectiveResults: Codable, Sendable {
    public var schema = "lazarus.vocab_objective.v1"
    public var model: String
    public var layerCount: Int
    public var parameters: VocabObjective.Parameters
    public var lensLayer: String
    public var lensLayerIndex: Int
    public var lens: String
    public var targetTokens: TargetTokens
    public var stages: [VocabStageResult]
    public var pairedTests: [VocabSeedTests]
    public var acrossSeeds: [VocabLambdaSummary]
    public var summary: Summary
    public var timings: [String: Double]
    public struct Summary: Codable, Sendable {
        public var positiveControlPassed: Bool
        public var conclusions: [String]
        enum CodingKeys: String, CodingKey { case positiveControlPassed = "positive_control_passed", conclusions }
    }
    enum CodingKeys: String, CodingKey {
        case schema, model, layerCount = "layer_count", parameters, lensLayer = "lens_layer", lensLayerIndex = "lens_layer_index", lens
        case targetTokens = "target_tokens", stages, pairedTests = "paired_tests", acrossSeeds = "across_seeds", summary, timings
    }
}

struct VocabObjectiveReport {
    let parameters: VocabObjective.Parameters
    let model: String
    let layerCount: Int
    let lensLayer: Int
    let lensName: String
    let targets: TargetTokens
    let stages: [VocabStageResult]
    let wallSeconds: Double

    var lambdas: [Double] { parameters.lambdas }
    var seeds: [Int] { parameters.seeds }
    var kName: String { "L\(lensLayer)" }
    var tuned: Bool { stages.first?.layers.first?.tuned != nil }
    func stage(_ seed: Int, _ lambda: Double) -> VocabStageResult? { stages.first { $0.seed == seed && $0.lambda == lambda } }
    func runs(_ lambda: Double) -> [VocabStageResult] { seeds.compactMap { stage($0, lambda) } }
    static func lambdaText(_ l: Double) -> String { "λ=\(String(format: "%g", l))" }

    // MARK: Paired tests

    /// One seed, λ against λ = 0 on the same prompts: the answer, and the lens at every layer for each reading.
    func pairedTests(seed: Int, lambda: Double) -> [PairedTest] {
        guard lambda != 0, let a = stage(seed, lambda), let b = stage(seed, 0) else { return [] }
        let name = Self.lambdaText(lambda)
        var out = [PairedTest(measure: "answer_accuracy", layer: nil, a: name, b: "λ=0",
                              outcomesA: PairedOutcomes.decode(a.heldoutCorrect), outcomesB: PairedOutcomes.decode(b.heldoutCorrect))]
        let readings: [(String, (VocabLayerRow) -> LensReading?)] = [("lens_task_accuracy", { $0.logit }), ("direct_lens_task_accuracy", { $0.direct }),
                                                                      ("tuned_lens_task_accuracy", { $0.tuned })]
        for (measure, read) in readings {
            var family: [PairedTest] = []
            for (ra, rb) in zip(a.layers, b.layers) {
                guard let x = read(ra), let y = read(rb), x.correct.count == y.correct.count else { continue }
                family.append(PairedTest(measure: measure, layer: ra.name, a: name, b: "λ=0",
                                         outcomesA: PairedOutcomes.decode(x.correct), outcomesB: PairedOutcomes.decode(y.correct)))
            }
            out += PairedTest.holmAdjusted(family)
        }
        return out
    }

    /// Layers raised over λ = 0 in every seed for one measure.
    func raised(_ lambda: Double, measure: String) -> [String] {
        let perSeed = seeds.map { s in Set(pairedTests(seed: s, lambda: lambda).filter { $0.measure == measure && $0.pHolm < 0.05 && $0.accuracyA > $0.accuracyB }.compactMap(\.layer)) }
        guard let first = perSeed.first else { return [] }
        let common = perSeed.dropFirst().reduce(first) { $0.intersection($1) }
        return (stages.first?.layers ?? []).map(\.name).filter { common.contains($0) }
    }

    // MARK: Across seeds

    func summary(_ lambda: Double) -> VocabLambdaSummary {
        let rs = runs(lambda)
        let layers = (rs.first?.layers ?? []).indices.map { i -> VocabLayerSummary in
            let rows = rs.map { $0.layers[i] }
            return VocabLayerSummary(name: rows[0].name, index: rows[0].index, wordProb: SeedMean(rows.map(\.logit.meanWordProb)),
                                     lensAccuracy: SeedMean(rows.map(\.logit.accuracy.value)), probeAccuracy: SeedMean(rows.map(\.probe.value)),
                                     directWordProb: SeedMean(rows.map(\.direct.meanWordProb)), directLensAccuracy: SeedMean(rows.map(\.direct.accuracy.value)),
                                     tunedWordProb: tuned ? SeedMean(rows.compactMap { $0.tuned?.meanWordProb }) : nil,
                                     tunedLensAccuracy: tuned ? SeedMean(rows.compactMap { $0.tuned?.accuracy.value }) : nil)
        }
        let costs = seeds.compactMap { s -> Double? in
            guard lambda != 0, let a = stage(s, lambda), let b = stage(s, 0) else { return nil }
            return a.accuracyHeldout.value - b.accuracyHeldout.value
        }
        func pooled(_ ps: [Proportion]) -> Proportion { Proportion(successes: ps.map(\.successes).reduce(0, +), n: ps.map(\.n).reduce(0, +)) }
        let tunedAgreements = rs.compactMap(\.agreement.tunedAgreement)
        return VocabLambdaSummary(lambda: lambda, seeds: rs.map(\.seed), heldoutAccuracy: SeedMean(rs.map(\.accuracyHeldout.value)),
                                  accuracyCost: costs.isEmpty ? nil : SeedMean(costs, range: -1...1), layers: layers,
                                  agreementPooled: pooled(rs.map(\.agreement.agreement)), agreement: SeedMean(rs.map(\.agreement.agreement.value)),
                                  tunedAgreementPooled: tunedAgreements.isEmpty ? nil : pooled(tunedAgreements),
                                  raisedLayers: lambda == 0 ? [] : raised(lambda, measure: "lens_task_accuracy"),
                                  raisedLayersDirect: lambda == 0 ? [] : raised(lambda, measure: "direct_lens_task_accuracy"),
                                  raisedLayersTuned: tuned && lambda != 0 ? raised(lambda, measure: "tuned_lens_task_accuracy") : nil,
                                  positiveControlPassed: rs.map(\.positiveControlPassed))
    }

    var summaries: [VocabLambdaSummary] { lambdas.map(summary) }

    // MARK: Conclusions

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
    static func prob(_ v: Double) -> String { v >= 0.01 ? String(format: "%.3f", v) : String(format: "%.2e", v) }
    static func interval(_ m: SeedMean, _ f: (Double) -> String = pct) -> String {
        m.n > 1 ? "\(f(m.mean)) [\(f(m.low)), \(f(m.high))]" : "\(f(m.mean)) (one seed)"
    }
    static func wilson(_ p: Proportion) -> String { String(format: "%.1f%% [%.1f, %.1f] (n=%d)", p.value * 100, p.low * 100, p.high * 100, p.n) }

    /// Layer names as ranges of consecutive layers: "L12–L18, L22".
    static func ranges(_ names: [String]) -> String {
        let idx = names.compactMap { Int($0.dropFirst()) }.sorted()
        var parts: [String] = []
        var i = 0
        while i < idx.count {
            var j = i
            while j + 1 < idx.count, idx[j + 1] == idx[j] + 1 { j += 1 }
            parts.append(i == j ? "L\(idx[i])" : "L\(idx[i])–L\(idx[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    /// Where the raised layers lie against k: at k only (±1), or spreading below and/or above it.
    func spread(_ raised: [String]) -> String {
        let idx = raised.compactMap { Int($0.dropFirst()) }
        guard !idx.isEmpty else { return "no layer's lens task accuracy rises above λ=0's in every seed" }
        let below = lensLayer - (idx.min() ?? lensLayer), above = (idx.max() ?? lensLayer) - lensLayer
        let contains = idx.contains(lensLayer)
        let place = below <= 1 && above <= 1 ? "it stays at \(kName) (within one layer)"
            : "it spreads \(max(0, below)) layer\(below == 1 ? "" : "s") below and \(max(0, above)) above \(kName)"
        return "lens task accuracy rises above λ=0's in every seed at \(Self.ranges(raised))\(contains ? "" : " (not at \(kName) itself)"): \(place)"
    }

    /// The direct-format context only tests persistence where it makes the model answer directly: say when it did not.
    func directCaveat(_ lambda: Double) -> String {
        let shares = runs(lambda).map(\.directDigitShare)
        let share = shares.reduce(0, +) / Double(max(1, shares.count))
        return share < 0.5 ? " Caveat: the context did not switch the model to direct answers (its next token is a digit for only \(Self.pct(share)) of those prompts), so this reads the word where the model still continues in the CoT format." : ""
    }

    var conclusions: [String] {
        var out: [String] = []
        let all = summaries
        guard let zero = all.first(where: { $0.lambda == 0 }) else { return out }
        let failed = all.flatMap { s in s.positiveControlPassed.enumerated().filter { !$0.element }.map { "\(Self.lambdaText(s.lambda)) seed \(s.seeds[$0.offset])" } }
        if failed.isEmpty {
            out.append("The positive control passed in every stage: at the last layer (L\(layerCount - 1)) each CoT-trained model reads its own operation word first at '=' (it emits it next), so the lens does see the word where the model uses it.")
        } else {
            out.append("The positive control FAILED in \(failed.joined(separator: ", ")): the last layer does not read the operation word first, so those stages' readings measure a training or measurement failure, not the objective's effect.")
        }
        let seedCount = seeds.count
        func at(_ s: VocabLambdaSummary, _ index: Int) -> VocabLayerSummary? { s.layers.first { $0.index == index } }
        guard let z = at(zero, lensLayer) else { return out }
        for s in all where s.lambda != 0 {
            guard let a = at(s, lensLayer) else { continue }
            let name = Self.lambdaText(s.lambda)
            let tests = seeds.compactMap { seed in pairedTests(seed: seed, lambda: s.lambda).first { $0.measure == "lens_task_accuracy" && $0.layer == kName } }
            let up = tests.filter { $0.pHolm < 0.05 && $0.accuracyA > $0.accuracyB }.count
            let down = tests.filter { $0.pHolm < 0.05 && $0.accuracyA < $0.accuracyB }.count
            var sentence = "\(name) at \(kName) (the objective's layer): the operation word's mean lens probability is \(Self.interval(a.wordProb, Self.prob)) against \(Self.interval(z.wordProb, Self.prob)) at λ=0"
            if a.wordProb.n > 1 { sentence += a.wordProb.low > z.wordProb.high ? " (the intervals do not overlap: higher)" : a.wordProb.high < z.wordProb.low ? " (lower, intervals apart)" : " (the intervals overlap)" }
            sentence += "; lens task accuracy \(Self.interval(a.lensAccuracy)) against \(Self.interval(z.lensAccuracy)), "
            sentence += up == seedCount ? "higher in every seed (exact McNemar, Holm over layers, p < 0.05)." : down == seedCount ? "lower in every seed." : "higher in \(up) of \(seedCount) seeds, lower in \(down), no difference detected in the rest."
            out.append(sentence)
            out.append("\(name), every layer: \(spread(s.raisedLayers)).")
            if let cost = s.accuracyCost {
                let answers = seeds.compactMap { seed in pairedTests(seed: seed, lambda: s.lambda).first { $0.measure == "answer_accuracy" } }
                let sig = answers.filter { $0.pHolm < 0.05 }.count
                var c = String(format: "%@ held-out accuracy is %@ against %@ at λ=0: a change of %+.1f points", name, Self.interval(s.heldoutAccuracy), Self.interval(zero.heldoutAccuracy), cost.mean * 100)
                if cost.n > 1 {
                    c += String(format: " (t-interval %+.1f to %+.1f over %d seeds)", cost.low * 100, cost.high * 100, cost.n)
                    c += cost.high < 0 ? ", a cost" : cost.low > 0 ? ", a gain" : ", which contains 0: no cost detected across seeds"
                }
                c += "; exact McNemar per seed: different in \(sig) of \(answers.count)."
                out.append(c)
            }
            out.append("\(name): at \(kName) the lens-read classifier (the arg-max of the three operation words) agrees with a linear probe at \(kName) on \(Self.wilson(s.agreementPooled)) of the probe's test prompts pooled over seeds (λ=0: \(Self.wilson(zero.agreementPooled)))"
                       + (s.agreementPooled.low > 0.9 ? ": the vocabulary reads the same classifier the probe finds." : s.agreementPooled.high < 0.9 ? ": the two classifiers often disagree." : "."))
            if let d = at(s, lensLayer)?.directLensAccuracy, let dz = z.directLensAccuracy as SeedMean? {
                let persists = s.raisedLayersDirect.contains(kName)
                out.append("\(name) in a direct-format context (three solved \"a op b = r\" lines before the prompt): lens task accuracy at \(kName) is \(Self.interval(d)) against \(Self.interval(dz)) at λ=0"
                           + (persists ? "; it persists (higher in every seed, Holm p < 0.05)." : "; no rise detected in every seed, so it does not persist there in this run.")
                           + (s.raisedLayersDirect.isEmpty ? "" : " Raised layers in that context: \(Self.ranges(s.raisedLayersDirect)).")
                           + directCaveat(s.lambda))
            }
            if tuned, let t = a.tunedLensAccuracy, let tz = z.tunedLensAccuracy {
                out.append("\(name) through the tuned lens at \(kName): lens task accuracy \(Self.interval(t)) against \(Self.interval(tz)) at λ=0"
                           + ((s.raisedLayersTuned ?? []).isEmpty ? "; no layer raised in every seed." : "; raised in every seed at \(Self.ranges(s.raisedLayersTuned ?? [])).")
                           + (s.tunedAgreementPooled.map { " Its classifier agrees with the probe on \(Self.wilson($0))." } ?? ""))
            }
        }
        if seedCount == 1 {
            out.append("One training seed: every interval above is over prompts only. A second seed could train differently (the flagship's seeds moved held-out accuracy by several points), so a difference between λ values here may be the seed's, not λ's; run with seeds [42, 43, 44] before reading any λ effect as a finding.")
        } else {
            out.append("\(seedCount) training seeds: means carry 95% t-intervals across seeds (clipped to [0, 1]); per-seed proportions carry Wilson intervals; a layer counts as raised only when the paired test finds it in every seed.")
        }
        return out
    }

    // MARK: Outputs

    var results: VocabObjectiveResults {
        VocabObjectiveResults(model: model, layerCount: layerCount, parameters: parameters, lensLayer: kName, lensLayerIndex: lensLayer, lens: lensName,
                              targetTokens: targets, stages: stages,
                              pairedTests: seeds.flatMap { s in lambdas.filter { $0 != 0 }.map { VocabSeedTests(seed: s, lambda: $0, tests: pairedTests(seed: s, lambda: $0)) } },
                              acrossSeeds: summaries,
                              summary: .init(positiveControlPassed: stages.allSatisfy(\.positiveControlPassed), conclusions: conclusions),
                              timings: ["wall_s": wallSeconds])
    }

    func plots() -> [(String, String)] {
        let all = summaries
        func depth(_ title: String, _ y: String, probabilities: Bool, _ value: (VocabLayerSummary) -> Double?, extra: [ChartSeries] = []) -> String {
            var chart = SVGLineChart(title: title, xLabel: "layer (embed = -1); the objective reads \(kName)", yLabel: y,
                                     series: all.map { s in ChartSeries(name: Self.lambdaText(s.lambda), points: s.layers.compactMap { l in value(l).map { (Double(l.index), $0) } }) } + extra,
                                     yRange: 0...1)
            for l in all.first?.layers ?? [] { chart.xTickLabels[Double(l.index)] = l.name }
            // Word probabilities run from ~1e-10 in early layers to ~1 at the last: a log axis shows both.
            if probabilities { chart.yScale = .probability(for: chart.series.flatMap { $0.points.map(\.y) }) }
            return chart.render()
        }
        var out: [(String, String)] = []
        out.append(("word_prob_by_depth.svg", depth("Operation word's lens probability at '=' (mean over seeds)", "probability", probabilities: true, { $0.wordProb.mean })))
        let probes = all.map { s in ChartSeries(name: "probe \(Self.lambdaText(s.lambda))", points: s.layers.map { (Double($0.index), $0.probeAccuracy.mean) }) }
        out.append(("lens_accuracy_by_depth.svg", depth("Lens task accuracy at '=' (and probe accuracy)", "accuracy", probabilities: false, { $0.lensAccuracy.mean }, extra: probes)))
        out.append(("direct_word_prob_by_depth.svg", depth("Operation word's lens probability in a direct-format context", "probability", probabilities: true, { $0.directWordProb.mean })))
        if tuned {
            out.append(("tuned_word_prob_by_depth.svg", depth("Operation word's tuned-lens probability at '='", "probability", probabilities: true, { $0.tunedWordProb?.mean })))
        }
        var loss: [ChartSeries] = []
        for l in lambdas {
            guard let t = stage(seeds[0], l)?.training else { continue }
            loss.append(ChartSeries(name: "answer \(Self.lambdaText(l))", points: t.trainLoss.map { (Double($0.step), $0.loss) }))
            if let lens = t.lensLoss, !lens.isEmpty { loss.append(ChartSeries(name: "lens \(Self.lambdaText(l))", points: lens.map { (Double($0.step), $0.loss) })) }
        }
        out.append(("training_loss.svg", SVGLineChart(title: "Training loss, seed \(seeds[0]) (answer and unweighted lens term)", xLabel: "step", yLabel: "cross-entropy", series: loss).render()))
        return out
    }

    func markdown() -> String {
        let all = summaries
        var md = "# vocab_objective\n\n"
        md += "Model: `\(model)` (\(layerCount) layers). Lens objective at **\(kName)** (`lens_layer: \(parameters.lensLayer)`), λ ∈ {\(lambdas.map { String(format: "%g", $0) }.joined(separator: ", "))}, "
        md += "training seeds \(seeds.map(String.init).joined(separator: ", ")), \(parameters.maxSteps) steps of batch \(parameters.batchSize). Lenses reported: logit\(tuned ? " and tuned" : ""). Wall time \(String(format: "%.0f", wallSeconds)) s.\n\n"
        md += "L = L_answer + λ · CE(lens_\(kName)(h), operation word) at the last prompt position ('='), LoRA on the CoT format; λ = 0 is the flagship's cot_sft.\n\n"
        md += "## Conclusions\n\n" + conclusions.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
        md += "## Held-out accuracy\n\n| λ | mean over seeds [95% t] | per seed (Wilson) | change vs λ=0 | positive control |\n|---|---|---|---|---|\n"
        for s in all {
            let per = runs(s.lambda).map { "\($0.seed): \(Self.wilson($0.accuracyHeldout))" }.joined(separator: "; ")
            let cost = s.accuracyCost.map { String(format: "%+.1f [%+.1f, %+.1f]", $0.mean * 100, $0.low * 100, $0.high * 100) } ?? "—"
            md += "| \(String(format: "%g", s.lambda)) | \(Self.interval(s.heldoutAccuracy)) | \(per) | \(cost) | \(s.positiveControlPassed.allSatisfy { $0 } ? "passed" : "FAILED") |\n"
        }
        md += "\n## At \(kName) and its neighbours (logit lens at '=')\n\n| layer | " + all.map { "\(Self.lambdaText($0.lambda)) word prob" }.joined(separator: " | ")
            + " | " + all.map { "\(Self.lambdaText($0.lambda)) lens acc" }.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: 2 * all.count) + "\n"
        for index in max(0, lensLayer - 2)...min(layerCount - 1, lensLayer + 2) {
            let rows = all.compactMap { s in s.layers.first { $0.index == index } }
            md += "| L\(index)\(index == lensLayer ? " (k)" : "") | " + rows.map { Self.interval($0.wordProb, Self.prob) }.joined(separator: " | ")
                + " | " + rows.map { Self.interval($0.lensAccuracy) }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Lens-read classifier against a probe at \(kName)\n\n| λ | agreement (pooled, Wilson) | lens accuracy | probe accuracy |\(tuned ? " tuned-lens agreement |" : "")\n|---|---|---|---|\(tuned ? "---|" : "")\n"
        for s in all {
            let rs = runs(s.lambda)
            func pooled(_ f: (ClassifierAgreement) -> Proportion) -> Proportion { Proportion(successes: rs.map { f($0.agreement).successes }.reduce(0, +), n: rs.map { f($0.agreement).n }.reduce(0, +)) }
            md += "| \(String(format: "%g", s.lambda)) | \(Self.wilson(s.agreementPooled)) | \(Self.wilson(pooled(\.lensAccuracy))) | \(Self.wilson(pooled(\.probeAccuracy))) |"
                + (tuned ? " \(s.tunedAgreementPooled.map(Self.wilson) ?? "—") |" : "") + "\n"
        }
        md += "\n## Direct-format context (three solved \"a op b = r\" lines, then the prompt)\n\n"
        md += "Share of those prompts whose next token is a digit: " + all.map { s in "\(Self.lambdaText(s.lambda)) " + Self.pct(runs(s.lambda).map(\.directDigitShare).reduce(0, +) / Double(max(1, runs(s.lambda).count))) }.joined(separator: ", ") + ".\n\n"
        md += "| layer | " + all.map { "\(Self.lambdaText($0.lambda)) word prob" }.joined(separator: " | ") + " | " + all.map { "\(Self.lambdaText($0.lambda)) lens acc" }.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: 2 * all.count) + "\n"
        for index in max(0, lensLayer - 2)...min(layerCount - 1, lensLayer + 2) {
            let rows = all.compactMap { s in s.layers.first { $0.index == index } }
            md += "| L\(index)\(index == lensLayer ? " (k)" : "") | " + rows.map { Self.interval($0.directWordProb, Self.prob) }.joined(separator: " | ")
                + " | " + rows.map { Self.interval($0.directLensAccuracy) }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Every layer (means over seeds)\n\n| layer | " + all.map { "\(Self.lambdaText($0.lambda)) prob / lens / probe\(tuned ? " / tuned" : "")" }.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: all.count) + "\n"
        for (i, l) in (all.first?.layers ?? []).enumerated() {
            md += "| \(l.name) | " + all.map { s in
                let r = s.layers[i]
                return "\(Self.prob(r.wordProb.mean)) / \(Self.pct(r.lensAccuracy.mean)) / \(Self.pct(r.probeAccuracy.mean))" + (r.tunedWordProb.map { " / \(Self.prob($0.mean))" } ?? "")
            }.joined(separator: " | ") + " |\n"
        }
        md += "\n## Method\n\n"
        md += "Each λ > 0 trains LoRA from the base weights on the flagship's CoT data with the same settings and seed as its cot_sft, adding λ times the cross-entropy of the logit lens at \(kName) (final norm and unembedding of the residual stream there) against the operation word's token at '=' (the position whose state predicts the word). The term's gradient enters the backward as a residual-stream gradient at \(kName), checked against finite differences (Tests/TrainingTests/LensObjectiveGradientTests). "
        md += "Readings use the held-out problems (split by unordered operand pair, disjoint from training) at '=' of the bare prompt: the word's mean probability and the three-way lens task accuracy at every layer; a probe (logistic regression, \(parameters.probeEpochs) epochs) at every layer on an 80/20 split; the agreement of the lens's arg-max word with the probe's class at \(kName) on the probe's test prompts; the same lens readings with three solved direct-format problems before the prompt. "
        md += "Between each λ and λ = 0 (same prompts, same seed): exact McNemar on answers and on lens correctness per layer, Holm-adjusted over the layers. Across seeds: means with 95% t-intervals clipped to [0, 1].\n"
        return md
    }
}
