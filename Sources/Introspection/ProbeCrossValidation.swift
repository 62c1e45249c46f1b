// Cross-validated linear probes with the L2 penalty chosen by inner cross-validation (nested CV), cheap enough
// for every layer of every stage: the probe is a ridge classifier (least squares onto one-hot labels, arg-max),
// solved in closed form in its dual, so one Gram matrix per layer and outer fold serves every penalty of the grid,
// every inner fold and every label set (task, Hewitt–Liang control task, shuffled labels) read from those states.
// Not the Adam-trained logistic probe of `introspect probe` (LinearProbe.swift): that one needs hundreds of steps
// per fit, and nested CV over 31 layers needs thousands of fits per stage.
import Foundation
import Kernels

public struct ProbeCVOptions: Sendable, Codable, Equatable {
    /// Outer folds: every item is predicted once, by a probe that never saw its group.
    public var folds: Int = 5
    /// Inner folds on each outer training part, to choose the penalty.
    public var innerFolds: Int = 3
    /// λ of the objective mean‖XW − Y‖² + λ‖W‖² on standardised features (the intercept is not penalised).
    public var l2Grid: [Double] = [1e-3, 1e-2, 1e-1, 1, 10]
    public var seed: UInt64 = 42

    public init(folds: Int = 5, innerFolds: Int = 3, l2Grid: [Double] = [1e-3, 1e-2, 1e-1, 1, 10], seed: UInt64 = 42) {
        (self.folds, self.innerFolds, self.l2Grid, self.seed) = (folds, innerFolds, l2Grid, seed)
    }

    enum CodingKeys: String, CodingKey { case folds, innerFolds = "inner_folds", l2Grid = "l2_grid", seed }

    public func validate() throws {
        func bad(_ why: String) -> IntrospectionError { .badInput(why) }
        guard folds >= 2 else { throw bad("probe folds must be at least 2, got \(folds)") }
        guard innerFolds >= 2 else { throw bad("probe inner folds must be at least 2, got \(innerFolds)") }
        guard !l2Grid.isEmpty else { throw bad("the probe L2 grid must list at least one value") }
        for l in l2Grid where !(l.isFinite && l >= 0) { throw bad("the probe L2 grid holds \(l); every value must be 0 or more") }
    }
}

/// One label set's cross-validated result at one layer.
public struct ProbeCVResult: Sendable, Codable, Equatable {
    /// Pooled out-of-fold accuracy: each item predicted once, by the fold that held it out.
    public var accuracy: Double
    /// 95% Wilson interval on the pooled out-of-fold predictions (n items). The folds' probes differ, so this
    /// treats the pooled predictions as independent: the usual approximation, slightly narrow.
    public var low: Double
    public var high: Double
    public var n: Int
    /// The penalty inner CV chose in each outer fold.
    public var chosenL2: [Double]
    /// Each item's out-of-fold prediction is right ("1") or not ("0"), in item order.
    public var correct: [Bool]

    enum CodingKeys: String, CodingKey { case accuracy, low, high, n, chosenL2 = "chosen_l2", correct }
}

public enum RidgeProbeCV {
    /// A symmetric positive-definite solve by Cholesky: returns A⁻¹B for A [n, n] and B [n, m], row-major Doubles.
    /// Raw pointers in the loops: this is the sweep's inner cost (thousands of solves per stage), and checked
    /// indexing made it three times slower.
    public static func solveSPD(_ a: [Double], n: Int, _ b: [Double], m: Int) -> [Double] {
        var l = a
        var x = b
        l.withUnsafeMutableBufferPointer { lp in
            let l = lp.baseAddress!
            for j in 0..<n {
                let rj = l + j * n
                var d = rj[j]
                for k in 0..<j { d -= rj[k] * rj[k] }
                let root = max(d, 1e-300).squareRoot()
                rj[j] = root
                var i = j + 1
                while i < n {
                    let ri = l + i * n
                    var s = ri[j]
                    for k in 0..<j { s -= ri[k] * rj[k] }
                    ri[j] = s / root
                    i += 1
                }
            }
            x.withUnsafeMutableBufferPointer { xp in
                let x = xp.baseAddress!
                // L Y = B, all columns at once (row by row).
                for i in 0..<n {
                    let ri = l + i * n, xi = x + i * m
                    for k in 0..<i {
                        let f = ri[k], xk = x + k * m
                        for c in 0..<m { xi[c] -= f * xk[c] }
                    }
                    let d = ri[i]
                    for c in 0..<m { xi[c] /= d }
                }
                // Lᵀ X = Y, from the last row up.
                var i = n - 1
                while i >= 0 {
                    let xi = x + i * m
                    for k in (i + 1)..<max(i + 1, n) {
                        let f = l[k * n + i], xk = x + k * m
                        for c in 0..<m { xi[c] -= f * xk[c] }
                    }
                    let d = l[i * n + i]
                    for c in 0..<m { xi[c] /= d }
                    i -= 1
                }
            }
        }
        return x
    }

    /// Gram matrix of the rows of `features` standardised with the mean and standard deviation of `fitRows`
    /// (those rows only: the held-out items do not inform the scaling). [n, n] over all rows, in Double.
    public static func gram(_ features: Matrix, fitRows: [Int]) -> [Double] {
        let d = features.cols, n = features.rows
        var x = features
        for j in 0..<d {
            var s = 0.0, ss = 0.0
            for r in fitRows { let v = Double(features[r, j]); s += v; ss += v * v }
            let m = s / Double(fitRows.count)
            let variance = max(0, ss / Double(fitRows.count) - m * m)
            let scale = variance > 1e-12 ? 1 / variance.squareRoot() : 1
            for r in 0..<n { x.values[r * d + j] = Float((Double(features[r, j]) - m) * scale) }
        }
        var g = Matrix(rows: n, cols: n)
        Matmul.linear(x, x, into: &g)
        return g.values.map(Double.init)
    }

    /// Ridge classifiers fitted on `train` and read on `test`, from the Gram matrix of all items: the features are
    /// centred on the training items inside the kernel (so the intercept is the training labels' mean, unpenalised),
    /// α = (K + nλI)⁻¹(Y − Ȳ), scores = K_test·α + Ȳ. One solve per λ serves every label set.
    /// Returns predictions[λ][labelSet][test item].
    public static func fit(gram g: [Double], total: Int, train: [Int], test: [Int], labelSets: [[Int]], classes: Int, grid: [Double]) -> [[[Int]]] {
        let n = train.count, t = test.count
        // Kernel centring on the training items: k(x,y) − m(x) − m(y) + mm, with m(x) the mean of k(x, train).
        func meanOverTrain(_ row: Int) -> Double { var s = 0.0; for j in train { s += g[row * total + j] }; return s / Double(n) }
        let mTrain = train.map(meanOverTrain), mTest = test.map(meanOverTrain)
        let mm = mTrain.reduce(0, +) / Double(n)
        var k = [Double](repeating: 0, count: n * n)
        for (a, i) in train.enumerated() { for (b, j) in train.enumerated() { k[a * n + b] = g[i * total + j] - mTrain[a] - mTrain[b] + mm } }
        var kt = [Double](repeating: 0, count: t * n)
        for (a, i) in test.enumerated() { for (b, j) in train.enumerated() { kt[a * n + b] = g[i * total + j] - mTest[a] - mTrain[b] + mm } }
        // Targets: one-hot per label set, centred on the training items; columns set by set.
        let m = labelSets.count * classes
        var y = [Double](repeating: 0, count: n * m), means = [Double](repeating: 0, count: m)
        for (s, labels) in labelSets.enumerated() {
            for (a, i) in train.enumerated() { y[a * m + s * classes + labels[i]] = 1 }
        }
        for c in 0..<m { var s = 0.0; for a in 0..<n { s += y[a * m + c] }; means[c] = s / Double(n) }
        for a in 0..<n { for c in 0..<m { y[a * m + c] -= means[c] } }
        let trace = (0..<n).reduce(0.0) { $0 + k[$1 * n + $1] }
        // λ = 0 is the minimum-norm least-squares fit; a jitter of 1e-6 of the mean diagonal (above the Float32 Gram's
        // rounding) keeps the centred kernel (rank at most n − 1) factorisable.
        let jitter = 1e-6 * max(trace / Double(max(1, n)), 1e-12)
        return grid.map { lambda in
            var a = k
            for i in 0..<n { a[i * n + i] += Double(n) * lambda + jitter }
            let alpha = solveSPD(a, n: n, y, m: m)
            return (0..<labelSets.count).map { s in
                (0..<t).map { row in
                    var best = 0, bestScore = -Double.infinity
                    for c in 0..<classes {
                        var score = means[s * classes + c]
                        for b in 0..<n { score += kt[row * n + b] * alpha[b * m + s * classes + c] }
                        if score > bestScore { (best, bestScore) = (c, score) }
                    }
                    return best
                }
            }
        }
    }

    /// Nested cross-validation of every label set on one layer's features. Outer folds are stratified by `strata`
    /// (the task labels) and keep each of `groups` whole; inside each outer training part the same kind of folds
    /// choose λ from the grid (the best mean inner accuracy; ties go to the larger λ, the simpler probe).
    /// Every label set gets its own λ per fold, by the same procedure, so controls are fitted as the probe is.
    public static func run(features: Matrix, labelSets: [[Int]], classes: Int, strata: [Int], groups: [Int]?,
                           options: ProbeCVOptions) -> [ProbeCVResult] {
        let total = features.rows
        let outer = StratifiedKFold(labels: strata, groups: groups, folds: options.folds, seed: options.seed)
        var predicted = [[Int]](repeating: [Int](repeating: -1, count: total), count: labelSets.count)
        var chosen = [[Double]](repeating: [], count: labelSets.count)
        for f in 0..<options.folds {
            let test = outer.folds[f], train = outer.train(fold: f)
            guard !test.isEmpty, !train.isEmpty else { continue }
            let g = gram(features, fitRows: train)
            // Inner folds over the outer training part (indices into `train`).
            let inner = StratifiedKFold(labels: train.map { strata[$0] }, groups: groups.map { gs in train.map { gs[$0] } },
                                        folds: options.innerFolds, seed: options.seed &+ UInt64(f + 1))
            var right = [[Int]](repeating: [Int](repeating: 0, count: options.l2Grid.count), count: labelSets.count)
            for i in 0..<options.innerFolds {
                let innerTest = inner.folds[i].map { train[$0] }, innerTrain = inner.train(fold: i).map { train[$0] }
                guard !innerTest.isEmpty, !innerTrain.isEmpty else { continue }
                let p = fit(gram: g, total: total, train: innerTrain, test: innerTest, labelSets: labelSets, classes: classes, grid: options.l2Grid)
                for (li, perSet) in p.enumerated() {
                    for (s, preds) in perSet.enumerated() {
                        right[s][li] += zip(preds, innerTest).filter { $0 == labelSets[s][$1] }.count
                    }
                }
            }
            let lambdas = labelSets.indices.map { s -> Double in
                let best = options.l2Grid.indices.max { a, b in
                    right[s][a] != right[s][b] ? right[s][a] < right[s][b] : options.l2Grid[a] < options.l2Grid[b]
                }!
                return options.l2Grid[best]
            }
            // Refit on the whole outer training part with each set's λ (one solve per distinct λ).
            for lambda in Set(lambdas).sorted() {
                let p = fit(gram: g, total: total, train: train, test: test, labelSets: labelSets, classes: classes, grid: [lambda])[0]
                for s in labelSets.indices where lambdas[s] == lambda {
                    for (preds, item) in zip(p[s], test) { predicted[s][item] = preds }
                }
            }
            for s in labelSets.indices { chosen[s].append(lambdas[s]) }
        }
        return labelSets.indices.map { s in
            let correct = (0..<total).map { predicted[s][$0] == labelSets[s][$0] }
            let k = correct.filter { $0 }.count
            let w = Statistics.wilson(successes: k, n: total)
            return ProbeCVResult(accuracy: Double(k) / Double(max(1, total)), low: w.low, high: w.high, n: total, chosenL2: chosen[s], correct: correct)
        }
    }
}
