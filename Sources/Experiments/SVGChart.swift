// A line chart written as SVG by hand: numbered axes (linear, or logarithmic for probabilities that span
// many decades), one polyline with markers per series, a legend. Enough for depth curves and loss curves in
// a report, with no plotting dependency.
import Foundation

/// How values map to the vertical axis.
public enum AxisScale: Sendable, Equatable {
    /// Evenly spaced values over the chart's range.
    case linear
    /// Evenly spaced powers of ten from 10^lowest to 10^highest; values at or below 10^lowest (zeros
    /// included, which a log axis cannot show) sit on the bottom edge.
    case logarithmic(lowest: Int, highest: Int)

    /// A probability axis: logarithmic when the positive values span more than three decades (a linear axis
    /// would show all but the largest as 0), else linear. The log range is widened to whole decades.
    public static func probability(for values: [Double]) -> AxisScale {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let low = positive.min(), let high = positive.max(), high / low > 1e3 else { return .linear }
        let lowest = Int(floor(log10(low))), highest = Int(ceil(log10(high)))
        return .logarithmic(lowest: lowest, highest: max(highest, lowest + 1))
    }

    /// Where a value sits on a logarithmic axis: 0 at the bottom edge, 1 at the top; nil on a linear axis.
    public func logFraction(_ value: Double) -> Double? {
        guard case let .logarithmic(lowest, highest) = self else { return nil }
        guard value > 0 else { return 0 }
        return min(1, max(0, (log10(value) - Double(lowest)) / Double(highest - lowest)))
    }

    /// The decades that get a tick: every one up to eight, else every second or third so that at most
    /// about eight labels share the axis, always including the top.
    public static func logTicks(lowest: Int, highest: Int) -> [Int] {
        let span = highest - lowest
        let step = span <= 8 ? 1 : Int((Double(span) / 8).rounded(.up))
        return stride(from: highest, through: lowest, by: -step).reversed()
    }

    /// 10^exponent as a reader writes it: 1000, 1, 0.1, 0.01, then 1e-3, 1e-4, … (and 1e4 upwards).
    public static func powerOfTenLabel(_ exponent: Int) -> String {
        switch exponent {
        case 0...3: return String(Int(pow(10, Double(exponent))))
        case -2...(-1): return "0." + String(repeating: "0", count: -exponent - 1) + "1"
        default: return "1e\(exponent)"
        }
    }
}

public struct ChartSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// A thin line (one seed beside the mean): drawn faint, with no markers and no legend entry.
    public var thin: Bool = false
    /// The palette entry to draw in (a seed's thin line takes its mean's colour); nil: the series' legend slot.
    public var colorIndex: Int?
    public init(name: String, points: [(x: Double, y: Double)], thin: Bool = false, colorIndex: Int? = nil) {
        self.name = name
        self.points = points
        self.thin = thin
        self.colorIndex = colorIndex
    }
}

public struct SVGLineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [ChartSeries]
    /// Fixed y range (e.g. 0…1 for probabilities); nil fits the data. Linear axes only.
    public var yRange: ClosedRange<Double>?
    public var yScale: AxisScale = .linear
    public var width: Double = 720
    public var height: Double = 420
    /// Optional tick labels for x values (e.g. layer names).
    public var xTickLabels: [Double: String] = [:]

    public init(title: String, xLabel: String, yLabel: String, series: [ChartSeries], yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func render() -> String {
        let left = 70.0, right = 170.0, top = 40.0, bottom = 55.0
        let plotW = width - left - right, plotH = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        var xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        if xMax <= xMin { xMax = xMin + 1 }
        var yMin = yRange?.lowerBound ?? (ys.min() ?? 0)
        var yMax = yRange?.upperBound ?? (ys.max() ?? 1)
        if yMax <= yMin { yMax = yMin + 1 }
        if yRange == nil { let pad = (yMax - yMin) * 0.05; yMin -= pad; yMax += pad }
        if xs.isEmpty { xMin = 0; xMax = 1 }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double {
            if let fraction = yScale.logFraction(y) { return top + (1 - fraction) * plotH }
            return top + (1 - (y - yMin) / (yMax - yMin)) * plotH
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(f(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(esc(title))</text>\n"
        // Grid and ticks.
        let yTicks: [(value: Double, label: String)]
        if case let .logarithmic(lowest, highest) = yScale {
            yTicks = AxisScale.logTicks(lowest: lowest, highest: highest).map { (pow(10, Double($0)), AxisScale.powerOfTenLabel($0)) }
        } else {
            yTicks = (0...5).map { i in let y = yMin + Double(i) / 5 * (yMax - yMin); return (y, Self.tick(y)) }
        }
        for (y, label) in yTicks {
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(y)))\" stroke=\"#e5e5e5\"/>\n"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(label)</text>\n"
        }
        let xTicks: [Double]
        if !xTickLabels.isEmpty {
            let sorted = xTickLabels.keys.sorted()
            let stride = max(1, sorted.count / 10)
            xTicks = sorted.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        } else {
            xTicks = (0...6).map { xMin + Double($0) / 6 * (xMax - xMin) }
        }
        for x in xTicks {
            out += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + plotH + 4))\" stroke=\"#333\"/>\n"
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(esc(xTickLabels[x] ?? Self.tick(x)))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
        out += "<text transform=\"translate(18,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
        // Thin lines first, so the means they surround are drawn over them.
        var legendSlot = 0
        for s in series where s.thin {
            let color = Self.palette[(s.colorIndex ?? 0) % Self.palette.count]
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            guard pts.count > 1 else { continue }
            let path = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"0.8\" stroke-opacity=\"0.45\" points=\"\(path)\"/>\n"
        }
        for s in series where !s.thin {
            let i = legendSlot
            legendSlot += 1
            let color = Self.palette[(s.colorIndex ?? i) % Self.palette.count]
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            if pts.count > 1 {
                let path = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            }
            if pts.count <= 60 {
                for p in pts { out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(color)\"/>\n" }
            }
            let ly = top + 10 + Double(i) * 20
            out += "<line x1=\"\(f(left + plotW + 12))\" y1=\"\(f(ly))\" x2=\"\(f(left + plotW + 36))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            out += "<text x=\"\(f(left + plotW + 42))\" y=\"\(f(ly + 4))\">\(esc(s.name))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    static func tick(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 1 { return String(format: "%.2f", v) }
        return String(format: "%.3f", v)
    }
}
