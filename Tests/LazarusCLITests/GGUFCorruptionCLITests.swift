// GGUF files corrupted to another valid value are refused, not loaded: one tensor's type changed to a
// smaller one (named by the tiling check), and a block count edited down (named by the count check).
import Foundation
import ModelFiles
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct GGUFCorruptionCLITests {
    static let tiny = LazarusProcess.tinyModel.path

    @Test func aRelabelledTensorTypeIsRefusedNamingTheTensor() throws {
        let folder = try temporaryFolder("gguf-type")
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = try Data(contentsOf: LazarusProcess.tinyModel)
        let name = "blk.1.attn_q.weight"
        var entry = Data()
        withUnsafeBytes(of: UInt64(name.utf8.count).littleEndian) { entry.append(contentsOf: $0) }
        entry.append(contentsOf: Array(name.utf8))
        let start = try #require(bytes.range(of: entry)).upperBound
        let typeAt = start + 4 + 2 * 8  // dimension count, two dimensions
        #expect(bytes[typeAt] == 0)
        bytes[typeAt] = 1  // F32 → F16
        let file = folder.appendingPathComponent("relabelled.gguf")
        try bytes.write(to: file)
        let original = try GGUFFile(contentsOf: LazarusProcess.tinyModel)
        let next = try #require(original.tensor(named: "blk.1.attn_k.weight"))
        try CLIExpect.error(["model", "info", file.path],
                             "lazarus: \(file.path): at byte \(original.dataOffset + next.offset) (tensor 'blk.1.attn_k.weight'): tensor '\(name)' (F16 [32, 32], 2048 bytes) is followed by 2048 bytes that belong to no tensor before this one starts at offset \(next.offset) of the data section; a tensor's type or shape does not match its data — the file is corrupt")
    }

    @Test func aBlockCountEditedDownIsRefusedNamingTheKey() throws {
        let folder = try temporaryFolder("gguf-blocks")
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = try Data(contentsOf: LazarusProcess.tinyModel)
        let key = "llama.block_count"
        var entry = Data()
        withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian) { entry.append(contentsOf: $0) }
        entry.append(contentsOf: Array(key.utf8))
        let start = try #require(bytes.range(of: entry)).upperBound
        // The value's type (4 bytes), then the value: a uint32 or uint64 block count, low byte first.
        let original = try GGUFFile(contentsOf: LazarusProcess.tinyModel)
        let count = try #require(original.int(key))
        #expect(Int(bytes[start + 4]) == count)
        bytes[start + 4] = UInt8(count - 1)
        let file = folder.appendingPathComponent("fewer-blocks.gguf")
        try bytes.write(to: file)
        try CLIExpect.error(["model", "info", file.path],
                             "lazarus: \(file.path): metadata '\(key)': is \(count - 1), but the file holds tensors of block \(count - 1) (blk.\(count - 1).*); the metadata or the tensor table is corrupt")
    }
}
