// Soft-target cross-entropy and KL divergence over rows of logits, forward and backward side by side: the
// losses of a tuned lens (KL to the model's own final distribution) and of distillation-like objectives.
// Not a softmax kernel: it calls Kernels' stable softmax and log-sum-exp.
import Foundation
import Kernels

public enum SoftTargetCrossEntropy {
    /// logits: [R, V]; targets: [R, V] probability rows (each sums to 1).
    /// Returns the mean over rows of −Σ_v p_v log softmax(logits)_v and dLoss/dLogits = (softmax − p) / R.
    public static func lossAndGradient(logits: Matrix, targets: Matrix) -> (loss: Double, dLogits: Matrix) {
        precondition(logits.rows == targets.rows && logits.cols == targets.cols, "soft cross-entropy: shape mismatch")
        let R = logits.rows, V = logits.cols
        guard R > 0 else { return (0, logits) }
        let lse = Softmax.logSumExpRows(logits)
        var total = 0.0
        for r in 0..<R {
            var row = 0.0
            for v in 0..<V {
                let p = Double(targets.values[r * V + v])
                if p != 0 { row -= p * (Double(logits.values[r * V + v]) - lse[r]) }
            }
            total += row
        }
        var g = logits
        Softmax.rows(&g, scaledBy: 1 / Double(R))
        let inverse = 1 / Float(R)
        for i in 0..<(R * V) { g.values[i] -= targets.values[i] * inverse }
        return (total / Double(R), g)
    }
}

public enum KLDivergence {
    /// Mean over rows of KL(p ‖ softmax(logits)) = Σ_v p_v (log p_v − log q_v), with p given as log-probabilities
    /// (so that p_v = 0 rows cost nothing and tiny p_v keep their precision). logits, targetLogProbabilities: [R, V].
    /// The gradient with respect to the logits is that of the soft-target cross-entropy: (q − p) / R.
    public static func lossAndGradient(logits: Matrix, targetLogProbabilities logP: Matrix) -> (loss: Double, dLogits: Matrix) {
        precondition(logits.rows == logP.rows && logits.cols == logP.cols, "KL: shape mismatch")
        let R = logits.rows, V = logits.cols
        guard R > 0 else { return (0, logits) }
        let lse = Softmax.logSumExpRows(logits)
        var total = 0.0
        var p = Matrix(rows: R, cols: V)
        for r in 0..<R {
            for v in 0..<V {
                let lp = Double(logP.values[r * V + v])
                let pv = exp(lp)
                p.values[r * V + v] = Float(pv)
                if pv > 0 { total += pv * (lp - (Double(logits.values[r * V + v]) - lse[r])) }
            }
        }
        var g = logits
        Softmax.rows(&g, scaledBy: 1 / Double(R))
        let inverse = 1 / Float(R)
        for i in 0..<(R * V) { g.values[i] -= p.values[i] * inverse }
        return (total / Double(R), g)
    }

    /// The loss alone, summed in Double over rows.
    public static func loss(logits: Matrix, targetLogProbabilities logP: Matrix) -> Double {
        lossAndGradient(logits: logits, targetLogProbabilities: logP).loss * Double(logits.rows)
    }
}
