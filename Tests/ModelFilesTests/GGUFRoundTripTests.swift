// GGUF files written by GGUFWriter and read back: every metadata type, arrays, tensors of several
// types, file order, alignment of the data section and of each tensor, v2 and v3.
import Foundation
import Testing
import ModelFiles

struct GGUFRoundTripTests {
    static let allValues: [(String, GGUFValue)] = [
        ("t.u8", .uint8(250)), ("t.i8", .int8(-100)), ("t.u16", .uint16(65000)), ("t.i16", .int16(-32000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(1.5)),
        ("t.bool", .bool(true)), ("t.string", .string("héllo ✓ 🦙")), ("t.u64", .uint64(.max)),
        ("t.i64", .int64(.min)), ("t.f64", .float64(-0.1)), ("t.empty", .string("")),
        ("tokenizer.ggml.tokens", .array(["<|endoftext|>", "a", "Ġthe"].map(GGUFValue.string))),
        ("tokenizer.ggml.scores", .array([0.5, -1, 2].map(GGUFValue.float32))),
        ("tokenizer.ggml.token_type", .array([1, 3, 1].map(GGUFValue.int32))),
        ("t.nested", .array([.array([.uint8(1), .uint8(2)]), .array([])])),
        ("t.emptyArray", .array([])),
    ]

    func sampleWriter(version: Int = 3, alignment: Int = 32) -> GGUFWriter {
        var writer = GGUFWriter(version: version, alignment: alignment)
        for (key, value) in Self.allValues { writer.set(key, value) }
        writer.addFloat32Tensor(name: "token_embd.weight", shape: [3, 4], values: (0..<12).map { Float($0) - 5.5 })
        writer.addTensor(name: "blk.0.attn_norm.weight", dimensions: [4], type: .f16,
                         bytes: Data([1, 2, -0.5, 65504].flatMap { halfBytes($0) }))
        let q8 = halfBytes(0.5) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        writer.addTensor(name: "blk.0.ffn_up.weight", dimensions: [32, 2], type: .q8_0, bytes: Data(q8 + q8))
        return writer
    }

    @Test func everyMetadataTypeRoundTrips() throws {
        let file = try GGUFFile(data: sampleWriter().encoded(), name: "sample.gguf")
        #expect(file.version == 3)
        #expect(file.metadataKeys == Self.allValues.map(\.0))
        for (key, value) in Self.allValues {
            #expect(file.metadata[key] == value, "\(key)")
        }
        #expect(file.string("t.string") == "héllo ✓ 🦙")
        #expect(file.int("t.i32") == -2_000_000_000)
        #expect(file.int("t.u64") == nil)   // does not fit in Int
        #expect(file.double("t.f64") == -0.1)
        #expect(file.metadata["tokenizer.ggml.tokens"]?.stringArray == ["<|endoftext|>", "a", "Ġthe"])
        #expect(file.metadata["tokenizer.ggml.scores"]?.floatArray == [0.5, -1, 2])
        #expect(file.metadata["tokenizer.ggml.token_type"]?.intArray == [1, 3, 1])
        #expect(file.metadata["t.bool"]?.boolValue == true)
        #expect(file.metadata["t.string"]?.intValue == nil)
    }

    @Test func tensorsRoundTripAndAreAligned() throws {
        for alignment in [32, 64, 8] {
            let data = sampleWriter(alignment: alignment).encoded()
            let file = try GGUFFile(data: data, name: "aligned.gguf")
            #expect(file.alignment == alignment)
            #expect(file.dataOffset % alignment == 0)
            #expect(file.tensors.map(\.name) == ["token_embd.weight", "blk.0.attn_norm.weight", "blk.0.ffn_up.weight"])
            for tensor in file.tensors { #expect(tensor.offset % alignment == 0) }
            if alignment != 32 { #expect(file.metadata["general.alignment"] == .uint32(UInt32(alignment))) }

            let embedding = try #require(file.tensor(named: "token_embd.weight"))
            #expect(embedding.dimensions == [4, 3] && embedding.rowMajorShape == [3, 4])
            #expect(embedding.type == .f32 && embedding.elementCount == 12 && embedding.byteCount == 48)
            let embeddingValues: [Float] = (0..<12).map { Float($0) - 5.5 }
            #expect(try file.dequantizedTensor(named: "token_embd.weight") == embeddingValues)
            #expect(try file.dequantizedTensor(named: "blk.0.attn_norm.weight") == [1, 2, -0.5, 65504])
            let up = try file.dequantizedTensor(named: "blk.0.ffn_up.weight")
            let row: [Float] = (0..<32).map { Float($0 - 16) * 0.5 }
            #expect(up == row + row)
            #expect(file.tensor(named: "blk.0.ffn_up.weight")?.rowMajorShape == [2, 32])
            #expect(file.rawBytes(of: embedding).count == 48)
        }
    }

    @Test func version2IsRead() throws {
        let file = try GGUFFile(data: sampleWriter(version: 2).encoded(), name: "v2.gguf")
        #expect(file.version == 2)
        #expect(file.tensors.count == 3)
    }

    @Test func writesAtomicallyAndReadsFromDisk() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("deep/er/model.gguf")
        try sampleWriter().write(to: url)
        let file = try GGUFFile(contentsOf: url)
        #expect(file.url == url)
        #expect(file.tensors.count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["model.gguf"])
    }

    @Test func emptyFileWithoutTensorsIsValid() throws {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        let file = try GGUFFile(data: writer.encoded(), name: "meta.gguf")
        #expect(file.tensors.isEmpty && file.string("general.architecture") == "llama")
    }

    @Test func missingTensorAndUnsupportedTypeAreNamed() throws {
        var writer = GGUFWriter()
        writer.addTensor(name: "blk.3.ffn_down.weight", dimensions: [256], type: .q2_K, bytes: Data(count: 84))
        let file = try GGUFFile(data: writer.encoded(), name: "q2.gguf")
        expectRejection("q2.gguf", "blk.3.ffn_down.weight", "Q2_K", "cannot dequantise") {
            _ = try file.dequantizedTensor(named: "blk.3.ffn_down.weight")
        }
        expectRejection("q2.gguf", "output.weight", "no such tensor") { _ = try file.dequantizedTensor(named: "output.weight") }
    }
}
