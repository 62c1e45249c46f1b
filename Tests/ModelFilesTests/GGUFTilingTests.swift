// The data section of a GGUF file is tiled by its tensors, each sized by its type and shape: a gap, bytes
// before the first tensor or after the last, or a type changed to one of another size is refused, naming
// the tensor. Also the tensor inventory a loader uses (names, blocks, block count, every tensor used).
import Foundation
import Testing
import ModelFiles

@Suite struct GGUFTilingTests {
    @Test func tightlyTiledTensorsLoad() throws {
        // a: 8 F32 = 32 bytes; b: 4 F32 = 16 bytes, padded to 32 after it or not.
        for trailing in [16, 32] {
            let file = try GGUFFile(data: tensorFile([("a", [8], 0, 0), ("b", [4], 0, 32)], dataBytes: 32 + trailing), name: "t.gguf")
            #expect(file.tensors.map(\.name) == ["a", "b"])
        }
        // Table order need not be offset order.
        _ = try GGUFFile(data: tensorFile([("b", [4], 0, 32), ("a", [8], 0, 0)], dataBytes: 48), name: "t.gguf")
    }

    @Test func bytesThatBelongToNoTensorAreRefused() {
        let gap = expectRejection("t.gguf", "tensor 'b'", "tensor 'a' (F32 [4], 16 bytes) is followed by 32 bytes that belong to no tensor") {
            // a ends at 16 (padded 32); b starts at 64.
            _ = try GGUFFile(data: tensorFile([("a", [4], 0, 0), ("b", [4], 0, 64)], dataBytes: 80), name: "t.gguf")
        }
        #expect(gap?.offset != nil)
        expectRejection("t.gguf", "tensor 'a'", "first tensor", "32 bytes before it belong to no tensor") {
            _ = try GGUFFile(data: tensorFile([("a", [4], 0, 32)], dataBytes: 48), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'b'", "is the last tensor (F32 [4], 16 bytes)", "32 bytes follow it") {
            _ = try GGUFFile(data: tensorFile([("a", [8], 0, 0), ("b", [4], 0, 32)], dataBytes: 96), name: "t.gguf")
        }
    }

    /// The tiny model with one tensor's type changed F32 → F16 (half the bytes): its slot is no longer filled.
    @Test func aTensorRelabelledToASmallerTypeIsNamed() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TransformerTests/Fixtures/tiny_llama.gguf")
        var bytes = try Data(contentsOf: url)
        let name = "blk.1.attn_q.weight"
        let original = try GGUFFile(data: bytes, name: "tiny.gguf")
        let info = try #require(original.tensor(named: name))
        let typeOffset = try #require(Self.typeFieldOffset(of: name, dimensions: info.dimensions.count, in: bytes))
        #expect(bytes[typeOffset] == 0)  // F32
        bytes[typeOffset] = 1  // F16
        expectRejection("tiny.gguf", "tensor 'blk.1.attn_k.weight'", "tensor '\(name)' (F16 [32, 32], 2048 bytes) is followed by 2048 bytes") {
            _ = try GGUFFile(data: bytes, name: "tiny.gguf")
        }
    }

    /// Where a tensor's u32 type code sits in the table: after its name, dimension count and dimensions.
    static func typeFieldOffset(of name: String, dimensions: Int, in data: Data) -> Int? {
        var entry = Data()
        withUnsafeBytes(of: UInt64(name.utf8.count).littleEndian) { entry.append(contentsOf: $0) }
        entry.append(contentsOf: Array(name.utf8))
        guard let range = data.range(of: entry) else { return nil }
        return range.upperBound - data.startIndex + 4 + 8 * dimensions
    }

    @Test func inventoryGroupsBlocksAndChecksTheCount() throws {
        var writer = GGUFWriter()
        writer.set("llama.block_count", .uint32(2))
        for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_up.weight", "blk.1.attn_q.weight", "blk.+2.x", "blkx.3.y"] {
            writer.addFloat32Tensor(name: name, shape: [8], values: Array(repeating: 1, count: 8))
        }
        let file = try GGUFFile(data: writer.encoded(), name: "inv.gguf")
        #expect(file.tensors.count == 6)
        #expect(file.blockTensors() == [0: ["attn_q.weight", "ffn_up.weight"], 1: ["attn_q.weight"]])
        try file.checkBlockCount(2, key: "llama.block_count")
        expectRejection("inv.gguf", "metadata 'llama.block_count'", "is 1, but the file holds tensors of block 1 (blk.1.*)") {
            try file.checkBlockCount(1, key: "llama.block_count")
        }
        expectRejection("inv.gguf", "metadata 'llama.block_count'", "is 3, but the file holds no tensor of block 2 (blk.2.*)") {
            try file.checkBlockCount(3, key: "llama.block_count")
        }
    }
}
