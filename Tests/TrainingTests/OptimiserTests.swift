// AdamW, clipping and the learning-rate schedule against values worked out by hand.
import Foundation
import Testing
import Optimization
import Training

@Suite struct OptimiserTests {
    @Test func adamWFirstStepsMatchHandComputation() {
        var p: [Float] = [1.0, -2.0]
        var state = AdamWState(parameterCount: 2)
        let s = AdamWSettings(weightDecay: 0.1)
        AdamW.step(parameters: &p, gradients: [0.5, -0.25], state: &state, learningRate: 0.01, settings: s)
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) after decay p·(1 − lr·wd).
        func expected1(_ p0: Double, _ g: Double) -> Double { p0 * (1 - 0.001) - 0.01 * g / (abs(g) + 1e-8) }
        #expect(abs(Double(p[0]) - expected1(1, 0.5)) < 1e-6)
        #expect(abs(Double(p[1]) - expected1(-2, -0.25)) < 1e-6)
        #expect(abs(state.m[0] - 0.05) < 1e-7 && abs(state.v[0] - 0.00025) < 1e-8 * 3)
        // Step 2 by the formulas.
        let p1 = Double(p[0])
        AdamW.step(parameters: &p, gradients: [-1.0, 0], state: &state, learningRate: 0.01, settings: s)
        let m = 0.9 * 0.05 + 0.1 * -1.0, v = 0.999 * 0.00025 + 0.001 * 1.0
        let mHat = m / (1 - 0.81), vHat = v / (1 - 0.999 * 0.999)
        #expect(abs(Double(p[0]) - (p1 * 0.999 - 0.01 * mHat / (vHat.squareRoot() + 1e-8))) < 1e-6)
        #expect(state.step == 2)
    }

    @Test func clippingScalesToTheMaximumNorm() {
        var g: [Float] = [3, 4]
        let norm = GradientClipping.clip(&g, maxNorm: 1)
        #expect(abs(norm - 5) < 1e-9)
        #expect(abs(GradientClipping.globalNorm(g) - 1) < 1e-5)
        var small: [Float] = [0.3, 0.4]
        GradientClipping.clip(&small, maxNorm: 1)
        #expect(small == [0.3, 0.4])
    }

    @Test func scheduleValues() {
        let constant = LearningRateSchedule(peak: 1e-3, totalSteps: 10)
        #expect((0..<10).allSatisfy { constant.rate(step: $0) == 1e-3 })
        let warm = LearningRateSchedule(peak: 1, warmupSteps: 4, totalSteps: 10)
        #expect([0, 1, 2, 3, 4, 9].map { warm.rate(step: $0) } == [0.25, 0.5, 0.75, 1, 1, 1])
        let cosine = LearningRateSchedule(peak: 2, warmupSteps: 2, cosineDecay: true, totalSteps: 10)
        #expect(cosine.rate(step: 0) == 1)
        #expect(cosine.rate(step: 2) == 2)
        #expect(abs(cosine.rate(step: 6) - 1) < 1e-6)                    // half way through the decay
        #expect(abs(cosine.rate(step: 9) - Float(1 + cos(Double.pi * 7 / 8))) < 1e-6)
    }
}
