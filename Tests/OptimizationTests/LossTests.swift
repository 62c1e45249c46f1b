// The shared losses against finite differences and hand-computed cases: soft-target cross-entropy and KL
// divergence (the tuned lens's loss), whose gradients must equal (softmax − p) / R.
import Foundation
import Kernels
import LazarusTestSupport
import Optimization
import Testing

@Suite struct LossTests {
    let logits = Matrix(rows: 3, cols: 5, values: randomValues(15, seed: 4, range: -3...3))

    func probabilities(seed: UInt64) -> Matrix {
        var p = Matrix(rows: 3, cols: 5, values: randomValues(15, seed: seed, range: 0.1...1))
        for r in 0..<3 {
            let s = (0..<5).reduce(Float(0)) { $0 + p[r, $1] }
            for v in 0..<5 { p[r, v] /= s }
        }
        return p
    }

    @Test func softTargetCrossEntropyGradientMatchesFiniteDifferences() {
        let p = probabilities(seed: 8)
        let (loss, g) = SoftTargetCrossEntropy.lossAndGradient(logits: logits, targets: p)
        let numeric = numericalGradient(logits.values, step: 1e-2) { x in
            SoftTargetCrossEntropy.lossAndGradient(logits: Matrix(rows: 3, cols: 5, values: x), targets: p).loss
        }
        #expect(relativeError(g.values.map(Double.init), numeric) < 1e-3)
        // With a one-hot target it is the hard cross-entropy.
        var oneHot = Matrix(rows: 3, cols: 5)
        let targets = [1, 4, 0]
        for (r, t) in targets.enumerated() { oneHot[r, t] = 1 }
        let hard = CrossEntropy.lossAndGradient(logits: logits, targets: targets)
        let soft = SoftTargetCrossEntropy.lossAndGradient(logits: logits, targets: oneHot)
        #expect(abs(hard.loss - soft.loss) < 1e-6)
        #expect(zip(hard.dLogits.values, soft.dLogits.values).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(loss > 0)
    }

    @Test func klIsZeroAtTheTargetAndItsGradientMatchesFiniteDifferences() {
        let p = probabilities(seed: 9)
        var logP = p
        for i in logP.values.indices { logP.values[i] = log(logP.values[i]) }
        // KL(p ‖ softmax(log p)) = 0, with zero gradient.
        let atTarget = KLDivergence.lossAndGradient(logits: logP, targetLogProbabilities: logP)
        #expect(abs(atTarget.loss) < 1e-6 && atTarget.dLogits.values.allSatisfy { abs($0) < 1e-6 })
        let (loss, g) = KLDivergence.lossAndGradient(logits: logits, targetLogProbabilities: logP)
        #expect(loss > 0)
        let numeric = numericalGradient(logits.values, step: 1e-2) { x in
            KLDivergence.lossAndGradient(logits: Matrix(rows: 3, cols: 5, values: x), targetLogProbabilities: logP).loss
        }
        #expect(relativeError(g.values.map(Double.init), numeric) < 1e-3)
        // Hand-computed: p = (½, ½), q = softmax(0, log 3) = (¼, ¾): KL = ½ log 2 + ½ log(2/3).
        let two = KLDivergence.lossAndGradient(logits: Matrix(rows: 1, cols: 2, values: [0, Float(log(3.0))]),
                                               targetLogProbabilities: Matrix(rows: 1, cols: 2, values: [Float(log(0.5)), Float(log(0.5))]))
        #expect(abs(two.loss - (0.5 * log(2.0) + 0.5 * log(2.0 / 3.0))) < 1e-6)
    }
}
