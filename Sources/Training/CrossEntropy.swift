// Next-token cross-entropy over the rows that carry a target: forward (mean loss) and backward
// (dLoss/dLogits) side by side. Not a softmax kernel: it calls Kernels' stable softmax and log-sum-exp.
import Foundation
import Kernels

public enum CrossEntropy {
    /// logits: [R, V], one row per counted target; targets: [R] ids.
    /// Returns the mean of −log softmax(logits_r)[target_r] and dLoss/dLogits = (softmax − onehot) / R.
    /// The log-sum-exp is taken against the row maximum with a Double sum, so large logits do not overflow;
    /// the softmax pass returns it, so the logits are read once for the loss and the gradient together.
    public static func lossAndGradient(logits: Matrix, targets: [Int]) -> (loss: Double, dLogits: Matrix) {
        precondition(logits.rows == targets.count, "cross-entropy: \(logits.rows) rows, \(targets.count) targets")
        let R = logits.rows, V = logits.cols
        guard R > 0 else { return (0, logits) }
        for r in 0..<R {
            precondition(targets[r] >= 0 && targets[r] < V, "cross-entropy: target \(targets[r]) outside 0..<\(V)")
        }
        // One softmax pass gives the probabilities and each row's log-sum-exp: −log p_t = lse − x_t.
        var g = logits
        let lse = Softmax.rows(&g)
        var total = 0.0
        for r in 0..<R { total += lse[r] - Double(logits.values[r * V + targets[r]]) }
        let inverse = 1 / Float(R)
        Elementwise.scale(&g, by: inverse)
        for r in 0..<R { g.values[r * V + targets[r]] -= inverse }
        return (total / Double(R), g)
    }

    /// The loss alone, summed in Double over rows (for evaluation and finite-difference tests).
    public static func loss(logits: Matrix, targets: [Int]) -> (sum: Double, count: Int) {
        let lse = Softmax.logSumExpRows(logits)
        var total = 0.0
        for r in 0..<logits.rows { total += lse[r] - Double(logits.values[r * logits.cols + targets[r]]) }
        return (total, logits.rows)
    }
}
