// The shared training group: the flagship's adapter cache key is pinned (its JSON and hash for the default
// settings, as the key encoded before the group existed), the flagship's config keeps its flat keys, the group
// decodes from the flat keys beside an experiment's own, and causal_interventions now honours mask_prompt.
import Experiments
import Foundation
import Testing

@Suite struct SFTTrainingParametersTests {
    static let model = ModelIdentity(path: "/models/smollm2.gguf", bytes: 1000, layers: 30, vocabulary: 49152)

    /// The key the flagship's cot_sft stage of seed 42 is cached under: the fields, names, values and version of
    /// TrainStageKey v3 as it encoded before the shared group (the lead's running flagship finds its adapters by it).
    static let pinnedJSON = #"{"batchSize":4,"dataSeed":42,"learningRate":0.0002,"lora":{"alpha":32,"rank":16,"targets":["q_proj","k_proj","v_proj","o_proj"]},"maskPrompt":false,"matchedRanges":false,"maxSteps":500,"model":{"bytes":1000,"layers":30,"path":"\/models\/smollm2.gguf","vocabulary":49152},"numSamples":3000,"seed":42,"stage":"cot_sft","validSamples":60,"version":3}"#

    @Test func theFlagshipsStageKeyEncodesAsBefore() throws {
        let training = CoTVocabAlignment.defaultParameters.training
        let key = training.stageKey(model: Self.model, stage: "cot_sft", trainingSeed: 42)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(key), as: UTF8.self) == Self.pinnedJSON)
        // FNV-1a of the pinned text, computed apart (python3: the same 64-bit loop over its UTF-8 bytes).
        #expect(training.stageKeyHash(model: Self.model, stage: "cot_sft", trainingSeed: 42) == "3418f6060b1d2bd2")
        #expect(ConfigHash.of(Data(Self.pinnedJSON.utf8)) == training.stageKeyHash(model: Self.model, stage: "cot_sft", trainingSeed: 42))
    }

    @Test func theBaselineKeyLeavesTheTrainingSeedAndMaskOut() throws {
        var training = CoTVocabAlignment.defaultParameters.training
        training.maskPrompt = true
        let a = training.stageKeyHash(model: Self.model, stage: "baseline", trainingSeed: 42)
        let b = training.stageKeyHash(model: Self.model, stage: "baseline", trainingSeed: 43)
        training.maskPrompt = false
        #expect(a == b && a == training.stageKeyHash(model: Self.model, stage: "baseline", trainingSeed: 44))
        // A trained stage's key changes with the seed, the mask and the data seed when it varies.
        #expect(training.stageKeyHash(model: Self.model, stage: "cot_sft", trainingSeed: 42) != training.stageKeyHash(model: Self.model, stage: "cot_sft", trainingSeed: 43))
        training.varyDataSeed = true
        #expect(training.dataSeed(forTrainingSeed: 43) == 43)
        training.varyDataSeed = false
        #expect(training.dataSeed(forTrainingSeed: 43) == 42)
    }

    /// The flagship's parameters as config.yaml and results.json hold them: flat, the same keys as before the group.
    @Test func theFlagshipsParametersStayFlat() throws {
        let tree = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(CoTVocabAlignment.defaultParameters)) as? [String: Any])
        #expect(Set(tree.keys) == ["num_samples", "seed", "max_steps", "batch_size", "learning_rate", "lora", "check_layers_pct", "test_prompts",
                                   "eval_samples", "valid_samples", "prompt_style", "max_new_tokens", "probe_folds", "probe_l2_grid",
                                   "probe_samples_per_operation", "lens", "seeds", "vary_data_seed", "matched_ranges", "mask_prompt"])
        let back = try JSONDecoder().decode(CoTVocabAlignment.Parameters.self, from: JSONEncoder().encode(CoTVocabAlignment.defaultParameters))
        #expect(back == CoTVocabAlignment.defaultParameters)
        // The repository's config.yaml decodes with every key known.
        let url = ScratchExperiments.repositoryExperiments.appendingPathComponent("cot_vocab_alignment/config.yaml")
        let p = try ExperimentConfig.load(url).decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
        #expect(p == CoTVocabAlignment.defaultParameters)
    }

    @Test func causalInterventionsDecodesTheGroupBesideItsOwnKeys() throws {
        let yaml = """
            name: causal_interventions
            parameters:
              max_steps: 7
              mask_prompt: true
              pairs: 5
              lora:
                rank: 4
            """
        let config = try ExperimentConfig.parse(yaml, source: "config.yaml")
        let p = try config.decodeParameters(CausalInterventions.Parameters.self, defaults: CausalInterventions.defaultParameters)
        #expect(p.training.maxSteps == 7 && p.training.maskPrompt && p.training.lora.rank == 4 && p.training.lora.alpha == 32)
        #expect(p.pairs == 5 && p.stages == ["cot_sft"] && p.training.seeds == [42, 43, 44])
        // Its defaults are the flagship's, so that its keys find the flagship's adapters.
        #expect(CausalInterventions.defaultParameters.training == CoTVocabAlignment.defaultParameters.training)
        let bad = try ExperimentConfig.parse(yaml + "\n  bogus: 1\n", source: "config.yaml")
        #expect {
            try bad.decodeParameters(CausalInterventions.Parameters.self, defaults: CausalInterventions.defaultParameters)
        } throws: { "\($0)".contains("parameters.bogus") && "\($0)".contains("mask_prompt") }
    }

    @Test func aBadTrainingValueNamesItsKey() throws {
        var p = CausalInterventions.defaultParameters
        p.training.learningRate = -1
        #expect { try CausalInterventions.validate(p, source: "config.yaml") } throws: { "\($0)".contains("parameters.learning_rate") }
        var f = CoTVocabAlignment.defaultParameters
        f.seeds = [1, 1]
        #expect { try CoTVocabAlignment.validate(f, source: "config.yaml") } throws: { "\($0)".contains("parameters.seeds") }
    }
}
