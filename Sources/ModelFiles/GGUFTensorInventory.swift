// What a GGUF file's tensor table holds, grouped the way a loader asks about it: the blocks (`blk.N.*`)
// and the tensors of each, and the check that the blocks are the ones its metadata announces. Not the
// loader: which tensors a family needs is the loader's table (and the weight assembler refuses leftovers).
import Foundation

extension GGUFFile {
    /// The tensors of each block: `blk.3.attn_q.weight` is block 3's `attn_q.weight`. Names that do not
    /// start with `prefix` and a decimal block number (the embeddings, the output norm) are left out.
    public func blockTensors(prefix: String = "blk.") -> [Int: Set<String>] {
        var blocks: [Int: Set<String>] = [:]
        for t in tensors where t.name.hasPrefix(prefix) {
            let rest = t.name.dropFirst(prefix.count)
            // Digits only: Int("+3") would read "blk.+3." as block 3.
            guard let dot = rest.firstIndex(of: "."), rest[..<dot].allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(rest[..<dot]) else { continue }
            blocks[number, default: []].insert(String(rest[rest.index(after: dot)...]))
        }
        return blocks
    }

    /// Checks that the blocks numbered in the tensor table are exactly 0..<`count`, where `count` is the
    /// metadata value `key` (e.g. `llama.block_count`): a file whose count was edited to 29 while it holds
    /// `blk.29.*` is refused, naming the key and the first block the two disagree on.
    public func checkBlockCount(_ count: Int, key: String, prefix: String = "blk.") throws {
        let numbers = blockTensors(prefix: prefix).keys.sorted()
        if let beyond = numbers.first(where: { $0 >= count }) {
            throw ModelFileError(file: name, field: "metadata '\(key)'",
                                 reason: "is \(count), but the file holds tensors of block \(beyond) (\(prefix)\(beyond).*); the metadata or the tensor table is corrupt")
        }
        if let missing = (0..<count).first(where: { !numbers.contains($0) }) {
            throw ModelFileError(file: name, field: "metadata '\(key)'",
                                 reason: "is \(count), but the file holds no tensor of block \(missing) (\(prefix)\(missing).*); the file is incomplete or corrupt")
        }
    }
}
