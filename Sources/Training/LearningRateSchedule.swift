// The learning rate of each update: constant by default, with optional linear warm-up and cosine
// decay. Steps are 0-based update indices, so the first update already moves the weights.
import Foundation

public struct LearningRateSchedule: Sendable, Codable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var cosineDecay: Bool
    public var totalSteps: Int

    public init(peak: Float, warmupSteps: Int = 0, cosineDecay: Bool = false, totalSteps: Int) {
        self.peak = peak
        self.warmupSteps = max(0, warmupSteps)
        self.cosineDecay = cosineDecay
        self.totalSteps = totalSteps
    }

    /// Warm-up: peak·(s+1)/warmup for s < warmup. Cosine: peak·½(1 + cos(π·(s − warmup)/(total − warmup)))
    /// afterwards, so it starts at the peak and approaches zero at the last step.
    public func rate(step s: Int) -> Float {
        if s < warmupSteps { return peak * Float(s + 1) / Float(warmupSteps) }
        guard cosineDecay else { return peak }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(s - warmupSteps) / Double(span))
        return Float(Double(peak) * 0.5 * (1 + cos(Double.pi * progress)))
    }
}
