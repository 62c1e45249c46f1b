// Linear probes: multinomial logistic regression on standardised hidden states with an L2 penalty,
// trained by mini-batch Adam (the shared AdamW) from a seed (the original experiment's probe_epochs / probe_lr / probe_batch_size), and the
// shuffled-label control that says how much of a probe's accuracy the representation, not the probe, earns.
import Foundation
import Kernels
import Optimization

public struct ProbeOptions: Sendable, Codable, Equatable {
    public var epochs: Int = 100
    public var learningRate: Double = 0.01
    public var batchSize: Int = 32
    /// Coefficient of ½‖W‖² (the bias is not penalised).
    public var l2: Double = 1e-3
    public var testFraction: Double = 0.2
    public var seed: UInt64 = 42

    public init(epochs: Int = 100, learningRate: Double = 0.01, batchSize: Int = 32, l2: Double = 1e-3,
                testFraction: Double = 0.2, seed: UInt64 = 42) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.l2 = l2
        self.testFraction = testFraction
        self.seed = seed
    }

    /// Refuses settings that would train nothing (0 epochs reads chance-level accuracy as a result) or diverge.
    public func validate() throws {
        func bad(_ why: String) -> IntrospectionError { .badInput(why) }
        guard epochs > 0 else { throw bad("probe epochs must be positive, got \(epochs)") }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("the probe learning rate must be a positive number, got \(learningRate)") }
        guard batchSize > 0 else { throw bad("the probe batch size must be positive, got \(batchSize)") }
        guard l2.isFinite, l2 >= 0 else { throw bad("the probe L2 penalty must be 0 or more, got \(l2)") }
        guard testFraction > 0, testFraction < 1 else { throw bad("the probe test fraction must be in (0, 1), got \(testFraction)") }
    }
}

public struct LinearProbe: Sendable {
    public var mean: [Float]      // [D] of the training rows
    public var scale: [Float]     // [D] 1/std of the training rows (1 where a feature is constant)
    public var weights: Matrix    // [K, D] on standardised features
    public var bias: [Float]      // [K]

    /// Standardised copy of the chosen rows.
    func standardise(_ features: Matrix, rows: [Int]) -> Matrix {
        var x = Elementwise.gatherRows(features, rows)
        let d = x.cols
        for r in 0..<x.rows { for j in 0..<d { x.values[r * d + j] = (x.values[r * d + j] - mean[j]) * scale[j] } }
        return x
    }

    /// Class scores [rows, K].
    public func scores(_ features: Matrix, rows: [Int]) -> Matrix {
        let x = standardise(features, rows: rows)
        var z = Matrix(rows: rows.count, cols: weights.rows)
        Matmul.linear(x, weights, into: &z)
        for r in 0..<z.rows { for k in 0..<z.cols { z.values[r * z.cols + k] += bias[k] } }
        return z
    }

    public func predict(_ features: Matrix, rows: [Int]) -> [Int] {
        let z = scores(features, rows: rows)
        return (0..<z.rows).map { TopK.argmax(z, $0) }
    }

    public func accuracy(_ features: Matrix, labels: [Int], rows: [Int]) -> Double {
        guard !rows.isEmpty else { return 0 }
        let predicted = predict(features, rows: rows)
        return Double(zip(predicted, rows).filter { $0 == labels[$1] }.count) / Double(rows.count)
    }

    /// Fits a probe to `features[rows]` with `labels` in 0..<classes.
    public static func train(features: Matrix, labels: [Int], rows: [Int], classes: Int, options: ProbeOptions) -> LinearProbe {
        let d = features.cols
        precondition(!rows.isEmpty && classes >= 2, "LinearProbe: needs training rows and at least two classes")
        // Standardisation statistics from the training rows only (Double sums: hidden states reach the hundreds).
        var mean = [Float](repeating: 0, count: d), scale = [Float](repeating: 1, count: d)
        for j in 0..<d {
            var s = 0.0, ss = 0.0
            for r in rows { let v = Double(features[r, j]); s += v; ss += v * v }
            let m = s / Double(rows.count)
            let variance = max(0, ss / Double(rows.count) - m * m)
            mean[j] = Float(m)
            scale[j] = variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
        var probe = LinearProbe(mean: mean, scale: scale, weights: Matrix(rows: classes, cols: d), bias: [Float](repeating: 0, count: classes))
        let x = probe.standardise(features, rows: Array(rows))
        let y = rows.map { labels[$0] }

        // Adam (the shared AdamW with no decoupled decay) on mean cross-entropy + ½·l2·‖W‖²; the parameters
        // are W then b in one flat layout, as the optimiser keeps them.
        let weightCount = classes * d
        var parameters = [Float](repeating: 0, count: weightCount + classes)
        var state = AdamWState(parameterCount: parameters.count)
        let settings = AdamWSettings(weightDecay: 0)
        var rng = SeededRandom(seed: options.seed)
        for _ in 0..<options.epochs {
            let order = rng.permutation(x.rows)
            var start = 0
            while start < order.count {
                let batch = Array(order[start..<min(order.count, start + max(1, options.batchSize))])
                start += batch.count
                let xb = Elementwise.gatherRows(x, batch)
                var z = Matrix(rows: batch.count, cols: classes)
                Matmul.linear(xb, probe.weights, into: &z)
                for r in 0..<batch.count {
                    for k in 0..<classes { z.values[r * classes + k] += probe.bias[k] }
                }
                // dL/dz = (softmax − onehot) / n.
                let dz = CrossEntropy.lossAndGradient(logits: z, targets: batch.map { y[$0] }).dLogits
                var gW = Matrix(rows: classes, cols: d)
                Matmul.transposedProduct(dz, xb, into: &gW)
                var gradients = gW.values
                for i in 0..<weightCount { gradients[i] += Float(options.l2) * probe.weights.values[i] }
                for k in 0..<classes {
                    var gb: Float = 0
                    for r in 0..<batch.count { gb += dz.values[r * classes + k] }
                    gradients.append(gb)
                }
                AdamW.step(parameters: &parameters, gradients: gradients, state: &state,
                           learningRate: Float(options.learningRate), settings: settings)
                probe.weights.values = Array(parameters[0..<weightCount])
                probe.bias = Array(parameters[weightCount...])
            }
        }
        return probe
    }
}

public struct ProbeLayerResult: Sendable, Codable, Equatable {
    public var name: String
    public var index: Int
    public var testAccuracy: Double
    /// The same probe trained and tested on labels shuffled by a seeded permutation (Hewitt & Liang's control idea).
    public var controlAccuracy: Double
    public var selectivity: Double
    /// Hewitt & Liang's control task: the same probe on labels fixed per item type (e.g. per operand pair) at random,
    /// so only memorising types can score; nil when no control task was given.
    public var controlTaskAccuracy: Double?
    /// Test examples (the denominator of every accuracy here).
    public var testCount: Int?

    public init(name: String, index: Int, testAccuracy: Double, controlAccuracy: Double, selectivity: Double,
                controlTaskAccuracy: Double? = nil, testCount: Int? = nil) {
        self.name = name
        self.index = index
        self.testAccuracy = testAccuracy
        self.controlAccuracy = controlAccuracy
        self.selectivity = selectivity
        self.controlTaskAccuracy = controlTaskAccuracy
        self.testCount = testCount
    }

    enum CodingKeys: String, CodingKey {
        case name, index
        case testAccuracy = "test_accuracy"
        case controlAccuracy = "control_accuracy"
        case selectivity
        case controlTaskAccuracy = "control_task_accuracy"
        case testCount = "test_count"
    }
}

public enum ProbeSweep {
    /// The train/test split every probe of a sweep uses (and reports its sizes from).
    public static func split(labels: [Int], options: ProbeOptions) -> StratifiedSplit {
        StratifiedSplit(labels: labels, testFraction: options.testFraction, seed: options.seed)
    }

    /// A probe and its control at every layer of `states`, on one stratified split.
    /// `controlTask`: labels of Hewitt & Liang's control task (in 0..<classes), trained and tested on the same split.
    public static func run(states: PromptHiddenStates, labels: [Int], classes: Int, options: ProbeOptions,
                           controlTask: [Int]? = nil) throws -> [ProbeLayerResult] {
        try options.validate()
        guard labels.count == states.finalLogits.rows else { throw IntrospectionError.badInput("one label per prompt is needed") }
        guard Set(labels).count >= 2 else { throw IntrospectionError.notEnoughData("a probe needs at least two classes, found \(Set(labels).count)") }
        let split = split(labels: labels, options: options)
        guard !split.test.isEmpty else { throw IntrospectionError.notEnoughData("too few examples for a test split") }
        var rng = SeededRandom(seed: options.seed ^ 0x5EED_C0DE)
        var shuffled = labels
        rng.shuffle(&shuffled)
        return states.layerIndices.enumerated().map { i, layer in
            let f = states.states[i]
            let probe = LinearProbe.train(features: f, labels: labels, rows: split.train, classes: classes, options: options)
            let control = LinearProbe.train(features: f, labels: shuffled, rows: split.train, classes: classes, options: options)
            let acc = probe.accuracy(f, labels: labels, rows: split.test)
            let ctl = control.accuracy(f, labels: shuffled, rows: split.test)
            let task = controlTask.map { t in
                LinearProbe.train(features: f, labels: t, rows: split.train, classes: classes, options: options).accuracy(f, labels: t, rows: split.test)
            }
            return ProbeLayerResult(name: LayerSelection.name(layer), index: layer, testAccuracy: acc, controlAccuracy: ctl, selectivity: acc - ctl,
                                    controlTaskAccuracy: task, testCount: split.test.count)
        }
    }
}
