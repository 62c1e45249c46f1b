// config.yaml as untrusted input: hostile YAML (alias bombs, deep nesting) is refused before it can hang or
// overflow the stack, and every rejection names the file and the key or the line.
import Experiments
import Foundation
import Testing

@Suite struct ExperimentConfigBadFileTests {
    static func message(_ yaml: String, overrides: [String] = []) -> String {
        do {
            let config = try ExperimentConfig.parse(yaml, source: "config.yaml", overrides: overrides)
            _ = try config.decodeParameters(CoTVocabAlignment.Parameters.self, defaults: CoTVocabAlignment.defaultParameters)
            return "accepted"
        } catch { return "\(error)" }
    }

    /// Found by the experiment_config fuzz target: nine lines of anchors expand to 10^9 values; Yams took
    /// minutes and gigabytes constructing them.
    @Test func aliasBombIsRefused() {
        var lines = ["name: cot_vocab_alignment", "parameters:", "  num_samples: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
        for i in 1...8 { lines.append("  x\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let started = Date()
        let message = Self.message(lines.joined(separator: "\n"))
        #expect(message.hasPrefix("config.yaml: expands to more than"), "\(message)")
        #expect(Date().timeIntervalSince(started) < 5)
        // A few aliases, as people write them, still work.
        let modest = "name: cot_vocab_alignment\nparameters:\n  lora: &l {rank: 4, alpha: 8}\n  max_steps: 3\n"
        #expect(Self.message(modest).contains("parameters.lora") == false)
    }

    /// Found by fuzzing: 60,000 nested brackets overflowed the stack inside Yams' recursive composer.
    @Test func deepNestingIsRefused() {
        for deep in ["parameters:\n  a: " + String(repeating: "[", count: 60_000) + String(repeating: "]", count: 60_000),
                     "parameters:\n  a: " + String(repeating: "{a: ", count: 5_000) + String(repeating: "}", count: 5_000),
                     "parameters:\n" + String(repeating: "- ", count: 30_000) + "x",
                     "name: x\n" + (0..<400).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")] {
            #expect(Self.message(deep).hasPrefix("config.yaml: nests too deeply"))
        }
        #expect(Self.message("name: x", overrides: ["parameters.a=" + String(repeating: "[", count: 60_000)]).contains("nests too deeply"))
        // The shipped configs' depth is far below the limit.
        #expect(Self.message("name: cot_vocab_alignment\nparameters:\n  lora:\n    targets: [[q_proj]]\n").contains("nests") == false)
    }

    /// Found by fuzzing: a flow mapping with a list as a key (or a repeated key) trapped inside Yams' constructor.
    @Test func collectionOrRepeatedKeysAreRefused() {
        for yaml in ["name: x\np-CSmeters:\n  max_tsepsora: {proce_broj, v_prk: 0, [roj, v_p(p rk: 0, targ1etmeters:\n  max_tsoj]}\n",
                     "name: x\nparameters: {[a, b]: 1}\n", "name: x\nparameters: {{a: 1}: 2}\n", "name: x\nparameters: {a: 1, a: 2}\n",
                     "name: x\nname: y\n"] {
            #expect(Self.message(yaml).hasPrefix("config.yaml:"), "\(yaml.debugDescription): \(Self.message(yaml))")
        }
    }

    @Test func badYAMLNamesTheFileAndLine() {
        let message = Self.message("name: cot_vocab_alignment\nparameters:\n  max_steps: 3\n   bad indentation: [\n")
        #expect(message.hasPrefix("config.yaml: is not valid YAML"), "\(message)")
        #expect(message.contains("4:") || message.contains("line 4"), "\(message)")
        for text in ["\u{0}", "name: \"unterminated", "a: b: c", "parameters: {a: 1, a: 2}", "key: *undefined_alias", "%YAML 9.9\n---\na: 1"] {
            #expect(Self.message(text).hasPrefix("config.yaml:"), "\(text.debugDescription): \(Self.message(text))")
        }
    }

    @Test func wrongShapesNameTheKey() {
        let base = "name: cot_vocab_alignment\nparameters:\n"
        let cases: [(String, String)] = [
            (base + "  lora: 8\n", "parameters.lora"),
            (base + "  lora:\n    targets: q_proj\n", "parameters.lora.targets"),
            (base + "  check_layers_pct: [0.5, high]\n", "parameters.check_layers_pct[1]"),
            (base + "  max_steps: 1e999\n", "parameters"),
            (base + "  max_steps: 99999999999999999999999\n", "parameters.max_steps"),
            (base + "  max_steps: null\n", "parameters.max_steps"),
            (base + "  max_steps: 2024-01-01\n", "parameters"),
            ("name: [1]\n", "name"),
            ("name: x\nparameters: [1, 2]\n", "parameters"),
        ]
        for (yaml, key) in cases {
            let message = Self.message(yaml)
            #expect(message.hasPrefix("config.yaml: \(key)"), "\(yaml.debugDescription): \(message)")
        }
    }

    @Test func overridesForMissingOrScalarKeys() {
        let yaml = "name: cot_vocab_alignment\nparameters:\n  max_steps: 3\n"
        #expect(Self.message(yaml, overrides: ["parameters.no_such_key=3"]).contains("unknown key 'parameters.no_such_key'"))
        #expect(Self.message(yaml, overrides: ["parameters.max_steps.deeper=3"]).contains("'max_steps' is not a mapping"))
        #expect(Self.message(yaml, overrides: ["nowhere=1"]).contains("unknown key 'nowhere'"))
        #expect(Self.message(yaml, overrides: ["=1"]).contains("empty key"))
        #expect(Self.message(yaml, overrides: ["parameters.max_steps=[1"]).hasPrefix("--set 'parameters.max_steps=[1': is not valid YAML"))
    }
}
