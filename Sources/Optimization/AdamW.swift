// AdamW with decoupled weight decay (Loshchilov & Hutter; PyTorch's torch.optim.AdamW update order),
// over the flat parameter layout, plus global-norm gradient clipping. Not a schedule: the learning
// rate of each step comes from LearningRateSchedule.
import Foundation

public struct AdamWSettings: Sendable, Codable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0
    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// The optimiser's state: first and second moments in the parameters' layout, and the number of steps taken.
public struct AdamWState: Sendable, Equatable {
    public var m: [Float]
    public var v: [Float]
    public var step: Int
    public init(parameterCount: Int) {
        m = [Float](repeating: 0, count: parameterCount)
        v = m
        step = 0
    }
    public init(m: [Float], v: [Float], step: Int) {
        self.m = m
        self.v = v
        self.step = step
    }
}

public enum AdamW {
    /// One update, in place: p ← p − lr·wd·p; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
    /// p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
    public static func step(parameters p: inout [Float], gradients g: [Float], state: inout AdamWState,
                            learningRate lr: Float, settings s: AdamWSettings) {
        precondition(p.count == g.count && p.count == state.m.count && p.count == state.v.count, "AdamW: size mismatch")
        state.step += 1
        let t = Double(state.step)
        let correction1 = Float(1 - pow(Double(s.beta1), t))
        let correction2Root = Float((1 - pow(Double(s.beta2), t)).squareRoot())
        let stepSize = lr / correction1
        let decay = 1 - lr * s.weightDecay
        for i in 0..<p.count {
            let gi = g[i]
            let m = s.beta1 * state.m[i] + (1 - s.beta1) * gi
            let v = s.beta2 * state.v[i] + (1 - s.beta2) * gi * gi
            state.m[i] = m
            state.v[i] = v
            p[i] = p[i] * decay - stepSize * m / (v.squareRoot() / correction2Root + s.epsilon)
        }
    }
}

public enum GradientClipping {
    /// √Σ g² in Double.
    public static func globalNorm(_ g: [Float]) -> Double {
        var s = 0.0
        for x in g { s += Double(x) * Double(x) }
        return s.squareRoot()
    }

    /// Scales g so that its global norm is at most maxNorm (PyTorch's clip_grad_norm_: factor
    /// maxNorm / (norm + 1e-6), never above 1). Returns the norm before clipping.
    @discardableResult
    public static func clip(_ g: inout [Float], maxNorm: Float) -> Double {
        let norm = globalNorm(g)
        let factor = Double(maxNorm) / (norm + 1e-6)
        if factor < 1 {
            let f = Float(factor)
            for i in 0..<g.count { g[i] *= f }
        }
        return norm
    }
}
