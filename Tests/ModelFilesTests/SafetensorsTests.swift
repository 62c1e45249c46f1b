// Safetensors written by SafetensorsWriter and read back (F32, F16, BF16, metadata), checkpoint
// folders (single file, lone file, sharded with an index written here), and broken files.
import Foundation
import Testing
import ModelFiles

struct SafetensorsTests {
    static let values: [Float] = [0.5, -1.25, 3, 0, 1024, -0.0078125]

    func sampleWriter() -> SafetensorsWriter {
        var writer = SafetensorsWriter()
        writer.metadata = ["format": "pt"]
        writer.add(name: "model.embed_tokens.weight", shape: [2, 3], values: Self.values)
        writer.add(name: "model.norm.weight", shape: [6], values: Self.values, dtype: .f16)
        writer.add(name: "lm_head.weight", shape: [3, 2], values: Self.values, dtype: .bf16)
        return writer
    }

    @Test func roundTripOfEachDType() throws {
        let data = try sampleWriter().encoded()
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        let file = try SafetensorsFile(data: data, name: "model.safetensors")
        #expect(file.tensorNames == ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"])
        #expect(file.metadata == ["format": "pt"])
        #expect(file.dtype(of: "model.norm.weight") == "F16" && file.dtype(of: "lm_head.weight") == "BF16")
        #expect(file.shape(of: "lm_head.weight") == [3, 2] && file.shape(of: "nope") == nil)
        for name in file.tensorNames { #expect(try file.floatTensor(named: name) == Self.values, "\(name)") }
        #expect(file.rawBytes(of: "model.norm.weight")?.count == 12)
        expectRejection("model.safetensors", "tensor 'nope'", "no such tensor") { _ = try file.floatTensor(named: "nope") }
    }

    @Test func writerRefusesBadInput() {
        var duplicate = SafetensorsWriter()
        duplicate.add(name: "a", shape: [1], values: [1])
        duplicate.add(name: "a", shape: [1], values: [1])
        expectRejection("tensor 'a'") { _ = try duplicate.encoded() }
        var wrongShape = SafetensorsWriter()
        wrongShape.add(name: "b", shape: [2, 2], values: [1])
        expectRejection("tensor 'b'", "shape [2, 2]") { _ = try wrongShape.encoded() }
    }

    @Test func checkpointFolders() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }

        let single = root.appendingPathComponent("single")
        try sampleWriter().write(to: single.appendingPathComponent("model.safetensors"))
        let one = try SafetensorsCheckpoint(folder: single)
        #expect(one.tensorNames.count == 3)
        #expect(try one.floatTensor(named: "lm_head.weight") == Self.values)

        let lone = root.appendingPathComponent("lone")
        try sampleWriter().write(to: lone.appendingPathComponent("weights.safetensors"))
        #expect(try SafetensorsCheckpoint(folder: lone).dtype(of: "model.norm.weight") == "F16")

        let sharded = root.appendingPathComponent("sharded")
        var first = SafetensorsWriter()
        first.add(name: "model.layers.0.mlp.up_proj.weight", shape: [2, 3], values: Self.values)
        first.add(name: "unlisted", shape: [1], values: [9])
        var second = SafetensorsWriter()
        second.add(name: "model.norm.weight", shape: [6], values: Self.values, dtype: .bf16)
        try first.write(to: sharded.appendingPathComponent("model-00001-of-00002.safetensors"))
        try second.write(to: sharded.appendingPathComponent("model-00002-of-00002.safetensors"))
        try writeIndex(in: sharded, [
            "model.layers.0.mlp.up_proj.weight": "model-00001-of-00002.safetensors",
            "model.norm.weight": "model-00002-of-00002.safetensors",
        ])
        let checkpoint = try SafetensorsCheckpoint(folder: sharded)
        #expect(checkpoint.tensorNames == ["model.layers.0.mlp.up_proj.weight", "model.norm.weight"])
        #expect(checkpoint.shape(of: "model.layers.0.mlp.up_proj.weight") == [2, 3])
        #expect(checkpoint.dtype(of: "model.norm.weight") == "BF16")
        #expect(try checkpoint.floatTensor(named: "model.norm.weight") == Self.values)
        expectRejection("sharded", "unlisted", "no such tensor") { _ = try checkpoint.floatTensor(named: "unlisted") }
    }

    func writeIndex(in folder: URL, _ map: [String: String]) throws {
        let json = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": map])
        try AtomicWrite.write(json, to: folder.appendingPathComponent("model.safetensors.index.json"))
    }

    @Test func badCheckpointFolders() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        expectRejection("missing", "no checkpoint folder") { _ = try SafetensorsCheckpoint(folder: root.appendingPathComponent("missing")) }
        expectRejection("no .safetensors") { _ = try SafetensorsCheckpoint(folder: root) }

        let two = root.appendingPathComponent("two")
        try sampleWriter().write(to: two.appendingPathComponent("a.safetensors"))
        try sampleWriter().write(to: two.appendingPathComponent("b.safetensors"))
        expectRejection("two", "2 .safetensors files", "index") { _ = try SafetensorsCheckpoint(folder: two) }

        let escape = root.appendingPathComponent("escape")
        try writeIndex(in: escape, ["x": "../two/a.safetensors"])
        expectRejection("model.safetensors.index.json", "weight_map['x']", "no paths") { _ = try SafetensorsCheckpoint(folder: escape) }

        let absent = root.appendingPathComponent("absent")
        try writeIndex(in: absent, ["x": "model-00001-of-00001.safetensors"])
        expectRejection("model.safetensors.index.json", "model-00001-of-00001.safetensors", "download every shard") {
            _ = try SafetensorsCheckpoint(folder: absent)
        }

        let mismatch = root.appendingPathComponent("mismatch")
        try sampleWriter().write(to: mismatch.appendingPathComponent("s.safetensors"))
        try writeIndex(in: mismatch, ["not.there": "s.safetensors"])
        expectRejection("weight_map['not.there']", "does not contain it") { _ = try SafetensorsCheckpoint(folder: mismatch) }

        let noMap = root.appendingPathComponent("nomap")
        try AtomicWrite.write(Data("{\"metadata\": {}}".utf8), to: noMap.appendingPathComponent("model.safetensors.index.json"))
        expectRejection("model.safetensors.index.json", "weight_map") { _ = try SafetensorsCheckpoint(folder: noMap) }
    }

    /// A file from a literal JSON header and `dataBytes` bytes of data.
    func file(header: String, dataBytes: Int = 16) -> Data {
        var raw = RawBytes()
        raw.u64(UInt64(header.utf8.count))
        raw.bytes(Array(header.utf8))
        raw.bytes([UInt8](repeating: 0, count: dataBytes))
        return raw.data
    }

    @Test func brokenFilesAreRejected() {
        let cases: [(String, Int, [String])] = [
            ("{not json", 0, ["not valid JSON"]),
            ("[1, 2]", 0, ["not an object"]),
            (#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 20]}}"#, 16, ["tensor 'a'", "outside the 16 bytes"]),
            (#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [8, 4]}}"#, 16, ["tensor 'a'", "outside"]),
            (#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [-4, 12]}}"#, 16, ["tensor 'a'", "outside"]),
            (#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}"#, 16, ["tensor 'a'", "needs 12 bytes", "give 16"]),
            (#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F16", "shape": [4], "data_offsets": [4, 12]}}"#,
             16, ["tensor 'b'", "overlap", "tensor 'a'"]),
            (#"{"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}"#, 16, ["tensor 'a'", "unknown dtype 'Q4'"]),
            (#"{"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#, 16, ["tensor 'a'", "overflows"]),
            (#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 8]}}"#, 16, ["tensor 'a'", "shape entry"]),
            (#"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 8]}}"#, 16, ["tensor 'a'", "shape entry"]),
            (#"{"a": {"dtype": "F32", "shape": [2]}}"#, 16, ["tensor 'a'", "data_offsets"]),
            (#"{"a": {"shape": [2], "data_offsets": [0, 8]}}"#, 16, ["tensor 'a'", "dtype"]),
            (#"{"a": 7}"#, 16, ["tensor 'a'", "found a number"]),
            (#"{"__metadata__": {"k": 1}}"#, 0, ["__metadata__.k", "must be a string"]),
            (#"{"__metadata__": []}"#, 0, ["__metadata__", "object of strings"]),
        ]
        for (header, dataBytes, mentions) in cases {
            let error = expectRejection { _ = try SafetensorsFile(data: file(header: header, dataBytes: dataBytes), name: "w.safetensors") }
            for mention in mentions + ["w.safetensors"] {
                #expect(error?.description.contains(mention) == true, "\(header): “\(error?.description ?? "")” should mention “\(mention)”")
            }
        }
        var raw = RawBytes()
        raw.u64(1 << 40)
        raw.bytes(Array("{}".utf8))
        expectRejection("w.safetensors", "header length", "truncated") { _ = try SafetensorsFile(data: raw.data, name: "w.safetensors") }
        expectRejection("w.safetensors", "too short") { _ = try SafetensorsFile(data: Data([1, 2]), name: "w.safetensors") }
        let integers = file(header: #"{"i": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}}"#)
        expectRejection("w.safetensors", "tensor 'i'", "dtype I64") { _ = try SafetensorsFile(data: integers, name: "w.safetensors").floatTensor(named: "i") }
    }

    /// JSON nested far deeper than any header must be refused, not overflow the stack.
    @Test func deeplyNestedHeaderIsRejected() {
        let deep = String(repeating: "[", count: 60_000) + String(repeating: "]", count: 60_000)
        expectRejection("w.safetensors") { _ = try SafetensorsFile(data: file(header: deep, dataBytes: 0), name: "w.safetensors") }
        let deepObject = "{\"a\": " + String(repeating: "{\"b\": ", count: 30_000) + "1" + String(repeating: "}", count: 30_001)
        expectRejection("w.safetensors") { _ = try SafetensorsFile(data: file(header: deepObject, dataBytes: 0), name: "w.safetensors") }
        expectRejection("config.json") { _ = try HFModelConfig.decode(Data(deep.utf8), name: "config.json") }
    }

    @Test func everyTruncationIsRejected() throws {
        let full = try sampleWriter().encoded()
        for length in 0..<full.count {
            expectRejection("t.safetensors") { _ = try SafetensorsFile(data: full.prefix(length), name: "t.safetensors") }
        }
    }
}
