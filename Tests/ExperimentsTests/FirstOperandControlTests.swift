// On the default model: the flagship's negative control — a probe that reads only the first operand ("7", the
// prompt cut before its operator) — is at chance when every operation draws its operands from one range, and is
// not when the ranges differ per operation (multiply 2…12; add, subtract 1…50): there the first operand alone
// carries the label, which is why the committed default run's control sits near 61% and the matched-ranges run's near 26%.
import Datasets
import Foundation
import Introspection
import Kernels
import Testing
import Transformer

@Suite struct FirstOperandControlTests {
    static func firstOperandAccuracy(matchedRanges: Bool, layers: [Int]) throws -> [Double] {
        let loaded = try ModelLoader.load("default")
        var rng = SeededRandom(seed: 7)
        var problems: [ArithmeticProblem] = []
        let universes = ArithmeticOperation.allCases.map { $0.universe(matchedRanges: matchedRanges) }
        let perOperation = min(90, universes.map(\.count).min()!)
        for var u in universes { rng.shuffle(&u); problems += u.prefix(perOperation) }
        let labels = problems.map { ArithmeticOperation.allCases.firstIndex(of: $0.operation)! }
        var ids: [UnorderedPair: Int] = [:]
        let groups = problems.map { p in ids[p.unorderedPair] ?? { ids[p.unorderedPair] = ids.count; return ids.count - 1 }() }
        let states = try HiddenStateCollector.collect(model: loaded.model, prompts: problems.map { loaded.tokenizer.encode("\($0.a)") })
        return layers.map { layer in
            RidgeProbeCV.run(features: states.states[layer + 1], labelSets: [labels], classes: 3, strata: labels, groups: groups,
                             options: ProbeCVOptions(folds: 5, l2Grid: [1e-2, 1, 100], seed: 42))[0].accuracy
        }
    }

    @Test func theFirstOperandProbeIsAtChanceOnlyWhenTheRangesMatch() throws {
        let layers = [0, 15, 29]
        // 270 prompts, chance 1/3: a Wilson 95% interval around 33% reaches about 39%.
        for (layer, accuracy) in zip(layers, try Self.firstOperandAccuracy(matchedRanges: true, layers: layers)) {
            #expect(accuracy < 0.42, "matched ranges, L\(layer): \(accuracy)")
        }
        // Different ranges: a first operand above 12 is never a multiplication, so the probe beats chance by far.
        for (layer, accuracy) in zip(layers, try Self.firstOperandAccuracy(matchedRanges: false, layers: layers)) {
            #expect(accuracy > 0.5, "original ranges, L\(layer): \(accuracy)")
        }
    }
}
