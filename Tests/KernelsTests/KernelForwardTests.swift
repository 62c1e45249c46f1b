// Forward kernels against hand-computed values and plain reference loops.
import Foundation
import Testing
import Kernels
import LazarusTestSupport

@Suite struct MatmulTests {
    @Test func linearMatchesReferenceLoop() {
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 33, 65), (64, 129, 96)] {
            let x = randomValues(m * k, seed: UInt64(m * 1000 + k))
            let w = randomValues(n * k, seed: UInt64(n * 7 + k))
            let fast = Matmul.linear(Matrix(rows: m, cols: k, values: x), Matrix(rows: n, cols: k, values: w))
            let ref = Matmul.referenceXWt(x, w, m: m, n: n, k: k)
            for i in 0..<(m * n) { #expect(abs(fast.values[i] - ref[i]) < 1e-4 * Float(k)) }
        }
    }

    @Test func handComputedProducts() {
        // x = [[1,2],[3,4]], w = [[5,6],[7,8],[9,10]]: x·wᵀ = [[17,23,29],[39,53,67]]
        let x = Matrix(rows: 2, cols: 2, values: [1, 2, 3, 4])
        let w = Matrix(rows: 3, cols: 2, values: [5, 6, 7, 8, 9, 10])
        #expect(Matmul.linear(x, w).values == [17, 23, 29, 39, 53, 67])
        // x·w' with w' = [[1,0,2],[0,1,3]] → [[1,2,8],[3,4,18]]
        var y = Matrix(rows: 2, cols: 3)
        Matmul.product(x, Matrix(rows: 2, cols: 3, values: [1, 0, 2, 0, 1, 3]), into: &y)
        #expect(y.values == [1, 2, 8, 3, 4, 18])
        // xᵀ·x = [[10,14],[14,20]]
        var g = Matrix(rows: 2, cols: 2)
        Matmul.transposedProduct(x, x, into: &g)
        #expect(g.values == [10, 14, 14, 20])
        // accumulate with alpha: g += 0.5·xᵀx
        Matmul.transposedProduct(x, x, into: &g, accumulate: true, alpha: 0.5)
        #expect(g.values == [15, 21, 21, 30])
    }
}

@Suite struct RMSNormTests {
    @Test func handComputed() {
        // Row [3, 4]: mean square 12.5, rstd = 1/sqrt(12.5 + eps).
        let x = Matrix(rows: 1, cols: 2, values: [3, 4])
        let y = RMSNorm.forward(x, weight: [1, 2], eps: 0)
        let r = 1 / Float(12.5).squareRoot()
        #expect(abs(y.values[0] - 3 * r) < 1e-6)
        #expect(abs(y.values[1] - 8 * r) < 1e-6)
    }
}

@Suite struct RotaryEmbeddingTests {
    @Test func rotatesHalvesByPositionTimesFrequency() {
        // Dh = 4, theta = 100: inverse frequencies [1, 0.1]. Element i pairs with i + 2.
        let rope = RotaryEmbedding(headDim: 4, theta: 100)
        #expect(abs(rope.inverseFrequencies[0] - 1) < 1e-7 && abs(rope.inverseFrequencies[1] - 0.1) < 1e-7)
        var m = Matrix(rows: 2, cols: 4, values: [1, 2, 3, 4, 1, 2, 3, 4])
        rope.forward(&m, heads: 1, positions: [0, 3])
        #expect(m.row(0) == [1, 2, 3, 4])  // position 0 is the identity
        let a0: Float = 3, a1: Float = 0.3
        let expected: [Float] = [1 * cos(a0) - 3 * sin(a0), 2 * cos(a1) - 4 * sin(a1), 3 * cos(a0) + 1 * sin(a0), 4 * cos(a1) + 2 * sin(a1)]
        for i in 0..<4 { #expect(abs(m[1, i] - expected[i]) < 1e-6) }
    }

    @Test func llama3ScalingKeepsHighAndDividesLowFrequencies() {
        let s = Llama3RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 16)
        let plain = RotaryEmbedding(headDim: 16, theta: 10000)
        let scaled = RotaryEmbedding(headDim: 16, theta: 10000, scaling: s)
        // wavelength 2π/f: < 16/4 = 4 stays; > 16 is divided by 8; between is interpolated.
        for (p, q) in zip(plain.inverseFrequencies, scaled.inverseFrequencies) {
            let wavelen = 2 * Float.pi / p
            if wavelen < 4 { #expect(q == p) } else if wavelen > 16 { #expect(abs(q - p / 8) < 1e-9) } else { #expect(q < p && q > p / 8) }
        }
    }

    @Test func backwardUndoesForward() {
        let rope = RotaryEmbedding(headDim: 8, theta: 10000)
        let x = randomValues(3 * 16, seed: 5)
        var m = Matrix(rows: 3, cols: 16, values: x)
        rope.forward(&m, heads: 2, positions: [0, 7, 100])
        rope.backward(&m, heads: 2, positions: [0, 7, 100])
        for i in 0..<x.count { #expect(abs(m.values[i] - x[i]) < 1e-5) }
    }
}

@Suite struct AttentionTests {
    /// Plain causal attention for one head, in Double.
    func reference(q: [Float], k: [Float], v: [Float], T: Int, S: Int, dh: Int) -> [Float] {
        var out = [Float](repeating: 0, count: T * dh)
        for t in 0..<T {
            let visible = S - T + t + 1
            var scores = (0..<visible).map { s in (0..<dh).reduce(0.0) { $0 + Double(q[t * dh + $1]) * Double(k[s * dh + $1]) } / Double(dh).squareRoot() }
            let m = scores.max()!
            scores = scores.map { exp($0 - m) }
            let z = scores.reduce(0, +)
            for d in 0..<dh { out[t * dh + d] = Float((0..<visible).reduce(0.0) { $0 + scores[$1] / z * Double(v[$1 * dh + d]) }) }
        }
        return out
    }

    @Test func singleHeadMatchesReference() {
        let T = 5, S = 5, dh = 8
        let q = randomValues(T * dh, seed: 1), k = randomValues(S * dh, seed: 2), v = randomValues(S * dh, seed: 3)
        let layout = AttentionLayout(queryRowOffsets: [0], queryCounts: [T], keyRowOffsets: [0], keyCounts: [S], heads: 1, kvHeads: 1, headDim: dh)
        var out = Matrix(rows: T, cols: dh)
        var probs: [Float] = []
        CausalAttention.forward(query: Matrix(rows: T, cols: dh, values: q), keys: k, values: v, layout: layout, output: &out, probabilities: &probs)
        let ref = reference(q: q, k: k, v: v, T: T, S: S, dh: dh)
        for i in 0..<ref.count { #expect(abs(out.values[i] - ref[i]) < 1e-5) }
        // The first position sees only itself: its output is v[0].
        for d in 0..<dh { #expect(abs(out.values[d] - v[d]) < 1e-6) }
    }

    @Test func cachedQueriesSeeEarlierKeys() {
        // Two new queries against five keys: they sit at positions 3 and 4.
        let T = 2, S = 5, dh = 4
        let q = randomValues(T * dh, seed: 11), k = randomValues(S * dh, seed: 12), v = randomValues(S * dh, seed: 13)
        let layout = AttentionLayout(queryRowOffsets: [0], queryCounts: [T], keyRowOffsets: [0], keyCounts: [S], heads: 1, kvHeads: 1, headDim: dh)
        var out = Matrix(rows: T, cols: dh)
        var probs = [Float](repeating: 0, count: layout.probabilityCount)
        CausalAttention.forward(query: Matrix(rows: T, cols: dh, values: q), keys: k, values: v, layout: layout, output: &out, probabilities: &probs)
        let ref = reference(q: q, k: k, v: v, T: T, S: S, dh: dh)
        for i in 0..<ref.count { #expect(abs(out.values[i] - ref[i]) < 1e-5) }
        #expect(probs[4] == 0)                       // row 0 (position 3) does not see key 4
        #expect(abs(probs[0..<4].reduce(0, +) - 1) < 1e-5)
        #expect(abs(probs[5..<10].reduce(0, +) - 1) < 1e-5)
    }

    @Test func groupedQueryHeadsReadTheirSharedKeyHead() {
        // 4 query heads, 2 kv heads: heads 0,1 read kv head 0; heads 2,3 read kv head 1.
        let T = 3, dh = 4, H = 4, Hkv = 2
        let q = randomValues(T * H * dh, seed: 21), k = randomValues(T * Hkv * dh, seed: 22), v = randomValues(T * Hkv * dh, seed: 23)
        let layout = AttentionLayout(queryRowOffsets: [0], queryCounts: [T], keyRowOffsets: [0], keyCounts: [T], heads: H, kvHeads: Hkv, headDim: dh)
        var out = Matrix(rows: T, cols: H * dh)
        var none: [Float] = []
        CausalAttention.forward(query: Matrix(rows: T, cols: H * dh, values: q), keys: k, values: v, layout: layout, output: &out, probabilities: &none)
        for h in 0..<H {
            let kvh = h / 2
            func slice(_ a: [Float], width: Int, head: Int) -> [Float] {
                var out: [Float] = []
                for t in 0..<T { let start = t * width + head * dh; out += a[start..<(start + dh)] }
                return out
            }
            let ref = reference(q: slice(q, width: H * dh, head: h), k: slice(k, width: Hkv * dh, head: kvh),
                                v: slice(v, width: Hkv * dh, head: kvh), T: T, S: T, dh: dh)
            for t in 0..<T { for d in 0..<dh { #expect(abs(out[t, h * dh + d] - ref[t * dh + d]) < 1e-5) } }
        }
    }
}
