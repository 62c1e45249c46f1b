// Batch order and target parsing: seeded, no repeats within a shuffle, readable errors.
import Transformer
import Testing
import Training

@Suite struct BatchSamplerTests {
    @Test func batchesCoverEachShuffleOnceAndRepeatFromTheSeed() {
        var a = BatchSampler(exampleCount: 10, seed: 4)
        var b = BatchSampler(exampleCount: 10, seed: 4)
        let first = (0..<3).flatMap { _ in a.next(batchSize: 3) }
        #expect(Set(first).count == 9)                        // one shuffle, no repeats
        #expect(first == (0..<3).flatMap { _ in b.next(batchSize: 3) })
        let next = a.next(batchSize: 3)                       // 1 left: a new shuffle starts
        #expect(Set(next).count == 3 && a == { b.next(batchSize: 3); return b }())
        var small = BatchSampler(exampleCount: 2, seed: 1)
        #expect(Set(small.next(batchSize: 4)) == [0, 1])
        #expect(BatchSampler(exampleCount: 10, seed: 5).order != BatchSampler(exampleCount: 10, seed: 4).order)
    }

    @Test func targetNames() throws {
        #expect(try LoRASettings.parseTargets("q_proj,v_proj") == [.query, .value])
        #expect(try LoRASettings.parseTargets("q, k,down") == [.query, .key, .down])
        #expect(try LoRASettings.parseTargets("all") == Projection.linearModules)
        #expect(throws: TrainingError.self) { try LoRASettings.parseTargets("q_proj,attn") }
        #expect(throws: TrainingError.self) { try LoRASettings(rank: 4, alpha: 8, targets: [.query, .query]).validate() }
    }
}
