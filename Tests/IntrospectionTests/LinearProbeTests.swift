// The linear probe on synthetic data with known answers, and the helpers around it.
import Introspection
import Kernels
import Testing

@Suite struct LinearProbeTests {
    /// Three Gaussian clusters in 20 dimensions, separated along different axes.
    func clusters(perClass: Int, separation: Float, seed: UInt64) -> (Matrix, [Int]) {
        var rng = SeededRandom(seed: seed)
        let d = 20
        var x = Matrix(rows: 3 * perClass, cols: d)
        var labels: [Int] = []
        for k in 0..<3 {
            for i in 0..<perClass {
                let r = k * perClass + i
                for j in 0..<d { x[r, j] = Float(rng.normal()) + 50 } // a large offset: standardisation must remove it
                x[r, k] += separation
                labels.append(k)
            }
        }
        return (x, labels)
    }

    @Test func separableDataIsClassifiedPerfectly() {
        let (x, labels) = clusters(perClass: 60, separation: 12, seed: 1)
        let split = StratifiedSplit(labels: labels, testFraction: 0.2, seed: 42)
        let probe = LinearProbe.train(features: x, labels: labels, rows: split.train, classes: 3, options: ProbeOptions(epochs: 30))
        #expect(probe.accuracy(x, labels: labels, rows: split.test) == 1.0)
    }

    @Test func shuffledLabelsStayNearChance() throws {
        let (x, labels) = clusters(perClass: 100, separation: 12, seed: 2)
        var shuffled = labels
        var rng = SeededRandom(seed: 9)
        rng.shuffle(&shuffled)
        let split = StratifiedSplit(labels: shuffled, testFraction: 0.2, seed: 42)
        let probe = LinearProbe.train(features: x, labels: shuffled, rows: split.train, classes: 3, options: ProbeOptions(epochs: 30))
        let acc = probe.accuracy(x, labels: shuffled, rows: split.test)
        // 60 test examples, chance 1/3: anything above 0.6 would mean the probe finds structure in noise.
        #expect(acc < 0.6)
    }

    @Test func sweepReportsSelectivity() throws {
        let (x, labels) = clusters(perClass: 50, separation: 12, seed: 3)
        let noise = Matrix(rows: x.rows, cols: x.cols, values: (0..<x.count).map { _ in Float.random(in: -1...1, using: &Self.fixed) })
        let states = PromptHiddenStates(layerIndices: [-1, 0], states: [noise, x], finalLogits: Matrix(rows: x.rows, cols: 2))
        let results = try ProbeSweep.run(states: states, labels: labels, classes: 3, options: ProbeOptions(epochs: 30))
        #expect(results.map(\.name) == ["embed", "L0"])
        #expect(results[1].testAccuracy == 1.0)
        #expect(results[1].selectivity > 0.5)
        #expect(results[0].testAccuracy < 0.7)
        #expect(abs(results[1].selectivity - (results[1].testAccuracy - results[1].controlAccuracy)) < 1e-12)
    }
    nonisolated(unsafe) static var fixed = SeededRandom(seed: 77)

    @Test func stratifiedSplitKeepsClassShares() {
        let labels = Array(repeating: 0, count: 50) + Array(repeating: 1, count: 30) + Array(repeating: 2, count: 20)
        let s = StratifiedSplit(labels: labels, testFraction: 0.2, seed: 42)
        #expect(s.test.filter { labels[$0] == 0 }.count == 10)
        #expect(s.test.filter { labels[$0] == 1 }.count == 6)
        #expect(s.test.filter { labels[$0] == 2 }.count == 4)
        #expect(Set(s.train).isDisjoint(with: Set(s.test)))
        #expect(s.train.count + s.test.count == labels.count)
        #expect(s == StratifiedSplit(labels: labels, testFraction: 0.2, seed: 42))
        #expect(s != StratifiedSplit(labels: labels, testFraction: 0.2, seed: 43))
    }

    @Test func layerSelection() throws {
        #expect(try LayerSelection.parse("all", layerCount: 4) == [-1, 0, 1, 2, 3])
        #expect(try LayerSelection.parse("4,8", layerCount: 30) == [4, 8])
        #expect(try LayerSelection.parse("embed,L3", layerCount: 30) == [-1, 3])
        // The original experiment's rule: int(p × n_layers): 0.25 × 30 = 7.5 → 7; 0.95 × 30 = 28.5 → 28.
        #expect(try LayerSelection.parse("0.25,0.95", layerCount: 30) == [7, 28])
        #expect(throws: IntrospectionError.self) { try LayerSelection.parse("30", layerCount: 30) }
        #expect(throws: IntrospectionError.self) { try LayerSelection.parse("1.5", layerCount: 30) }
        #expect(throws: IntrospectionError.self) { try LayerSelection.parse("middle", layerCount: 30) }
    }
}
