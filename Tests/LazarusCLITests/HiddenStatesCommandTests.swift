// `lazarus introspect hidden-states` end to end on the committed tiny model: the file it writes opens with
// the safetensors reader, its token ids are the ones `tokenize` prints, and its shapes follow --positions.
import Foundation
import ModelFiles
import Testing

@Suite struct HiddenStatesCommandTests {
    @Test func writesOneTensorPerLayerWithTheMetadata() throws {
        let folder = try temporaryFolder("hidden")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tiny = LazarusProcess.tinyModel.path
        let prompts = ["7 * 8 =", "hello world"]
        let tokenized = try prompts.map { prompt -> [Int] in
            let run = try LazarusProcess.run(["tokenize", tiny, prompt, "--json"])
            struct Output: Decodable { var ids: [Int] }
            return try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8)).ids
        }
        for (positions, rowCount) in [("last", prompts.count), ("all", tokenized.map(\.count).reduce(0, +))] {
            let file = folder.appendingPathComponent("h-\(positions).safetensors")
            let run = try LazarusProcess.run(["introspect", "hidden-states", "--model", tiny, "--prompts", prompts.joined(separator: "|"),
                                              "--layers", "embed,L1", "--positions", positions, "--output", file.path])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("wrote \(file.path)"))
            let read = try SafetensorsFile(contentsOf: file)
            #expect(read.tensorNames.sorted() == ["L1", "embed"])
            let width = try #require(read.shape(of: "embed")?.last)
            #expect(read.shape(of: "embed") == [rowCount, width] && read.shape(of: "L1") == [rowCount, width])
            #expect(read.metadata["token_ids"] == String(decoding: try JSONEncoder().encode(tokenized), as: UTF8.self))
            #expect(read.metadata["positions"] == "\"\(positions)\"")
            #expect(read.metadata["layers"] == "[\"embed\",\"L1\"]")
            #expect(read.metadata["hidden_size"] == "\(width)")
        }
        // --output is required; a positions value it does not know is an argument error.
        #expect(try LazarusProcess.run(["introspect", "hidden-states", "--model", tiny, "--prompts", "a"]).status == 64)
        #expect(try LazarusProcess.run(["introspect", "hidden-states", "--model", tiny, "--prompts", "a", "--positions", "first",
                                        "--output", folder.appendingPathComponent("x.safetensors").path]).status == 64)
    }
}
