// A paired comparison of two stages on the same items (exact McNemar), and the across-seed figures the flagship's
// conclusions are drawn from. The arithmetic is in Introspection's Statistics; this is its record in results.json.
import Introspection

public struct PairedTest: Codable, Sendable, Equatable {
    /// "answer_accuracy" or "lens_task_accuracy".
    public var measure: String
    /// The layer, for a lens test.
    public var layer: String?
    public var a: String
    public var b: String
    public var n: Int
    public var accuracyA: Double
    public var accuracyB: Double
    /// Items right under a only, and under b only (the discordant pairs).
    public var onlyA: Int
    public var onlyB: Int
    /// Two-sided exact McNemar p, and the same Holm-adjusted over the test's family.
    public var p: Double
    public var pHolm: Double

    enum CodingKeys: String, CodingKey {
        case measure, layer, a, b, n, p
        case accuracyA = "accuracy_a", accuracyB = "accuracy_b", onlyA = "only_a", onlyB = "only_b", pHolm = "p_holm"
    }

    public init(measure: String, layer: String?, a: String, b: String, outcomesA: [Bool], outcomesB: [Bool]) {
        let d = Statistics.discordant(outcomesA, outcomesB)
        let n = outcomesA.count
        self.measure = measure
        self.layer = layer
        self.a = a
        self.b = b
        self.n = n
        accuracyA = Double(outcomesA.filter { $0 }.count) / Double(max(1, n))
        accuracyB = Double(outcomesB.filter { $0 }.count) / Double(max(1, n))
        onlyA = d.b
        onlyB = d.c
        p = Statistics.mcNemarExact(b: d.b, c: d.c)
        pHolm = p
    }

    /// The family with each p Holm-adjusted over the family.
    public static func holmAdjusted(_ family: [PairedTest]) -> [PairedTest] {
        let adjusted = Statistics.holm(family.map(\.p))
        return zip(family, adjusted).map { t, q in var t = t; t.pHolm = q; return t }
    }
}

/// What the conclusions use: each figure per seed and its mean with a 95% t-interval across seeds.
public struct AcrossSeeds: Codable, Sendable, Equatable {
    /// A layer index per seed (nil where the criterion is never met) and the interval over the seeds that meet it.
    public struct LayerFigure: Codable, Sendable, Equatable {
        public var perSeed: [Int?]
        public var interval: Statistics.MeanInterval?
        /// Seeds where no layer meets the criterion.
        public var missing: Int

        public init(perSeed: [Int?]) {
            self.perSeed = perSeed
            let met = perSeed.compactMap { $0 }.map(Double.init)
            interval = met.isEmpty ? nil : Statistics.meanInterval(met)
            missing = perSeed.count - met.count
        }

        /// "L12, L13, none".
        var text: String { perSeed.map { $0.map { "L\($0)" } ?? "none" }.joined(separator: ", ") }

        enum CodingKeys: String, CodingKey { case perSeed = "per_seed", interval, missing }
    }

    public var seeds: [Int]
    /// Mean held-out answer accuracy per stage.
    public var heldoutAccuracy: [String: Statistics.MeanInterval]
    /// Direct SFT minus CoT SFT held-out accuracy, per seed paired on the same prompts.
    public var directMinusCoT: Statistics.MeanInterval?
    /// First layer whose lens task accuracy (primary form, prompt end) is at least 80%, per stage.
    public var firstLensLayer80: [String: LayerFigure]
    /// First layer whose lens arg-max is the model's own next token before the answer for at least 80% of prompts.
    public var nextTokenLayer80: [String: LayerFigure]
    public var positiveControlPassed: [Bool]
    /// The same first-layer figure read through the tuned lens (nil without `lens: tuned:DIR`).
    public var tunedFirstLensLayer80: [String: LayerFigure]?
    /// First layer whose cross-validated probe accuracy is at least 90% and beats the Hewitt–Liang control task by
    /// at least 0.3 (the probe's selectivity), per stage.
    public var probeFirstLayer90: [String: LayerFigure]?

    enum CodingKeys: String, CodingKey {
        case tunedFirstLensLayer80 = "tuned_first_lens_layer_80", probeFirstLayer90 = "probe_first_layer_90"
        case seeds, heldoutAccuracy = "heldout_accuracy", directMinusCoT = "direct_minus_cot"
        case firstLensLayer80 = "first_lens_layer_80", nextTokenLayer80 = "next_token_layer_80"
        case positiveControlPassed = "positive_control_passed"
    }
}
