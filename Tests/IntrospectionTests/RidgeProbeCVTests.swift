// The nested cross-validated ridge probe: its dual solve against a primal ridge fit computed independently here,
// pooled out-of-fold accuracy and its Wilson interval, grouped folds, the inner-CV choice of λ where the answer
// is known, and the tie rule.
import Introspection
import Kernels
import Testing

@Suite struct RidgeProbeCVTests {
    /// Three classes, each a cluster around its own axis, plus noise dimensions.
    static func clusters(perClass: Int, dims: Int, spread: Float, seed: UInt64) -> (Matrix, [Int]) {
        var rng = SeededRandom(seed: seed)
        var x = Matrix(rows: 3 * perClass, cols: dims)
        var labels: [Int] = []
        for r in 0..<(3 * perClass) {
            let c = r % 3
            labels.append(c)
            for j in 0..<dims { x[r, j] = (j == c ? 3 : 0) + spread * (Float(rng.below(2001)) / 1000 - 1) }
        }
        return (x, labels)
    }

    /// Primal ridge, solved by Gaussian elimination: standardise with the training rows, centre the one-hot targets,
    /// W = (XᵀX + nλI)⁻¹XᵀYc, scores = XW + Ȳ. An independent route to what the dual must predict.
    static func primalPredictions(_ x: Matrix, labels: [Int], train: [Int], test: [Int], classes: Int, lambda: Double) -> [Int] {
        let d = x.cols, n = Double(train.count)
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 1, count: d)
        for j in 0..<d {
            let v = train.map { Double(x[$0, j]) }
            mean[j] = v.reduce(0, +) / n
            let variance = v.map { ($0 - mean[j]) * ($0 - mean[j]) }.reduce(0, +) / n
            scale[j] = variance > 1e-12 ? 1 / variance.squareRoot() : 1
        }
        func z(_ r: Int) -> [Double] { (0..<d).map { (Double(x[r, $0]) - mean[$0]) * scale[$0] } }
        let ybar = (0..<classes).map { c in Double(train.filter { labels[$0] == c }.count) / n }
        // Augmented system [A | B] with A = XᵀX + nλI, B = XᵀYc.
        var a = [[Double]](repeating: [Double](repeating: 0, count: d + classes), count: d)
        for r in train {
            let zr = z(r)
            for i in 0..<d {
                for j in 0..<d { a[i][j] += zr[i] * zr[j] }
                for c in 0..<classes { a[i][d + c] += zr[i] * ((labels[r] == c ? 1 : 0) - ybar[c]) }
            }
        }
        for i in 0..<d { a[i][i] += n * lambda }
        for col in 0..<d {
            let pivot = (col..<d).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            a.swapAt(col, pivot)
            for r in 0..<d where r != col {
                let f = a[r][col] / a[col][col]
                for k in col..<(d + classes) { a[r][k] -= f * a[col][k] }
            }
        }
        let w = (0..<d).map { i in (0..<classes).map { c in a[i][d + c] / a[i][i] } }
        return test.map { r in
            let zr = z(r)
            let scores = (0..<classes).map { c in ybar[c] + (0..<d).reduce(0.0) { $0 + zr[$1] * w[$1][c] } }
            return scores.indices.max { scores[$0] < scores[$1] }!
        }
    }

    @Test func theDualSolveMakesThePrimalRidgePredictions() {
        // Overlapping clusters, so predictions depend on λ and a wrong solve would show.
        let (x, labels) = Self.clusters(perClass: 20, dims: 6, spread: 3, seed: 7)
        let train = Array(0..<42), test = Array(42..<60)
        let g = RidgeProbeCV.gram(x, fitRows: train)
        for lambda in [0.01, 1.0, 30.0] {
            let dual = RidgeProbeCV.fit(gram: g, total: x.rows, train: train, test: test, labelSets: [labels], classes: 3, grid: [lambda])[0][0]
            let primal = Self.primalPredictions(x, labels: labels, train: train, test: test, classes: 3, lambda: lambda)
            #expect(dual == primal, "λ = \(lambda)")
        }
    }

    @Test func choleskySolvesASmallSystem() {
        // A = [[4, 2], [2, 3]], B = [[2], [5]]: x = A⁻¹B = [-0.5, 2].
        let x = RidgeProbeCV.solveSPD([4, 2, 2, 3], n: 2, [2, 5], m: 1)
        #expect(abs(x[0] + 0.5) < 1e-12 && abs(x[1] - 2) < 1e-12)
    }

    @Test func separableClustersArePredictedOutOfFoldWithTheirWilsonInterval() {
        let (x, labels) = Self.clusters(perClass: 30, dims: 8, spread: 0.5, seed: 3)
        let r = RidgeProbeCV.run(features: x, labelSets: [labels], classes: 3, strata: labels, groups: nil,
                                 options: ProbeCVOptions(folds: 5, l2Grid: [0.01, 1]))[0]
        #expect(r.n == 90 && r.accuracy == 1 && r.correct.allSatisfy { $0 })
        // 90/90: Wilson's lower bound is n / (n + z²) = 90 / 93.8415.
        #expect(abs(r.low - 90 / (90 + 1.959963984540054 * 1.959963984540054)) < 1e-9 && r.high == 1)
        #expect(r.chosenL2.count == 5)
        // Every λ separates these clusters perfectly: the tie goes to the larger penalty in every fold.
        #expect(r.chosenL2 == [1, 1, 1, 1, 1])
    }

    @Test func innerCVRefusesAPenaltyThatFlattensTheProbe() {
        // Imbalanced classes (2:1) and separable features: λ = 1e6 shrinks the weights to nothing, so its scores are
        // the training shares and it predicts the majority class (2/3 right); λ = 0.001 separates (100%).
        var x = Matrix(rows: 60, cols: 4)
        var labels: [Int] = []
        var rng = SeededRandom(seed: 11)
        for r in 0..<60 {
            let c = r % 3 == 2 ? 1 : 0
            labels.append(c)
            for j in 0..<4 { x[r, j] = (j == c ? 4 : 0) + Float(rng.below(1001)) / 1000 }
        }
        let r = RidgeProbeCV.run(features: x, labelSets: [labels], classes: 2, strata: labels, groups: nil,
                                 options: ProbeCVOptions(folds: 4, l2Grid: [1e-3, 1e6]))[0]
        #expect(r.chosenL2 == [1e-3, 1e-3, 1e-3, 1e-3])
        #expect(r.accuracy == 1)
        // With only the flattening penalty on offer, the probe is the majority class.
        let flat = RidgeProbeCV.run(features: x, labelSets: [labels], classes: 2, strata: labels, groups: nil,
                                    options: ProbeCVOptions(folds: 4, l2Grid: [1e6]))[0]
        #expect(abs(flat.accuracy - 40.0 / 60) < 1e-12)
    }

    @Test func aLabelThatOnlyMemorisedGroupsCanScoreIsAtChanceUnderGroupedFolds() {
        // Items come in groups of 4 identical feature vectors (64 dimensions, 60 groups: a probe can fit any labelling of
        // the groups); the label is a random function of the group. Folds that split a group let the probe read a group's
        // label off its twins; grouped folds leave only chance.
        var rng = SeededRandom(seed: 5)
        let groupsCount = 60
        var x = Matrix(rows: 4 * groupsCount, cols: 64)
        var groups: [Int] = [], labels: [Int] = []
        let groupLabel = (0..<groupsCount).map { _ in rng.below(3) }
        let centres = (0..<groupsCount).map { _ in (0..<64).map { _ in Float(rng.below(2001)) / 1000 - 1 } }
        for r in 0..<(4 * groupsCount) {
            let g = r / 4
            groups.append(g)
            labels.append(groupLabel[g])
            for j in 0..<64 { x[r, j] = centres[g][j] }
        }
        let options = ProbeCVOptions(folds: 5, l2Grid: [1e-3])
        let split = RidgeProbeCV.run(features: x, labelSets: [labels], classes: 3, strata: labels, groups: nil, options: options)[0]
        let grouped = RidgeProbeCV.run(features: x, labelSets: [labels], classes: 3, strata: labels, groups: groups, options: options)[0]
        #expect(split.accuracy > 0.9, "twins on both sides: memorised")
        #expect(grouped.accuracy < 0.5, "groups whole: \(grouped.accuracy)")
    }

    @Test func badOptionsAreRefused() {
        #expect(throws: IntrospectionError.self) { try ProbeCVOptions(folds: 1).validate() }
        #expect(throws: IntrospectionError.self) { try ProbeCVOptions(l2Grid: []).validate() }
        #expect(throws: IntrospectionError.self) { try ProbeCVOptions(l2Grid: [-1]).validate() }
    }

    @Test func aProportionsIntervalIsClippedToTheUnitRange() {
        // 0.5 and 0.6 over two seeds: mean 0.55, half-width 12.7062 · 0.0707 / √2 = 0.6353 → [-0.085, 1.185].
        let m = Statistics.meanInterval([0.5, 0.6])
        let c = m.clipped(to: 0...1)
        #expect(m.low < 0 && m.high > 1)
        #expect(c.low == 0 && c.high == 1 && c.mean == m.mean && c.sd == m.sd && c.n == 2)
        let inside = Statistics.meanInterval([0.5, 0.52, 0.51]).clipped(to: 0...1)
        #expect(inside == Statistics.meanInterval([0.5, 0.52, 0.51]))
    }
}
