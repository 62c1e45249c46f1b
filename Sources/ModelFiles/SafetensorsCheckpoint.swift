// A Hugging Face checkpoint folder: `model.safetensors`, or `model.safetensors.index.json` with the
// shards its weight_map names, or a lone `*.safetensors`. Shards are opened and checked up front;
// the index may only name plain files inside the folder.
import Foundation

public struct SafetensorsCheckpoint: Sendable {
    public static let indexName = "model.safetensors.index.json"
    public static let singleName = "model.safetensors"

    public let folder: URL
    /// Every tensor, shard by shard (shards in name order), each shard's in file order.
    public let tensorNames: [String]
    /// The files opened, in name order.
    public let files: [SafetensorsFile]
    private let shardOf: [String: Int]

    public init(folder: URL) throws {
        self.folder = folder
        let manager = FileManager.default
        let folderName = folder.path
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ModelFileError(file: folderName, reason: "no checkpoint folder at \(folder.path); give the folder that holds config.json and the .safetensors files")
        }
        let indexURL = folder.appendingPathComponent(Self.indexName)
        if manager.fileExists(atPath: indexURL.path) {
            (files, shardOf) = try Self.openSharded(folder: folder, index: indexURL)
        } else {
            let single = folder.appendingPathComponent(Self.singleName)
            let chosen: URL
            if manager.fileExists(atPath: single.path) {
                chosen = single
            } else {
                let candidates = ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? [])
                    .filter { $0.hasSuffix(".safetensors") }.sorted()
                guard candidates.count == 1 else {
                    throw ModelFileError(file: folderName, reason: candidates.isEmpty
                        ? "holds no .safetensors file; download the model's model.safetensors into it"
                        : "holds \(candidates.count) .safetensors files (\(candidates.joined(separator: ", "))) but no \(Self.indexName) saying which tensor is where; download the index too")
                }
                chosen = folder.appendingPathComponent(candidates[0])
            }
            let file = try SafetensorsFile(contentsOf: chosen)
            files = [file]
            shardOf = Dictionary(uniqueKeysWithValues: file.tensorNames.map { ($0, 0) })
        }
        let owner = shardOf
        var names: [String] = []
        for (i, file) in files.enumerated() {
            names += file.tensorNames.filter { owner[$0] == i }
        }
        tensorNames = names
    }

    private static func openSharded(folder: URL, index: URL) throws -> ([SafetensorsFile], [String: Int]) {
        let name = index.path
        let data = try ModelFileData.read(index, kind: "checkpoint index")
        let object = try JSONFields.object(data, file: name, what: "the index")
        guard let weightMap = object["weight_map"] as? [String: Any] else {
            throw ModelFileError(file: name, field: "weight_map",
                                 reason: "is missing or not an object of tensor name → shard file; re-download the index")
        }
        var shardNames = Set<String>()
        var mapping: [String: String] = [:]
        for (tensor, value) in weightMap {
            guard let shard = value as? String, isPlainFileName(shard) else {
                throw ModelFileError(file: name, field: "weight_map['\(tensor)']",
                                     reason: "must name a .safetensors file in the same folder (no paths), found \(value); the index is corrupt")
            }
            mapping[tensor] = shard
            shardNames.insert(shard)
        }
        let ordered = shardNames.sorted()
        var files: [SafetensorsFile] = []
        for shard in ordered {
            let url = folder.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ModelFileError(file: name, field: "weight_map",
                                     reason: "names shard '\(shard)', which is not in \(folder.path); download every shard the index lists")
            }
            files.append(try SafetensorsFile(contentsOf: url))
        }
        let position = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, $0) })
        var shardOf: [String: Int] = [:]
        for (tensor, shard) in mapping {
            let i = position[shard]!
            guard files[i].dtype(of: tensor) != nil else {
                throw ModelFileError(file: name, field: "weight_map['\(tensor)']",
                                     reason: "says the tensor is in '\(shard)', which does not contain it; the index and the shards do not match — re-download them")
            }
            shardOf[tensor] = i
        }
        return (files, shardOf)
    }

    /// A name with no folder part that cannot leave the checkpoint folder.
    private static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\") && !name.contains("\0")
    }

    public func dtype(of name: String) -> String? { shardOf[name].flatMap { files[$0].dtype(of: name) } }
    public func shape(of name: String) -> [Int]? { shardOf[name].flatMap { files[$0].shape(of: name) } }

    /// The tensor's bytes as stored (any dtype: GPT-OSS's MXFP4 blocks are U8), or nil when there is no such tensor.
    public func rawBytes(of name: String) -> Data? { shardOf[name].flatMap { files[$0].rawBytes(of: name) } }

    /// The tensor's values as Float32 from whichever shard holds it.
    public func floatTensor(named name: String) throws -> [Float] {
        guard let shard = shardOf[name] else {
            throw ModelFileError(file: folder.path, field: "tensor '\(name)'",
                                 reason: "no such tensor in the checkpoint (it has \(shardOf.count)); the checkpoint is incomplete or of another architecture")
        }
        return try files[shard].floatTensor(named: name)
    }
}
