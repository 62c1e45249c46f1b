// What the tool writes satisfies the schemas in docs/schemas/: every --json / --output shape on the tiny
// model, the hidden-states metadata, and both experiments' results.json (small runs on the tiny model, and
// the committed flagship run). The checker itself is pinned by documents that break each keyword.
import Foundation
import ModelFiles
import Testing

@Suite struct SchemaConformanceTests {
    static let schemas = LazarusProcess.packageRoot.appendingPathComponent("docs/schemas")
    static let tiny = LazarusProcess.tinyModel.path

    static func schema(_ name: String) throws -> JSONSchemaCheck {
        try JSONSchemaCheck(contentsOf: schemas.appendingPathComponent("\(name).schema.json"))
    }

    static func expectConforms(_ data: Data, to name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let problems = try schema(name).violations(of: JSONValue.parse(data))
        #expect(problems.isEmpty, "\(name): \(problems.prefix(10).joined(separator: "; "))", sourceLocation: sourceLocation)
    }

    /// stdout of a run that must succeed.
    static func output(_ arguments: [String], environment: [String: String] = [:]) throws -> Data {
        let run = try LazarusProcess.run(arguments, environment: environment)
        guard run.status == 0 else { throw TestFailure("\(arguments): status \(run.status): \(run.stderr)") }
        return Data(run.stdout.utf8)
    }

    @Test func checkerReportsEachKeywordItChecks() throws {
        let check = try JSONSchemaCheck(schema: JSONValue.parse(Data("""
            {"type": "object", "required": ["a", "b"], "additionalProperties": false,
             "properties": {"a": {"type": "integer"}, "b": {"type": "array", "items": {"$ref": "#/$defs/word"}},
                            "c": {"type": ["string", "null"]}},
             "$defs": {"word": {"type": "string", "enum": ["x", "y"]}}}
            """.utf8)))
        func problems(_ text: String) throws -> [String] { check.violations(of: try JSONValue.parse(Data(text.utf8))) }
        #expect(try problems(#"{"a": 1, "b": ["x", "y"], "c": null}"#).isEmpty)
        #expect(try problems(#"{"a": 1.0, "b": []}"#).isEmpty, "1.0 is an integer in JSON Schema")
        #expect(try problems(#"{"a": 1}"#) == ["$: missing required 'b'"])
        #expect(try problems(#"{"a": 1.5, "b": []}"#).first?.hasPrefix("$.a: ") == true)
        #expect(try problems(#"{"a": true, "b": []}"#).first?.hasPrefix("$.a: ") == true, "a boolean is not a number")
        #expect(try problems(#"{"a": 1, "b": ["x", "z"]}"#).first?.hasPrefix("$.b[1]: ") == true)
        #expect(try problems(#"{"a": 1, "b": [3]}"#).first?.hasPrefix("$.b[0]: ") == true)
        #expect(try problems(#"{"a": 1, "b": [], "d": 0}"#) == ["$.d: not allowed"])
        #expect(try problems(#"[1]"#).count == 1)
        let unknown = try JSONSchemaCheck(schema: JSONValue.parse(Data(#"{"type": "integer", "minimum": 0}"#.utf8)))
        #expect(unknown.violations(of: .number(3)).first?.contains("'minimum'") == true, "an unchecked keyword is refused, not ignored")
    }

    @Test func commandOutputsConform() throws {
        let folder = try temporaryFolder("schemas")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.expectConforms(Self.output(["tokenize", Self.tiny, "7 * 8 =", "--json"]), to: "tokenize")
        try Self.expectConforms(Self.output(["generate", Self.tiny, "7 * 8 =", "--max-tokens", "3", "--json"]), to: "generate")
        try Self.expectConforms(Self.output(["model", "info", Self.tiny, "--json"]), to: "model_info")

        let lensFile = folder.appendingPathComponent("lens.json")
        let lens = try Self.output(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "7 * 8 =|1 + 2 =", "--targets", "add",
                                    "--targets", "multiply", "--layers", "embed,L1", "--top-k", "2", "--json", "--output", lensFile.path])
        try Self.expectConforms(lens, to: "logit_lens")
        #expect(try JSONValue.parse(Data(contentsOf: lensFile)) == JSONValue.parse(lens), "--output and --json are one report")

        let data = folder.appendingPathComponent("probe.jsonl")
        let records = (0..<10).flatMap { i in [#"{"prompt": "\#(i) * 8 =", "task": "multiply"}"#, #"{"prompt": "\#(i) + 2 =", "task": "add"}"#] }
        try Data(records.joined(separator: "\n").utf8).write(to: data)
        try Self.expectConforms(Self.output(["introspect", "probe", "--model", Self.tiny, "--data", data.path, "--epochs", "3", "--json"]), to: "probe")

        let lensFolder = folder.appendingPathComponent("tuned")
        let corpus = LazarusProcess.packageRoot.appendingPathComponent("Tests/IntrospectionTests/Fixtures/corpus/fortunes_literature_sample.txt")
        let trained = try Self.output(["lens", "train", "--model", Self.tiny, "--corpus", corpus.path, "--output", lensFolder.path,
                                       "--steps", "2", "--batch-size", "2", "--sequence-length", "8", "--json"])
        try Self.expectConforms(trained, to: "tuned_lens")
        #expect(try JSONValue.parse(Data(contentsOf: lensFolder.appendingPathComponent("tuned_lens.json"))) == JSONValue.parse(trained))
        let tunedReading = try Self.output(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "7 * 8 =", "--targets", "add",
                                            "--layers", "embed,L1", "--lens", "tuned:\(lensFolder.path)", "--json"])
        try Self.expectConforms(tunedReading, to: "logit_lens")
        guard case let .object(reading) = try JSONValue.parse(tunedReading) else { Issue.record("not an object"); return }
        #expect(reading["lens"] == .string("tuned"))

        try Self.expectConforms(Self.output(["bench", "--model", Self.tiny, "--quick", "--only", "prefill", "--json"]), to: "bench")

        let hidden = folder.appendingPathComponent("h.safetensors")
        _ = try Self.output(["introspect", "hidden-states", "--model", Self.tiny, "--prompts", "a|bc", "--output", hidden.path])
        var decoded: [String: JSONValue] = [:]
        for (key, text) in try SafetensorsFile(contentsOf: hidden).metadata { decoded[key] = try JSONValue.parse(Data(text.utf8)) }
        let problems = try Self.schema("hidden_states_metadata").violations(of: .object(decoded))
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func experimentResultsConform() throws {
        let root = try temporaryFolder("schema-experiments")
        defer { try? FileManager.default.removeItem(at: root) }
        let configs = [
            "cot_vocab_alignment": "parameters:\n  num_samples: 60\n  max_steps: 2\n  eval_samples: 6\n  valid_samples: 4\n  probe_folds: 3\n  probe_samples_per_operation: 12\n  lora:\n    rank: 2\n",
            "probe_classifier": "parameters:\n  num_samples: 60\n  probe_epochs: 3\n",
            "causal_interventions": "parameters:\n  num_samples: 60\n  max_steps: 2\n  eval_samples: 30\n  valid_samples: 4\n  lora:\n    rank: 2\n"
                + "  pairs: 3\n  patch_layers: embed\n  steering_layers_pct: [0.5]\n  steering_alphas: [0, 1]\n  max_new_tokens: 3\n",
            "vocab_objective": "parameters:\n  num_samples: 60\n  max_steps: 2\n  eval_samples: 30\n  valid_samples: 4\n  seeds: [42]\n  lambdas: [0, 1]\n"
                + "  probe_epochs: 3\n  max_new_tokens: 3\n  lora:\n    rank: 2\n",
            "scale_comparison": "parameters:\n  models: [\(Self.tiny)]\n  num_samples: 60\n  max_steps: 2\n  eval_samples: 6\n  valid_samples: 4\n"
                + "  probe_folds: 2\n  probe_samples_per_operation: 6\n  lora:\n    rank: 2\n",
        ]
        for (name, parameters) in configs {
            let config = root.appendingPathComponent("\(name)/config.yaml")
            try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("name: \(name)\nmodel: \(Self.tiny)\n\(parameters)".utf8).write(to: config)
            _ = try Self.output(["experiment", "run", name], environment: ["LAZARUS_EXPERIMENTS": root.path])
            let results = root.appendingPathComponent("\(name)/results")
            let run = try #require(try FileManager.default.contentsOfDirectory(atPath: results.path).first)
            try Self.expectConforms(Data(contentsOf: results.appendingPathComponent("\(run)/results.json")), to: "\(name).results")
            // Nothing the run writes beside its numbers names this machine's folders.
            for file in ["results.json", "log.txt", "report.md"] {
                let text = try String(contentsOf: results.appendingPathComponent("\(run)/\(file)"), encoding: .utf8)
                #expect(!text.contains(root.path), "\(name)/\(file) holds the path \(root.path)")
            }
        }
        // The committed flagship runs (the default, its ablations, the 1B-shaped tooling run, and scale_comparison's per-model runs).
        for run in ["cot_vocab_alignment", "cot_vocab_alignment_matched_ranges", "cot_vocab_alignment_mask_prompt",
                    "cot_vocab_alignment_prompt_original", "cot_vocab_alignment_1b_shape",
                    "scale_comparison/models/default", "scale_comparison/models/default-gemma"] {
            let flagship = LazarusProcess.packageRoot.appendingPathComponent("docs/results/\(run)/results.json")
            try Self.expectConforms(Data(contentsOf: flagship), to: "cot_vocab_alignment.results")
        }
        let causal = LazarusProcess.packageRoot.appendingPathComponent("docs/results/causal_interventions/results.json")
        try Self.expectConforms(Data(contentsOf: causal), to: "causal_interventions.results")
        let scale = LazarusProcess.packageRoot.appendingPathComponent("docs/results/scale_comparison/results.json")
        try Self.expectConforms(Data(contentsOf: scale), to: "scale_comparison.results")
        let vocab = LazarusProcess.packageRoot.appendingPathComponent("docs/results/vocab_objective/results.json")
        try Self.expectConforms(Data(contentsOf: vocab), to: "vocab_objective.results")
        let lens = LazarusProcess.packageRoot.appendingPathComponent("docs/results/tuned_lens/tuned_lens.json")
        try Self.expectConforms(Data(contentsOf: lens), to: "tuned_lens")
    }

    @Test func everySchemaIsCheckedAndDeclaresTheDraft() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemas.path).filter { $0.hasSuffix(".schema.json") }.sorted()
        let checked = ["bench", "cot_vocab_alignment.results", "generate", "hidden_states_metadata", "logit_lens", "model_info", "probe",
                       "probe_classifier.results", "routing", "tokenize", "tuned_lens", "causal_interventions.results",
                       "vocab_objective.results", "scale_comparison.results"].sorted().map { "\($0).schema.json" }
        #expect(files == checked, "a schema no test checks, or a checked one that is gone")
        for file in files {
            guard case let .object(s) = try JSONValue.parse(Data(contentsOf: Self.schemas.appendingPathComponent(file))) else {
                Issue.record("\(file) is not an object"); continue
            }
            #expect(s["$schema"] == .string("https://json-schema.org/draft/2020-12/schema"), "\(file)")
        }
    }
}
