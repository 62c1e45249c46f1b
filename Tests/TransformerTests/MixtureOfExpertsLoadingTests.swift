// Expert tensors that do not fit what the file's metadata says are refused in one line naming the tensor:
// a GGUF whose expert count was edited, an expert tensor of the wrong shape, a file cut inside an expert
// tensor's data, and a config.json whose expert count disagrees with the checkpoint.
import Foundation
import ModelFiles
import Testing
import Transformer

@Suite struct MixtureOfExpertsLoadingTests {
    /// tiny_gpt_oss.gguf rewritten with `metadata` changes and `tensor` replacements (nil keeps the tensor),
    /// the tensor named `last` moved to the end of the file.
    func rewritten(_ name: String, metadata: [String: GGUFValue] = [:], last: String? = nil,
                   tensor: (GGUFTensorInfo, Data) -> (dimensions: [Int], bytes: Data)? = { _, _ in nil }) throws -> URL {
        let file = try GGUFFile(contentsOf: URL(fileURLWithPath: try MoEReference.path("tiny_gpt_oss.gguf")))
        var writer = GGUFWriter(version: file.version, alignment: file.alignment)
        for key in file.metadataKeys { writer.set(key, metadata[key] ?? file.metadata[key]!) }
        for t in file.tensors.filter({ $0.name != last }) + file.tensors.filter({ $0.name == last }) {
            let bytes = file.rawBytes(of: t)
            let replaced = tensor(t, bytes)
            writer.addTensor(name: t.name, dimensions: replaced?.dimensions ?? t.dimensions, type: t.type, bytes: replaced?.bytes ?? bytes)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-moe-\(name)-\(ProcessInfo.processInfo.processIdentifier).gguf")
        try writer.write(to: url)
        return url
    }

    func loadError(_ path: String) -> String? {
        do { _ = try ModelLoader.load(path); return nil } catch { return String(describing: error) }
    }

    @Test func anEditedExpertCountNamesTheFirstTensorThatDisagrees() throws {
        let url = try rewritten("count", metadata: ["gpt-oss.expert_count": .uint32(8)])
        defer { try? FileManager.default.removeItem(at: url) }
        let line = try #require(loadError(url.path))
        #expect(!line.contains("\n") && line.contains(url.lastPathComponent))
        #expect(line.contains("'blk.0.ffn_gate_inp.weight' has shape [4, 32], expected [8, 32]"), "\(line)")
    }

    @Test func anExpertTensorOfTheWrongShapeIsNamed() throws {
        // Three experts' MXFP4 blocks where the metadata says four.
        let url = try rewritten("shape") { t, bytes in
            t.name == "blk.1.ffn_down_exps.weight" ? ([t.dimensions[0], t.dimensions[1], 3], bytes.prefix(bytes.count / 4 * 3)) : nil
        }
        defer { try? FileManager.default.removeItem(at: url) }
        let line = try #require(loadError(url.path))
        #expect(!line.contains("\n"))
        #expect(line.contains("'blk.1.ffn_down_exps.weight' has shape [3, 32, 64], expected [4, 32, 64]"), "\(line)")
    }

    @Test func aFileCutInsideAnExpertTensorNamesIt() throws {
        let whole = try rewritten("whole", last: "blk.1.ffn_up_exps.weight")
        defer { try? FileManager.default.removeItem(at: whole) }
        let file = try GGUFFile(contentsOf: whole)
        let last = try #require(file.tensors.last)
        #expect(last.name == "blk.1.ffn_up_exps.weight" && last.type == .mxfp4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-moe-cut-\(ProcessInfo.processInfo.processIdentifier).gguf")
        try Data(contentsOf: whole).prefix(file.dataOffset + last.offset + last.byteCount / 2).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let line = try #require(loadError(url.path))
        #expect(!line.contains("\n") && line.contains("'\(last.name)'"), "\(line)")
    }

    @Test("a config.json expert count the checkpoint does not have names the tensor", arguments: ["tiny_mixtral", "tiny_gpt_oss"])
    func configDisagreesWithCheckpoint(_ name: String) throws {
        let source = URL(fileURLWithPath: try MoEReference.path(name))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-moe-\(name)-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.copyItem(at: source, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configURL = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["num_local_experts"] = 5
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let line = try #require(loadError(folder.path))
        let router = name == "tiny_mixtral" ? "model.layers.0.block_sparse_moe.gate.weight" : "model.layers.0.mlp.router.weight"
        #expect(!line.contains("\n") && line.contains("'\(router)' has shape [4, 32], expected [5, 32]"), "\(line)")
        // More experts per token than experts is a config error, named by its key.
        config["num_local_experts"] = 4
        config["num_experts_per_tok"] = 6
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        #expect(loadError(folder.path)?.contains("num_experts_per_tok") == true)
    }

    @Test func mixtureAndYarnMetadataAreChecked() throws {
        for (key, value, expected) in [("gpt-oss.expert_used_count", GGUFValue.uint32(5), "gpt-oss.expert_used_count"),
                                       ("gpt-oss.expert_count", .uint32(0) , "expert_count"),
                                       ("gpt-oss.rope.scaling.factor", .float32(-1), "gpt-oss.rope.scaling.factor"),
                                       ("gpt-oss.rope.scaling.original_context_length", .uint32(0), "original_context_length")] {
            let url = try rewritten("meta", metadata: [key: value])
            defer { try? FileManager.default.removeItem(at: url) }
            let line = try #require(loadError(url.path), "\(key) = \(value) loaded")
            #expect(!line.contains("\n") && line.contains(expected), "\(line)")
        }
    }
}
