// Every backward function against central finite differences of its forward.
import Foundation
import Testing
import Kernels
import LazarusTestSupport

@Suite struct KernelBackwardTests {
    @Test func rmsNormBackward() {
        let rows = 3, dim = 6
        let x = randomValues(rows * dim, seed: 1), w = randomValues(dim, seed: 2, range: 0.5...1.5)
        let c = randomValues(rows * dim, seed: 3)
        func loss(_ xv: [Float]) -> Double { weightedSum(RMSNorm.forward(Matrix(rows: rows, cols: dim, values: xv), weight: w, eps: 1e-5).values, c) }
        var rstd = [Float](repeating: 0, count: rows)
        var y = Matrix(rows: rows, cols: dim)
        let xm = Matrix(rows: rows, cols: dim, values: x)
        RMSNorm.forward(xm, weight: w, eps: 1e-5, into: &y, rstd: &rstd)
        var dx = Matrix(rows: rows, cols: dim)
        var dw = [Float](repeating: 0, count: dim)
        RMSNorm.backward(dy: Matrix(rows: rows, cols: dim, values: c), x: xm, weight: w, rstd: rstd, dx: &dx, accumulate: false, dWeight: &dw)
        #expect(relativeError(dx.values.map(Double.init), numericalGradient(x, step: 1e-2, loss)) < 2e-3)
        let dwNum = numericalGradient(w, step: 1e-2) { wv in weightedSum(RMSNorm.forward(xm, weight: wv, eps: 1e-5).values, c) }
        #expect(relativeError(dw.map(Double.init), dwNum) < 2e-3)
    }

    @Test func swigluBackward() {
        let n = 20
        let g = randomValues(n, seed: 4, range: -3...3), u = randomValues(n, seed: 5), c = randomValues(n, seed: 6)
        func f(_ gv: [Float], _ uv: [Float]) -> Double {
            var h = Matrix(rows: 1, cols: n)
            SwiGLU.forward(gate: Matrix(rows: 1, cols: n, values: gv), up: Matrix(rows: 1, cols: n, values: uv), into: &h)
            return weightedSum(h.values, c)
        }
        var dg = Matrix(rows: 1, cols: n), du = Matrix(rows: 1, cols: n)
        SwiGLU.backward(dh: Matrix(rows: 1, cols: n, values: c), gate: Matrix(rows: 1, cols: n, values: g), up: Matrix(rows: 1, cols: n, values: u), dGate: &dg, dUp: &du)
        #expect(relativeError(dg.values.map(Double.init), numericalGradient(g, step: 1e-2) { f($0, u) }) < 2e-3)
        #expect(relativeError(du.values.map(Double.init), numericalGradient(u, step: 1e-2) { f(g, $0) }) < 2e-3)
    }

    @Test func ropeBackward() {
        let rope = RotaryEmbedding(headDim: 8, theta: 10000)
        let x = randomValues(2 * 16, seed: 7), c = randomValues(2 * 16, seed: 8)
        let positions = [3, 9]
        func f(_ xv: [Float]) -> Double {
            var m = Matrix(rows: 2, cols: 16, values: xv)
            rope.forward(&m, heads: 2, positions: positions)
            return weightedSum(m.values, c)
        }
        var d = Matrix(rows: 2, cols: 16, values: c)
        rope.backward(&d, heads: 2, positions: positions)
        #expect(relativeError(d.values.map(Double.init), numericalGradient(x, step: 1e-2, f)) < 2e-3)
    }

    @Test func attentionBackwardWithGroupedHeadsAndTwoSequences() {
        let H = 4, Hkv = 2, dh = 4
        let lengths = [3, 5]
        let N = lengths.reduce(0, +)
        let layout = AttentionLayout(queryRowOffsets: [0, 3], queryCounts: lengths, keyRowOffsets: [0, 3], keyCounts: lengths,
                                     heads: H, kvHeads: Hkv, headDim: dh)
        let q = randomValues(N * H * dh, seed: 9), k = randomValues(N * Hkv * dh, seed: 10), v = randomValues(N * Hkv * dh, seed: 11)
        let c = randomValues(N * H * dh, seed: 12)
        func f(_ qv: [Float], _ kv: [Float], _ vv: [Float]) -> Double {
            var out = Matrix(rows: N, cols: H * dh)
            var none: [Float] = []
            CausalAttention.forward(query: Matrix(rows: N, cols: H * dh, values: qv), keys: kv, values: vv, layout: layout, output: &out, probabilities: &none)
            return weightedSum(out.values, c)
        }
        var out = Matrix(rows: N, cols: H * dh)
        var probs = [Float](repeating: 0, count: layout.probabilityCount)
        let qm = Matrix(rows: N, cols: H * dh, values: q)
        CausalAttention.forward(query: qm, keys: k, values: v, layout: layout, output: &out, probabilities: &probs)
        var dq = Matrix(rows: N, cols: H * dh), dk = Matrix(rows: N, cols: Hkv * dh), dv = Matrix(rows: N, cols: Hkv * dh)
        CausalAttention.backward(dOutput: Matrix(rows: N, cols: H * dh, values: c), query: qm, keys: Matrix(rows: N, cols: Hkv * dh, values: k),
                                 values: Matrix(rows: N, cols: Hkv * dh, values: v), probabilities: probs, layout: layout,
                                 dQuery: &dq, dKeys: &dk, dValues: &dv)
        #expect(relativeError(dq.values.map(Double.init), numericalGradient(q, step: 1e-2) { f($0, k, v) }) < 3e-3)
        #expect(relativeError(dk.values.map(Double.init), numericalGradient(k, step: 1e-2) { f(q, $0, v) }) < 3e-3)
        #expect(relativeError(dv.values.map(Double.init), numericalGradient(v, step: 1e-2) { f(q, k, $0) }) < 3e-3)
    }
}
