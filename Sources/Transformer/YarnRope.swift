// YaRN RoPE scaling (rope_type "yarn": GPT-OSS, long-context Qwen), as transformers 5.24 computes it
// (modeling_rope_utils._compute_yarn_parameters): each inverse frequency is a blend of the plain one
// (extrapolation) and the plain one divided by `factor` (interpolation), by a linear ramp over the
// dimensions between the two correction dimensions of beta_fast and beta_slow rotations; cos and sin are
// then multiplied by the attention factor (default 0.1·ln(factor) + 1), so q·k grows by its square.
import Foundation
import Kernels

public struct YarnRopeScaling: Sendable, Equatable {
    public var factor: Double
    /// original_max_position_embeddings.
    public var originalMaxPositions: Double
    public var betaFast: Double
    public var betaSlow: Double
    /// Round the correction range outwards to whole dimensions (transformers' default true; GPT-OSS false).
    public var truncate: Bool
    /// An explicit attention_factor, or nil for 0.1·ln(factor) + 1.
    public var attentionFactor: Double?

    public init(factor: Double, originalMaxPositions: Double, betaFast: Double = 32, betaSlow: Double = 1,
                truncate: Bool = true, attentionFactor: Double? = nil) {
        self.factor = factor
        self.originalMaxPositions = originalMaxPositions
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.truncate = truncate
        self.attentionFactor = attentionFactor
    }

    /// The multiplier of cos and sin.
    public var magnitude: Float {
        if let a = attentionFactor { return Float(a) }
        return factor <= 1 ? 1 : Float(0.1 * log(factor) + 1)
    }

    /// Inverse frequencies [Dh/2] for base `theta`, in float32 where transformers uses float32.
    public func inverseFrequencies(headDim dim: Int, theta: Double) -> [Float] {
        func correctionDimension(_ rotations: Double) -> Double {
            Double(dim) * log(originalMaxPositions / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        var low = correctionDimension(betaFast), high = correctionDimension(betaSlow)
        if truncate { low = low.rounded(.down); high = high.rounded(.up) }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }  // transformers' guard against a zero-width ramp
        let half = dim / 2
        let f = Float(factor)
        return (0..<half).map { i -> Float in
            let base = Float(pow(theta, Double(Float(2 * i) / Float(dim))))
            let extrapolated = 1 / base
            let interpolated = 1 / (f * base)
            let ramp = min(max((Float(i) - Float(low)) / Float(high - low), 0), 1)
            let keep = 1 - ramp
            return interpolated * (1 - keep) + extrapolated * keep
        }
    }

    public func rotaryEmbedding(headDim: Int, theta: Double) -> RotaryEmbedding {
        RotaryEmbedding(headDim: headDim, inverseFrequencies: inverseFrequencies(headDim: headDim, theta: theta), magnitude: magnitude)
    }
}
