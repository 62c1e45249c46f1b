// The experiments' data and scoring: deterministic, disjoint where it must be, and scored as documented.
import Experiments
import Foundation
import Testing
import Datasets

@Suite struct ArithmeticDataTests {
    @Test func sameSeedSameBytesOtherSeedOtherData() throws {
        let a = ArithmeticDataset.make(trainSamples: 500, validSamples: 30, testSamples: 60, seed: 42)
        let b = ArithmeticDataset.make(trainSamples: 500, validSamples: 30, testSamples: 60, seed: 42)
        let c = ArithmeticDataset.make(trainSamples: 500, validSamples: 30, testSamples: 60, seed: 43)
        #expect(try JSONLines.encode(a.train.map { TextRecord(text: $0.chainOfThoughtText) })
                == JSONLines.encode(b.train.map { TextRecord(text: $0.chainOfThoughtText) }))
        #expect(a == b)
        #expect(a.train != c.train)
    }

    @Test func heldOutProblemsNeverAppearInTraining() {
        let d = ArithmeticDataset.make(trainSamples: 3000, validSamples: 60, testSamples: 300, seed: 42)
        let train = Set(d.train)
        #expect(train.isDisjoint(with: Set(d.test)))
        #expect(train.isDisjoint(with: Set(d.valid)))
        #expect(Set(d.valid).isDisjoint(with: Set(d.test)))
        #expect(Set(d.test).count == d.test.count) // distinct
        // Balanced classes: the same number per operation, multiplication's 121 problems capping it at 40%.
        for op in ArithmeticOperation.allCases {
            #expect(d.test.filter { $0.operation == op }.count == 48)
            #expect(d.valid.filter { $0.operation == op }.count == 12)
        }
        #expect(d.train.count == 3000)
        let small = ArithmeticDataset.make(trainSamples: 100, validSamples: 6, testSamples: 30, seed: 42)
        #expect(small.test.count == 30 && small.valid.count == 6)
    }

    @Test func commutedProblemsFallOnTheSameSide() {
        for matched in [false, true] {
            let d = ArithmeticDataset.make(trainSamples: 3000, validSamples: 60, testSamples: 300, seed: 42, matchedRanges: matched)
            let train = Set(d.train.map(\.unorderedPair)), valid = Set(d.valid.map(\.unorderedPair)), test = Set(d.test.map(\.unorderedPair))
            #expect(train.isDisjoint(with: test) && train.isDisjoint(with: valid) && valid.isDisjoint(with: test))
            // Every commuted form of a held-out multiplication is held out too (7 * 3 with 3 * 7).
            for p in d.test where p.operation != .subtract && p.a != p.b && !matched {
                #expect(d.test.contains(ArithmeticProblem(operation: p.operation, a: p.b, b: p.a)))
            }
        }
        // By hand: the pair of 3 * 7 is that of 7 * 3 and not that of 3 + 7.
        #expect(ArithmeticProblem(operation: .multiply, a: 3, b: 7).unorderedPair == ArithmeticProblem(operation: .multiply, a: 7, b: 3).unorderedPair)
        #expect(ArithmeticProblem(operation: .multiply, a: 3, b: 7).unorderedPair != ArithmeticProblem(operation: .add, a: 3, b: 7).unorderedPair)
    }

    @Test func controlTaskLabelIsFixedPerOperandPairType() {
        func label(_ op: ArithmeticOperation, _ a: Int, _ b: Int, seed: UInt64 = 42) -> Int {
            ArithmeticProblem(operation: op, a: a, b: b).unorderedPair.controlLabel(classes: 3, seed: seed)
        }
        // One label per unordered pair, whatever the order or the operation.
        for (a, b) in [(3, 7), (12, 2), (5, 5), (40, 1)] {
            let l = label(.multiply, a, b)
            #expect(label(.multiply, b, a) == l && label(.add, a, b) == l && label(.subtract, max(a, b), min(a, b)) == l)
        }
        // Over the 66 pairs of 2…12 the labels use every class (about 22 each; 12 is more than 2.5 sd below).
        var counts = [0, 0, 0]
        for a in 2...12 { for b in 2...a { counts[label(.add, a, b)] += 1 } }
        #expect(counts.reduce(0, +) == 66 && counts.allSatisfy { $0 >= 12 }, "\(counts)")
        // Another seed is another assignment.
        var differs = 0
        for a in 2...12 { for b in 2...a where label(.add, a, b) != label(.add, a, b, seed: 43) { differs += 1 } }
        #expect(differs > 20)
    }

    @Test func matchedRangesShareOneSetOfOperandPairs() {
        let universes = ArithmeticOperation.allCases.map { $0.universe(matchedRanges: true) }
        // a ≥ b in 2…20: 19 · 20 / 2 = 190 pairs for every operation, the same pairs.
        for u in universes { #expect(u.count == 190) }
        let pairs = universes.map { Set($0.map { [$0.a, $0.b] }) }
        #expect(pairs[0] == pairs[1] && pairs[1] == pairs[2])
        let d = ArithmeticDataset.make(trainSamples: 600, validSamples: 60, testSamples: 300, seed: 3, matchedRanges: true)
        // 40% of 190 is 76 per operation; 10% is 19.
        for op in ArithmeticOperation.allCases {
            #expect(d.test.filter { $0.operation == op }.count == 76)
            #expect(d.valid.filter { $0.operation == op }.count == 19)
        }
        for p in d.train + d.test + d.valid { #expect((2...20).contains(p.b) && p.b <= p.a && p.a <= 20) }
    }

    @Test func provenanceOfTheReferencePrompts() {
        let train = [ArithmeticProblem(operation: .multiply, a: 12, b: 5), ArithmeticProblem(operation: .add, a: 1, b: 2)]
        let d = ArithmeticDataset(train: train, valid: [ArithmeticProblem(operation: .multiply, a: 7, b: 8)],
                                  test: [ArithmeticProblem(operation: .multiply, a: 9, b: 9)])
        func status(_ s: String, seen: [ArithmeticProblem]? = nil) -> ProblemProvenance { d.provenance(of: ArithmeticProblem(parsing: s)!, trainedOn: seen) }
        #expect(status("9 * 9 = ") == .heldOut)
        #expect(status("7 * 8 =") == .validation)
        #expect(status("12 * 5 = ") == .inTraining)
        #expect(status("5 * 12 = ") == .inTraining)          // the commuted form was trained on
        #expect(status("12 * 5 = ", seen: [train[1]]) == .unseenInRange) // not among the examples actually seen
        #expect(status("23 + 45 = ") == .unseenInRange)
        #expect(status("100 - 43 = ") == .outOfRange)
        #expect(status("13 * 2 = ") == .outOfRange)
        #expect(ArithmeticProblem(parsing: "seven times eight") == nil)
        #expect(ArithmeticDataset.distinctProblems(train + train) == ["multiply": 1, "add": 1, "subtract": 0])
    }

    @Test func problemsStayInTheOriginalRanges() {
        let d = ArithmeticDataset.make(trainSamples: 2000, validSamples: 30, testSamples: 90, seed: 1)
        for p in d.train + d.test + d.valid {
            switch p.operation {
            case .multiply: #expect((2...12).contains(p.a) && (2...12).contains(p.b))
            case .add: #expect((1...50).contains(p.a) && (1...50).contains(p.b))
            case .subtract: #expect((1...50).contains(p.a) && (1...50).contains(p.b) && p.a >= p.b)
            }
        }
        #expect(ArithmeticOperation.multiply.universe.count == 121)
        #expect(ArithmeticOperation.add.universe.count == 2500)
        #expect(ArithmeticOperation.subtract.universe.count == 1275)
    }

    @Test func textFormats() {
        let p = ArithmeticProblem(operation: .multiply, a: 7, b: 8)
        #expect(p.directText == "7 * 8 = 56")
        #expect(p.chainOfThoughtText == "7 * 8 = multiply: 56")
        #expect(p.prompt(style: .aligned) == "7 * 8 =")
        #expect(p.prompt(style: .original) == "7 * 8 = ")
        #expect(ArithmeticProblem(operation: .subtract, a: 50, b: 8).chainOfThoughtText == "50 - 8 = subtract: 42")
    }

    @Test func answerExtraction() {
        #expect(AnswerScoring.extractAnswer(" multiply: 56") == 56)
        #expect(AnswerScoring.extractAnswer(" 56\n7 * 9 = multiply: 63") == 56)
        #expect(AnswerScoring.extractAnswer(" add: 12 + 3: 15") == 15)
        #expect(AnswerScoring.extractAnswer(" subtract: -4") == -4)
        #expect(AnswerScoring.extractAnswer(" the answer is 1,234") == 1)
        #expect(AnswerScoring.extractAnswer(" multiply:") == nil)
        #expect(AnswerScoring.extractAnswer("") == nil)
        // A chat reply: the last integer of the first non-empty line.
        #expect(AnswerScoring.extractLastInteger("7 * 8 = 56") == 56)
        #expect(AnswerScoring.extractLastInteger("\n\nThe answer is 68.\nBut 12 is not") == 68)
        #expect(AnswerScoring.extractLastInteger("34 - 50 = -16") == -16)
        #expect(AnswerScoring.extractLastInteger("no number") == nil)
    }

    @Test func wilsonIntervals() {
        // Hand-checked values: 8/9 → [0.565, 0.980]; 0/10 → [0, 0.278]; 50/100 → [0.404, 0.596].
        let a = Proportion(successes: 8, n: 9)
        #expect(abs(a.value - 0.8889) < 1e-4 && abs(a.low - 0.5650) < 1e-3 && abs(a.high - 0.9801) < 1e-3)
        let b = Proportion(successes: 0, n: 10)
        #expect(b.low == 0 && abs(b.high - 0.2775) < 1e-3)
        let c = Proportion(successes: 50, n: 100)
        #expect(abs(c.low - 0.4038) < 1e-3 && abs(c.high - 0.5962) < 1e-3)
        #expect(Proportion(successes: 90, n: 100).differs(from: Proportion(successes: 50, n: 100)))
        #expect(!Proportion(successes: 52, n: 100).differs(from: Proportion(successes: 50, n: 100)))
    }

    @Test func svgChartHoldsItsSeries() {
        let svg = SVGLineChart(title: "T <1>", xLabel: "x", yLabel: "y",
                               series: [ChartSeries(name: "a", points: [(0, 0.1), (1, 0.5)]), ChartSeries(name: "b", points: [(0, 1), (1, .nan)])],
                               yRange: 0...1).render()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("T &lt;1&gt;"))
        #expect(svg.components(separatedBy: "<polyline").count == 2) // b has one finite point: no line
        #expect(svg.contains(">a</text>") && svg.contains(">b</text>"))
    }
}
