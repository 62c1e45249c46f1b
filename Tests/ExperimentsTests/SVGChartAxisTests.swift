// The vertical axis of the depth plots: logarithmic exactly when probabilities span more than three
// decades, whole decades with labels a reader knows (1e-6, 1e-4, 0.01, 1), and points placed by log10.
import Experiments
import Foundation
import Testing

@Suite struct SVGChartAxisTests {
    @Test func probabilityAxisIsLogarithmicBeyondThreeDecades() {
        // The flagship's alignment curves: 1e-14 in early layers, ~1 at the last.
        #expect(AxisScale.probability(for: [3e-14, 2e-9, 0.004, 0.99]) == .logarithmic(lowest: -14, highest: 0))
        #expect(AxisScale.probability(for: [0.2, 0.5, 0.9]) == .linear)
        #expect(AxisScale.probability(for: [0.0011, 1]) == .linear, "2.96 decades stay linear")
        #expect(AxisScale.probability(for: [0.0009, 1]) == .logarithmic(lowest: -4, highest: 0), "3.05 decades go logarithmic")
        // Zeros and non-finite values cannot be placed on a log axis and do not decide it.
        #expect(AxisScale.probability(for: [0, .nan, 0.3, 0.6]) == .linear)
        #expect(AxisScale.probability(for: [0, 1e-7, 0.5]) == .logarithmic(lowest: -7, highest: 0))
        #expect(AxisScale.probability(for: []) == .linear)
        // Exactly three decades is not more than three; the top is the data's own decade, not always 1.
        #expect(AxisScale.probability(for: [1e-5, 0.01]) == .linear)
        #expect(AxisScale.probability(for: [1e-6, 0.01]) == .logarithmic(lowest: -6, highest: -2))
    }

    @Test func theFlagshipsAlignmentPlotGetsALogAxis() throws {
        // The committed full run: the values the alignment-by-depth plot draws.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/results/cot_vocab_alignment/results.json")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let stages = try #require(results["stages"] as? [String: [String: Any]])
        let values = stages.values.flatMap { ($0["layers"] as? [[String: Any]] ?? []).compactMap { $0["mean_task_prob"] as? Double } }
        #expect(values.count == 3 * 31)
        guard case let .logarithmic(lowest, highest) = AxisScale.probability(for: values) else {
            Issue.record("a linear axis for values from \(values.min() ?? 0) to \(values.max() ?? 0)"); return
        }
        #expect(lowest <= -14 && highest == 0, "\(lowest)…\(highest)")
        // Its accuracies (0…1, many exactly 0 or 1) keep the linear axis.
        let accuracies = stages.values.flatMap { ($0["layers"] as? [[String: Any]] ?? []).compactMap { $0["lens_task_accuracy"] as? Double } }
        #expect(AxisScale.probability(for: accuracies) == .linear)
    }

    @Test func logAxisPlacesValuesByTheirLogarithm() throws {
        let scale = AxisScale.logarithmic(lowest: -14, highest: 0)
        #expect(try #require(scale.logFraction(1e-7)) == 0.5)
        #expect(scale.logFraction(1) == 1 && scale.logFraction(1e-14) == 0)
        #expect(scale.logFraction(0) == 0 && scale.logFraction(1e-20) == 0, "below the range: the bottom edge")
        #expect(AxisScale.linear.logFraction(0.5) == nil)
    }

    @Test func tickLabelsAreReadable() {
        #expect([-6, -4, -3, -2, -1, 0, 2].map(AxisScale.powerOfTenLabel) == ["1e-6", "1e-4", "1e-3", "0.01", "0.1", "1", "100"])
        #expect(AxisScale.logTicks(lowest: -4, highest: 0) == [-4, -3, -2, -1, 0])
        let wide = AxisScale.logTicks(lowest: -14, highest: 0)
        #expect(wide == [-14, -12, -10, -8, -6, -4, -2, 0], "at most about eight labels, the top one included")
        #expect(AxisScale.logTicks(lowest: -20, highest: 0).count <= 8 && AxisScale.logTicks(lowest: -20, highest: 0).last == 0)
    }

    @Test func renderedLogChartShowsTheDecades() {
        var chart = SVGLineChart(title: "alignment", xLabel: "layer", yLabel: "probability",
                                 series: [ChartSeries(name: "cot", points: [(0, 1e-12), (1, 1e-6), (2, 0.9)])], yRange: 0...1)
        chart.yScale = .probability(for: chart.series[0].points.map(\.y))
        let svg = chart.render()
        for label in ["1e-12", "1e-6", "0.01", ">1<"] { #expect(svg.contains(label.hasPrefix(">") ? label : ">\(label)<"), "\(label) missing") }
        // The middle point sits at the middle decade's height, not on the floor as a linear 0…1 axis puts it.
        let linear = SVGLineChart(title: "alignment", xLabel: "layer", yLabel: "probability", series: chart.series, yRange: 0...1).render()
        func circleYs(_ text: String) -> [Double] {
            text.components(separatedBy: "<circle ").dropFirst().compactMap { part in
                part.components(separatedBy: "cy=\"").dropFirst().first?.components(separatedBy: "\"").first.flatMap(Double.init)
            }
        }
        let logYs = circleYs(svg), linearYs = circleYs(linear)
        #expect(logYs.count == 3 && linearYs.count == 3)
        #expect(abs(linearYs[0] - linearYs[1]) < 0.5, "on a linear axis 1e-12 and 1e-6 coincide")
        #expect(logYs[0] - logYs[1] > 100, "on the log axis they are six decades apart: \(logYs)")
    }

    @Test func perSeedThinLinesShareTheirMeansColourAndStayOutOfTheLegend() {
        let chart = SVGLineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            ChartSeries(name: "seed 42", points: [(0, 0.1), (1, 0.2)], thin: true, colorIndex: 1),
            ChartSeries(name: "CoT mean", points: [(0, 0.2), (1, 0.3)], colorIndex: 1),
            ChartSeries(name: "seed 43", points: [(0, 0.3), (1, 0.4)], thin: true, colorIndex: 1),
        ], yRange: 0...1)
        let svg = chart.render()
        #expect(svg.components(separatedBy: "stroke-width=\"0.8\"").count - 1 == 2, "two thin polylines")
        #expect(svg.components(separatedBy: "stroke-width=\"2\"").count - 1 == 1, "one mean polyline")
        #expect(svg.contains(">CoT mean<") && !svg.contains(">seed 42<") && !svg.contains(">seed 43<"), "only the mean in the legend")
        // Every line in palette entry 1; the thin ones carry no markers (the mean's two circles only).
        #expect(!svg.contains("#1f77b4") && svg.contains("#d62728"))
        #expect(svg.components(separatedBy: "<circle ").count - 1 == 2)
    }
}
