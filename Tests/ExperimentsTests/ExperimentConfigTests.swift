// Config decoding: defaults, overrides, unknown keys and bad values give errors that name the key.
import Experiments
import Foundation
import Testing

@Suite struct ExperimentConfigTests {
    let yaml = """
    name: cot_vocab_alignment
    description: test
    model: default
    parameters:
      num_samples: 100
      lora:
        rank: 8
        alpha: 16
        targets: [q_proj, v_proj]
    """

    @Test func missingKeysTakeDefaults() throws {
        let config = try ExperimentConfig.parse(yaml, source: "config.yaml")
        let p = try config.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
        #expect(p.numSamples == 100)
        #expect(p.lora.rank == 8 && p.lora.alpha == 16 && p.lora.targets == ["q_proj", "v_proj"])
        #expect(p.maxSteps == 500 && p.batchSize == 4 && p.learningRate == 0.0002 && p.seed == 42)
        #expect(p.testPrompts.count == 9 && p.evalSamples == 300 && p.promptStyle == .aligned)
        #expect(p.checkLayersPct == [0.25, 0.5, 0.55, 0.75, 0.85, 0.95])
    }

    @Test func overridesKeepTheirTypes() throws {
        let config = try ExperimentConfig.parse(yaml, source: "config.yaml",
                                                overrides: ["parameters.max_steps=50", "parameters.lora.alpha=8", "parameters.prompt_style=original",
                                                            "parameters.check_layers_pct=[0.5, 0.75]"])
        let p = try config.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
        #expect(p.maxSteps == 50 && p.lora.alpha == 8 && p.lora.rank == 8 && p.promptStyle == .original && p.checkLayersPct == [0.5, 0.75])
        // The style's old name still reads; a name it never had does not.
        let old = try ExperimentConfig.parse(yaml, source: "config.yaml", overrides: ["parameters.prompt_style=seed"])
        #expect(try old.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters).promptStyle == .original)
        let bad = try ExperimentConfig.parse(yaml, source: "config.yaml", overrides: ["parameters.prompt_style=trailing"])
        #expect(throws: (any Error).self) { try bad.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters) }
    }

    @Test func unknownKeyIsAnErrorListingValidKeys() throws {
        let typo = yaml.replacingOccurrences(of: "num_samples", with: "num_sample")
        let config = try ExperimentConfig.parse(typo, source: "config.yaml")
        do {
            _ = try config.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
            Issue.record("a misspelt key must be rejected")
        } catch let e as ExperimentError {
            let message = e.description
            #expect(message.contains("parameters.num_sample"))
            #expect(message.contains("num_samples") && message.contains("max_steps"))
        }
        let nested = try ExperimentConfig.parse(yaml, source: "c.yaml", overrides: ["parameters.lora.rnak=4"])
        #expect(throws: ExperimentError.self) {
            _ = try nested.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
        }
        #expect(throws: ExperimentError.self) { try ExperimentConfig.parse(yaml + "\nextra: 1\n", source: "c.yaml") }
    }

    @Test func wrongTypesAndBadYAMLNameTheProblem() throws {
        let config = try ExperimentConfig.parse(yaml, source: "c.yaml", overrides: ["parameters.max_steps=many"])
        do {
            _ = try config.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
            Issue.record("a string for an integer must be rejected")
        } catch let e as ExperimentError {
            #expect(e.description.contains("parameters.max_steps"))
        }
        #expect(throws: ExperimentError.self) { try ExperimentConfig.parse("name: [unclosed", source: "c.yaml") }
        #expect(throws: ExperimentError.self) { try ExperimentConfig.parse("- a\n- b\n", source: "c.yaml") }
        #expect(throws: ExperimentError.self) { try ExperimentConfig.parse(yaml, source: "c.yaml", overrides: ["novalue"]) }
    }

    @Test func shippedConfigsDecode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("experiments")
        for name in ["cot_vocab_alignment", "probe_classifier"] {
            let (experiment, config) = try ExperimentRunner.loadConfig(name, overrides: [], root: root)
            #expect(experiment.name == name && config.name == name)
        }
        #expect(throws: ExperimentError.self) { try ExperimentRegistry.named("no_such_experiment") }
    }

    @Test func hashIsStableAndSensitive() {
        #expect(ConfigHash.of(["a": 1, "b": 2]) == ConfigHash.of(["b": 2, "a": 1]))
        #expect(ConfigHash.of(["a": 1]) != ConfigHash.of(["a": 2]))
        #expect(ConfigHash.of(Data("abc".utf8)) == "e71fa2190541574b") // FNV-1a 64 of "abc"
    }
}
