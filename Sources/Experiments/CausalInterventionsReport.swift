// The report of causal_interventions: results.json (docs/schemas/causal_interventions.results.schema.json),
// report.md whose conclusions are computed from the numbers, and SVG curves by depth and by α.
import Foundation

public struct CausalInterventionsResults: Codable, Sendable, Equatable {
    public var experiment = CausalInterventions.name
    public var schemaVersion = 1
    public var model: String
    public var parameters: CausalInterventions.Parameters
    public var stages: [CausalStageResult]
    public var wallSeconds: Double
    enum CodingKeys: String, CodingKey {
        case experiment, schemaVersion = "schema_version", model, parameters, stages, wallSeconds = "wall_seconds"
    }
}

struct CausalInterventionsReport {
    var parameters: CausalInterventions.Parameters
    var model: String
    var stages: [CausalStageResult]
    var wallSeconds: Double

    var results: CausalInterventionsResults {
        CausalInterventionsResults(model: model, parameters: parameters, stages: stages, wallSeconds: wallSeconds)
    }

    /// Indices as ranges of their names: [3, 4, 5, 9] → "L3–L5, L9".
    static func ranges(_ indices: [Int], names: [String]) -> String {
        var parts: [String] = [], start = indices.first!, previous = start
        for i in indices.dropFirst() + [Int.min] {
            if i == previous + 1 { previous = i; continue }
            parts.append(start == previous ? names[start] : "\(names[start])–\(names[previous])")
            start = i
            previous = i
        }
        return parts.joined(separator: ", ")
    }

    static func percent(_ p: Proportion) -> String {
        String(format: "%.0f%% [%.0f, %.0f]", p.value * 100, p.low * 100, p.high * 100)
    }

    /// Sentences computed from the numbers, one per finding.
    func conclusions(_ s: CausalStageResult) -> [String] {
        var out: [String] = []
        if !s.positiveControlPassed {
            out.append("The positive control FAILED (\(Self.percent(s.positiveControl)) of last-layer patches at the last position gave the donor's next token): treat every patching number of this stage as a measurement failure, not a finding.")
        } else {
            out.append("Positive control: patching the last layer at the last prompt position gave the donor's own next token in \(Self.percent(s.positiveControl)) of cases.")
        }
        for curve in s.patching {
            // Where the donor's word wins with the interval's low end above 0.5, as ranges of layers (the curve need not be monotone).
            let clear = curve.wordFollowsDonor.indices.filter { curve.wordFollowsDonor[$0].low > 0.5 }
            let peak = curve.wordFollowsDonor.indices.max { curve.wordFollowsDonor[$0].value < curve.wordFollowsDonor[$1].value }
            let peakText = peak.map { "\(curve.layers[$0]) \(Self.percent(curve.wordFollowsDonor[$0]))" } ?? "none"
            if let first = clear.first {
                let best = curve.answerFollowsDonor.indices.filter(clear.contains).map { curve.answerFollowsDonor[$0] }.max { $0.value < $1.value }!
                out.append("Patching \(curve.recipient) prompts at the \(curve.position) position with the \(curve.donor) twin: the donor's word wins for a clear majority at \(Self.ranges(clear, names: curve.layers)) (\(Self.percent(curve.wordFollowsDonor[first])) at \(curve.layers[first])); the donor's answer follows in at most \(Self.percent(best)) there.")
            } else {
                out.append("Patching \(curve.recipient) prompts at the \(curve.position) position with the \(curve.donor) twin: at no layer does the donor's word win for a clear majority (the highest is \(peakText)).")
            }
        }
        for curve in s.steering {
            guard !curve.wordSwitched.isEmpty else { continue }
            let clear = curve.wordSwitched.indices.filter { curve.wordSwitched[$0].low > 0.5 }
            let best = curve.answerSwitched.max { $0.value < $1.value }!
            let text = clear.isEmpty ? "at no α (at most \(Self.percent(curve.wordSwitched.max { $0.value < $1.value }!)))"
                : "at α = " + clear.map { "\(curve.alphas[$0])" }.joined(separator: ", ") + (clear.count < curve.alphas.count - 1 ? " only" : "")
            out.append("Steering \(curve.from) prompts towards \(curve.toward) at \(curve.layer): the word switches for a clear majority \(text); the answer follows the new operation in at most \(Self.percent(best)) at any α.")
        }
        for e in s.erasure {
            let lensLost = e.lensReadableBefore.value - e.lensReadableAfter.value
            let wordLost = e.wordCorrectBefore.value - e.wordCorrectAfter.value
            let verdict = e.wordCorrectAfter.differs(from: e.wordCorrectBefore) ? "a change beyond the intervals" : "within the intervals"
            out.append(String(format: "Erasing the multiply − add direction at %@: the operation word drops from %@ to %@ (%.0f points, %@), the answer from %@ to %@, lens readability at the layer from %@ to %@ (%.0f points).",
                              e.layer, Self.percent(e.wordCorrectBefore), Self.percent(e.wordCorrectAfter), wordLost * 100, verdict,
                              Self.percent(e.answerCorrectBefore), Self.percent(e.answerCorrectAfter),
                              Self.percent(e.lensReadableBefore), Self.percent(e.lensReadableAfter), lensLost * 100))
        }
        return out
    }

    func markdown() -> String {
        var md = "# causal_interventions\n\nModel: `\(model)`; lens for erasure: `\(parameters.lens)`; wall time \(String(format: "%.0f", wallSeconds)) s.\n"
        md += "Rates are over held-out multiply problems and their add twins (same operands), with 95% Wilson intervals.\n"
        for s in stages {
            md += "\n## Stage \(s.stage) (\(s.pairs) pairs, \(String(format: "%.0f", s.seconds)) s)\n\n"
            md += "Unedited: operation word \(Self.percent(s.wordCorrect)), answer \(Self.percent(s.answerCorrect)).\n\n"
            md += "### Conclusions\n\n" + conclusions(s).map { "- \($0)" }.joined(separator: "\n") + "\n\n"
            md += "### Patching: the donor's word (and answer) by layer\n\n| layer | " + s.patching.map { "\($0.recipient)←\($0.donor) @\($0.position)" }.joined(separator: " | ") + " |\n"
            md += "|---|" + s.patching.map { _ in "---|" }.joined() + "\n"
            if let layers = s.patching.first?.layers {
                for (i, name) in layers.enumerated() {
                    md += "| \(name) | " + s.patching.map { "\(Self.percent($0.wordFollowsDonor[i])) (ans \(Int(($0.answerFollowsDonor[i].value * 100).rounded()))%)" }.joined(separator: " | ") + " |\n"
                }
            }
            md += "\n### Steering (α in units of the layer's mean residual norm)\n\n| layer | prompts → | " + parameters.steeringAlphas.map { "α=\($0)" }.joined(separator: " | ") + " |\n"
            md += "|---|---|" + parameters.steeringAlphas.map { _ in "---|" }.joined() + "\n"
            for c in s.steering {
                md += "| \(c.layer) | \(c.from) → \(c.toward) | " + c.wordSwitched.indices.map { "\(Self.percent(c.wordSwitched[$0])) (ans \(Int((c.answerSwitched[$0].value * 100).rounded()))%)" }.joined(separator: " | ") + " |\n"
            }
            md += "\n### Erasure\n\n| layer | word before | word after | answer before | answer after | lens before | lens after |\n|---|---|---|---|---|---|---|\n"
            for e in s.erasure {
                md += "| \(e.layer) | \(Self.percent(e.wordCorrectBefore)) | \(Self.percent(e.wordCorrectAfter)) | \(Self.percent(e.answerCorrectBefore)) | \(Self.percent(e.answerCorrectAfter)) | \(Self.percent(e.lensReadableBefore)) | \(Self.percent(e.lensReadableAfter)) |\n"
            }
            md += "\nExamples (prompt and unedited continuation): " + s.examples.map { "`\($0)`" }.joined(separator: "; ") + "\n"
        }
        return md
    }

    func plots() -> [(String, String)] {
        var out: [(String, String)] = []
        for s in stages {
            let series = s.patching.map { c in
                ChartSeries(name: "\(c.recipient)←\(c.donor) @\(c.position)", points: zip(c.layerIndices, c.wordFollowsDonor).map { (Double($0), $1.value) })
            }
            var chart = SVGLineChart(title: "\(s.stage): patching, donor's operation word by layer", xLabel: "layer (-1 = embed)",
                                     yLabel: "fraction following the donor", series: series, yRange: 0...1)
            chart.yScale = .linear
            out.append(("\(s.stage)_patching.svg", chart.render()))
            let steer = s.steering.map { c in
                ChartSeries(name: "\(c.layer) \(c.from)→\(c.toward)", points: zip(c.alphas, c.wordSwitched).map { ($0, $1.value) })
            }
            out.append(("\(s.stage)_steering.svg", SVGLineChart(title: "\(s.stage): steering along W_U[multiply] − W_U[add]", xLabel: "α (× mean residual norm)",
                                                                yLabel: "fraction whose word switched", series: steer, yRange: 0...1).render()))
        }
        return out
    }
}
