// Next-token cross-entropy over the rows that carry a target: forward (mean loss) and backward
// (dLoss/dLogits) side by side. Not a softmax kernel: it calls Kernels' stable softmax and log-sum-exp.
import Foundation
import Kernels

public enum CrossEntropy {
    /// logits: [R, V], one row per counted target; targets: [R] ids.
    /// Returns the mean of −log softmax(logits_r)[target_r] and dLoss/dLogits = (softmax − onehot) / R.
    /// The log-sum-exp is taken against the row maximum with a Double sum, so large logits do not overflow;
    /// the softmax pass returns it and writes softmax / R in place of the logits (which the caller hands over:
    /// a 49152-wide vocabulary makes a copy cost more than the arithmetic), so the logits are read once.
    public static func lossAndGradient(logits: consuming Matrix, targets: [Int]) -> (loss: Double, dLogits: Matrix) {
        // Moved, not copied: a copy would leave the caller's buffer shared and the first write would copy it.
        var g = consume logits
        precondition(g.rows == targets.count, "cross-entropy: \(g.rows) rows, \(targets.count) targets")
        let R = g.rows, V = g.cols
        guard R > 0 else { return (0, g) }
        for r in 0..<R {
            precondition(targets[r] >= 0 && targets[r] < V, "cross-entropy: target \(targets[r]) outside 0..<\(V)")
        }
        // One softmax pass gives the probabilities and each row's log-sum-exp: −log p_t = lse − x_t.
        let targetLogits = (0..<R).map { g.values[$0 * V + targets[$0]] }
        let lse = Softmax.rows(&g, scaledBy: 1 / Double(R))
        var total = 0.0
        for r in 0..<R { total += lse[r] - Double(targetLogits[r]) }
        let inverse = 1 / Float(R)
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
