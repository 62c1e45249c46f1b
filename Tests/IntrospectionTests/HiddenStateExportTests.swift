// The hidden-states file: its rows are the forward pass's own residual stream of each prompt run alone
// (and `embed` is the embedding row of the token), and the safetensors reader gets back every tensor and
// the metadata bit for bit.
import Foundation
import Introspection
import Kernels
import ModelFiles
import Testing
import Transformer

@Suite struct HiddenStateExportTests {
    let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 5)
    let prompts = ["a", "bb", "ccc", "d"]
    let ids = [[1, 2, 3, 4], [7, 7], [20, 21, 22, 23, 24, 25], [5]]

    /// Prompt p run alone with every position captured: [T, D] per layer, hidden[0] = embed.
    func alone(_ p: Int) throws -> [Matrix] {
        try model.forward([ids[p]], capture: .allPositions, logits: .none).hidden
    }

    @Test(arguments: HiddenStatePositions.allCases)
    func rowsAreEachPromptsOwnResidualStream(positions: HiddenStatePositions) throws {
        let layers = [-1, 0, 2]
        let export = try HiddenStateExport.collect(model: model, prompts: prompts, tokenIds: ids, layers: layers, positions: positions)
        #expect(export.layerNames == ["embed", "L0", "L2"])
        let expectedRows: [(Int, Int)] = positions == .last ? ids.indices.map { ($0, ids[$0].count - 1) }
            : ids.indices.flatMap { p in ids[p].indices.map { (p, $0) } }
        #expect(export.rows.map { [$0.prompt, $0.position] } == expectedRows.map { [$0.0, $0.1] })
        let D = model.config.hiddenSize
        let reference = try ids.indices.map { try alone($0) }
        for (i, l) in layers.enumerated() {
            #expect(export.states[i].rows == expectedRows.count && export.states[i].cols == D)
            for (r, (p, t)) in expectedRows.enumerated() {
                let got = Array(export.states[i].values[r * D..<(r + 1) * D])
                let want = Array(reference[p][l + 1].values[t * D..<(t + 1) * D])
                let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-5, "layer \(l) row \(r): differs by \(worst)")
                if l == -1 {
                    let token = ids[p][t]
                    #expect(got == Array(model.weights.embedding.values[token * D..<(token + 1) * D]))
                }
            }
        }
    }

    @Test func fileReadsBackThroughTheSafetensorsReader() throws {
        let export = try HiddenStateExport.collect(model: model, prompts: prompts, tokenIds: ids, layers: [-1, 1], positions: .all)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-hidden-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try export.write(to: url, model: "tiny", adapter: nil)
        let file = try SafetensorsFile(contentsOf: url)
        #expect(Set(file.tensorNames) == ["embed", "L1"])
        for (name, state) in zip(export.layerNames, export.states) {
            #expect(file.dtype(of: name) == "F32")
            #expect(file.shape(of: name) == [state.rows, state.cols])
            #expect(try file.floatTensor(named: name) == state.values)
        }
        func decode<T: Decodable>(_ key: String, as: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data((file.metadata[key] ?? "").utf8))
        }
        #expect(try decode("format", as: String.self) == HiddenStateExport.format)
        #expect(try decode("model", as: String.self) == "tiny")
        #expect(try decode("prompts", as: [String].self) == prompts)
        #expect(try decode("token_ids", as: [[Int]].self) == ids)
        #expect(try decode("layers", as: [String].self) == ["embed", "L1"])
        #expect(try decode("positions", as: String.self) == "all")
        #expect(try decode("rows", as: [[Int]].self).count == ids.map(\.count).reduce(0, +))
        #expect(try decode("hidden_size", as: Int.self) == model.config.hiddenSize)
        #expect(file.metadata["adapter"] == nil)
        // No temporary file is left beside it.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.hasPrefix(".\(url.lastPathComponent).tmp") })
    }

    @Test func refusesWhatItCannotWrite() {
        #expect(throws: IntrospectionError.self) {
            try HiddenStateExport.collect(model: model, prompts: ["x"], tokenIds: [[]], layers: [0], positions: .last)
        }
        #expect(throws: IntrospectionError.self) {
            try HiddenStateExport.collect(model: model, prompts: ["x"], tokenIds: [[1]], layers: [model.config.layerCount], positions: .last)
        }
    }

    @Test func batchesKeepToTheirBudgets() {
        #expect(HiddenStateCollector.batches([3, 1000, 30, 2000, 5], batchSize: 256, tokenBudget: 1024) == [0..<2, 2..<3, 3..<4, 4..<5])
        #expect(HiddenStateCollector.batches([1, 1, 1, 1, 1], batchSize: 2, tokenBudget: 1024) == [0..<2, 2..<4, 4..<5])
        #expect(HiddenStateCollector.batches([], batchSize: 2, tokenBudget: 8).isEmpty)
    }
}
