// The flagship report's routing section, for mixture-of-experts models only (a dense model's report has none):
// per position, per MoE layer and stage (first seed), the probe on the router logits beside the residual probe
// and the lens at the same block, and the top expert's mutual information with the task; and sentences that
// count what the numbers show and nothing beyond them.
import Foundation
import Introspection

extension CoTReport {
    /// A routing probe is above chance when its Wilson interval lies above both 1/3 and the shuffled-label probe.
    static func probeAboveChance(_ l: RoutingLayerReading) -> Bool {
        l.probe.low > max(1.0 / 3.0, l.shuffledProbe.accuracy)
    }

    /// The information is told from zero when no more than 5% of label permutations reach it.
    static func informationAboveShuffled(_ l: RoutingLayerReading) -> Bool { l.topExpertInformation.pValue < 0.05 }

    /// One sentence per stage and position, counted from the readings.
    func routingSentences() -> [String] {
        var out: [String] = []
        for s in stages {
            guard let r = s.routing else { continue }
            for position in r.positions where !position.layers.isEmpty {
                let layers = position.layers, total = layers.count
                let above = layers.filter(Self.probeAboveChance)
                let informative = layers.filter(Self.informationAboveShuffled)
                func count(_ k: Int) -> String { k == 0 ? "none of the \(total)" : "\(k) of \(total)" }
                let best = layers.max { $0.probe.accuracy < $1.probe.accuracy }!
                let most = layers.max { $0.topExpertInformation.bits < $1.topExpertInformation.bits }!
                let m = most.topExpertInformation
                out.append("\(title(s)), `\(position.position)`: the probe on the router logits is above chance (95% interval above 1/3 and above the shuffled-label probe) at \(count(above.count)) MoE layers "
                    + String(format: "(highest %.1f%% at %@, interval %.1f–%.1f%%)", best.probe.accuracy * 100, best.name, best.probe.low * 100, best.probe.high * 100)
                    + "; the top expert's information about the task exceeds the shuffled-label baseline (permutation p < 0.05) at \(count(informative.count)) "
                    + String(format: "(largest %.3f bits at %@: corrected %.3f, shuffled 95th percentile %.3f, p = %.3g).", m.bits, most.name, m.correctedBits, m.shuffledP95Bits, m.pValue))
            }
        }
        return out
    }

    func routingMarkdown(_ pct: (Double, Int) -> String) -> String {
        guard let first = stages.compactMap(\.routing).first else { return "" }
        var md = "\n## Routing (mixture of experts, first seed)\n\n"
        md += "Per MoE layer Lk (its router reads the residual stream after block k's attention), on the probe set (\(first.n) prompts, \(first.experts) experts, top-\(first.expertsPerToken)): "
        md += "Router: the same nested-CV ridge probe as the residual stream's, on the \(first.experts) router logits (shuffled-label probe in brackets); "
        md += "I: the mutual information between the top-1 expert and the task in bits (Miller–Madow corrected; the 95th percentile over \(FlagshipRouting.permutations) label permutations; permutation p). "
        md += "At `prompt_end` the residual probe and the lens task accuracy at Lk's output stand beside them. "
        md += "The top-1 expert rather than the chosen set: the set has C(E, k) values, too many cells for a few hundred prompts. p ≥ 0.05 means no dependence detected at this n, not independence.\n\n"
        md += routingSentences().map { "- \($0)" }.joined(separator: "\n") + "\n"
        for position in FlagshipRouting.positions {
            let withRouting = stages.filter { $0.routing?.positions.contains { $0.position == position } == true }
            guard let layers = withRouting.first?.routing?.positions.first(where: { $0.position == position })?.layers else { continue }
            let residual = position == "prompt_end"
            md += "\n`\(position)`\n\n| Layer | " + withRouting.map { s in residual ? "\(title(s)) Router | I | Probe | Lens" : "\(title(s)) Router | I" }.joined(separator: " | ") + " |\n"
            md += "|---|" + withRouting.map { _ in residual ? "---|---|---|---|" : "---|---|" }.joined() + "\n"
            for l in layers {
                md += "| \(l.name) | " + withRouting.map { s -> String in
                    guard let r = s.routing?.positions.first(where: { $0.position == position })?.layers.first(where: { $0.index == l.index }) else {
                        return residual ? "– | – | – | –" : "– | –"
                    }
                    let i = r.topExpertInformation
                    var cell = "\(pct(r.probe.accuracy, 1)) (\(pct(r.shuffledProbe.accuracy, 1))) | "
                    cell += String(format: "%.3f (%.3f; %.3f; p %.2g)", i.bits, i.correctedBits, i.shuffledP95Bits, i.pValue)
                    if residual {
                        let row = self.row(s, l.index)
                        cell += " | \(pct(row?.probeAccuracy ?? .nan, 1)) | \(pct(row?.lensTaskAccuracy ?? .nan, 1))"
                    }
                    return cell
                }.joined(separator: " | ") + " |\n"
            }
        }
        return md
    }
}
