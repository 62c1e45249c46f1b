// The training step's workspace (Sources/Transformer/ActivationWorkspace.swift): reusing buffers changes no
// bit of the loss or the gradients, and after the first step a step of the same shapes allocates nothing large
// (counted by the workspace's hook and by the page faults the process takes). No timing here: the step time with
// and without the old allocator policy is in docs/performance.md.
import Foundation
import Kernels
import Transformer
import Testing
import Optimization
import Training
import LazarusTestSupport

@Suite struct StepWorkspaceTests {
    /// Minor page faults of this process so far: fresh pages the allocator had to take from the system.
    /// Minor page faults of the calling thread (Linux's RUSAGE_THREAD, 1). Not the process's: the other suites run
    /// beside this one and fault pages of their own (a full run once counted 1986 a step here). The step's arrays are
    /// allocated and first written on the calling thread, so a step that allocates its logits again still shows.
    static func pageFaults() -> Int {
        var usage = rusage()
        getrusage(1, &usage)
        return usage.ru_minflt
    }

    /// The pool itself: zero-filled arrays, the smallest held array that fits, nothing for empty entries, and
    /// `beginStep` dropping only what the previous step did not take.
    @Test func poolHandsOutTheSmallestFitAndDropsWhatAStepLeftUntaken() {
        let pool = ActivationWorkspace()
        pool.beginStep()
        var big = pool.array(count: 1000), small = pool.array(count: 100)
        #expect(pool.allocations == 2 && pool.array(count: 0).isEmpty && pool.allocations == 2)
        big[0] = 7; small[0] = 7
        pool.recycle(big); pool.recycle(small)
        let reused = pool.array(count: 90) // fits both: the 100 is taken, the 1000 stays
        #expect(pool.allocations == 2 && reused.count == 90 && reused.allSatisfy { $0 == 0 } && reused.capacity < 1000)
        pool.recycle(reused)
        pool.beginStep() // step 2: everything came back in step 1, nothing dropped
        #expect(pool.heldCount == 2)
        let taken = pool.array(count: 1000)
        pool.beginStep() // step 3: the 100-array was not taken in step 2, so it goes
        #expect(pool.heldCount == 0)
        pool.recycle(taken)
        #expect(pool.heldCount == 1 && pool.allocations == 2)
    }

    /// Three steps per family (pre-norm, QK-norm, pre+post norms, biases), the batch shape changing between
    /// them so that pooled buffers of other sizes are handed out: identical results with a workspace and without.
    @Test(arguments: TinyFamilies.names)
    func workspaceChangesNoResult(family: String) throws {
        let model = try TinyFamilies.load(family).model
        let settings = LoRASettings(rank: 2, alpha: 4, targets: Projection.linearModules)
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        var rng = SeededRandom(seed: 9)
        let workspace = ActivationWorkspace()
        for (step, lengths) in [[5, 3], [7], [5, 3]].enumerated() {
            let parameters = (0..<layout.count).map { _ in rng.uniform(-0.2, 0.2) }
            let batch = lengths.map { n in TrainingExample(tokens: (0..<n).map { _ in rng.below(model.config.vocabularySize) }) }
            let adapters = layout.adapters(from: parameters)
            let fresh = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch)
            let reused = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch, workspace: workspace)
            #expect(fresh.loss == reused.loss, "\(family) step \(step + 1)")
            #expect(layout.flatten(fresh.gradients) == layout.flatten(reused.gradients), "\(family) step \(step + 1)")
        }
    }

    /// A model with the default model's vocabulary (the [rows, V] logits are the step's largest buffer, 12 MB)
    /// and small blocks, batch 4 × 16, r16 on q/k/v/o as the benchmark: steps 2 and 3 take nothing new from the
    /// pool, and a step after the first faults in far fewer pages than its logits alone span. The fault count is the
    /// whole process's (getrusage), and Swift Testing runs other suites beside this one, so the check takes the
    /// quietest of steps 2-6: another test's faults can only add to a step's count, and a step that allocated its
    /// buffers afresh would fault in every one of those steps.
    @Test func secondStepAllocatesNothingLarge() throws {
        let config = ModelConfig(vocabularySize: 49152, hiddenSize: 128, intermediateSize: 384, layerCount: 4, headCount: 4,
                                 kvHeadCount: 2, headDim: 32, rmsNormEps: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true, contextLength: 256)
        let model = TransformerModel.random(config: config, seed: 3)
        let settings = LoRASettings(rank: 16, alpha: 32, targets: [.query, .key, .value, .output])
        let layout = LoRAParameterLayout(config: config, settings: settings)
        var parameters = (0..<layout.count).map { _ in Float(1e-3) }
        var optimizer = AdamWState(parameterCount: layout.count)
        var rng = SeededRandom(seed: 4)
        let batch = (0..<4).map { _ in TrainingExample(tokens: (0..<16).map { _ in rng.below(config.vocabularySize) }) }
        let workspace = ActivationWorkspace()
        var gradients: [Float] = []
        var allocations: [Int] = [], faults: [Int] = []
        for _ in 0..<6 {
            let before = Self.pageFaults()
            let r = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch,
                                                       workspace: workspace)
            layout.flatten(r.gradients, into: &gradients)
            AdamW.step(parameters: &parameters, gradients: gradients, state: &optimizer, learningRate: 1e-3, settings: AdamWSettings())
            faults.append(Self.pageFaults() - before)
            allocations.append(workspace.allocations)
        }
        // The same steps without a workspace, for the record only (what glibc returns to the system is its own
        // policy, so no bound is asserted on it).
        var withoutFaults: [Int] = []
        for _ in 0..<3 {
            let before = Self.pageFaults()
            let r = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch)
            AdamW.step(parameters: &parameters, gradients: layout.flatten(r.gradients), state: &optimizer, learningRate: 1e-3,
                       settings: AdamWSettings())
            withoutFaults.append(Self.pageFaults() - before)
        }
        let logitPages = 60 * config.vocabularySize * MemoryLayout<Float>.stride / 4096
        print("workspace: arrays allocated after steps 1-6 \(allocations), \(workspace.heldBytes >> 10) KiB held; "
              + "page faults per step \(faults), without a workspace \(withoutFaults) (the logits span \(logitPages) pages)")
        #expect(allocations[0] > 0)
        #expect(allocations.allSatisfy { $0 == allocations[0] })
        #expect(faults[1...].min()! < logitPages / 4)
    }
}
