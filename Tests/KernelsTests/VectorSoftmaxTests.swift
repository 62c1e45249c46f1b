// The vectorised exp and softmax against their scalar references (habit 14): the lens and the loss
// read every vocabulary entry through them.
import Foundation
import Testing
import Kernels

struct VectorSoftmaxTests {
    @Test func vectorExpMatchesFoundation() {
        var x: Float = -87
        while x < 88 {
            let fast = VectorExp.exp(x), reference = Foundation.exp(x)
            #expect(abs(fast - reference) <= 4e-7 * reference, "exp(\(x))")
            x += 0.173
        }
        #expect(VectorExp.exp(-100) == 0 && VectorExp.exp(-Float.infinity) == 0 && VectorExp.exp(0) == 1)
    }

    @Test func softmaxMatchesReferenceOnAVocabularyRow() {
        var rng = SeededRandom(seed: 7)
        for count in [1, 7, 8, 13, 1000, 49152] {
            let x = (0..<count).map { _ in rng.uniform(-30, 30) }
            var m = Matrix(rows: 1, cols: count, values: x)
            let lse = Softmax.rows(&m)[0]
            let reference = Softmax.referenceForward(x)
            for i in 0..<count { #expect(abs(m.values[i] - reference[i]) <= 1e-6 * max(reference[i], 1e-3)) }
            let m0 = Double(x.max()!)
            let referenceLSE = m0 + log(x.reduce(0.0) { $0 + Foundation.exp(Double($1) - m0) })
            #expect(abs(lse - referenceLSE) < 1e-5)
            #expect(abs(Softmax.logSumExp(x) - referenceLSE) < 1e-5)
        }
    }

    @Test func softmaxRepeatsExactlyAndHandlesMaskedRows() {
        var rng = SeededRandom(seed: 3)
        let x = (0..<49152).map { _ in rng.uniform(-10, 10) }
        var a = Matrix(rows: 1, cols: x.count, values: x), b = a
        Softmax.rows(&a)
        Softmax.rows(&b)
        #expect(a == b)
        var masked = Matrix(rows: 1, cols: 9, values: Array(repeating: -.infinity, count: 9))
        Softmax.rows(&masked)
        #expect(masked.values.allSatisfy { $0 == 0 })
    }
}
