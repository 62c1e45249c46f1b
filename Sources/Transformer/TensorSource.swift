// Where weights come from: the one interface a GGUF file and a safetensors checkpoint both offer to the
// weight assembler, so the assembly of a model is written once whatever the format.
import Foundation
import ModelFiles

public enum ModelFormat: String, Sendable, Codable { case gguf, safetensors }

public protocol TensorSource {
    var format: ModelFormat { get }
    /// The file or folder, for errors.
    var location: String { get }
    /// Every tensor the source holds, in file order.
    var tensorNames: [String] { get }
    /// Row-major shape (GGUF lists dimensions fastest-first; this is the reverse), or nil when absent.
    func shape(of name: String) -> [Int]?
    /// The tensor's values as Float32, row-major.
    func floats(_ name: String) throws -> [Float]
    /// The storage type as the file names it ("Q4_1", "BF16").
    func storageType(of name: String) -> String?
    /// The tensor's blocks where the format stores quantised ones: ggml's type id, the bytes they lie in
    /// (shared, not copied), and their offset and size there; nil otherwise.
    func quantizedBlocks(_ name: String) -> (ggmlType: UInt32, bytes: Data, offset: Int, byteCount: Int)?
}

extension TensorSource {
    public func quantizedBlocks(_ name: String) -> (ggmlType: UInt32, bytes: Data, offset: Int, byteCount: Int)? { nil }
}

extension GGUFFile: TensorSource {
    public var format: ModelFormat { .gguf }
    public var location: String { url.path }
    public var tensorNames: [String] { tensors.map(\.name) }
    public func shape(of name: String) -> [Int]? { tensor(named: name)?.rowMajorShape }
    public func floats(_ name: String) throws -> [Float] { try dequantizedTensor(named: name) }
    public func storageType(of name: String) -> String? { tensor(named: name)?.type.name }
    public func quantizedBlocks(_ name: String) -> (ggmlType: UInt32, bytes: Data, offset: Int, byteCount: Int)? {
        guard let info = tensor(named: name) else { return nil }
        let (bytes, offset) = storage(of: info)
        return (info.type.rawValue, bytes, offset, info.byteCount)
    }
}

extension SafetensorsCheckpoint: TensorSource {
    public var format: ModelFormat { .safetensors }
    public var location: String { folder.path }
    public func floats(_ name: String) throws -> [Float] { try floatTensor(named: name) }
    public func storageType(of name: String) -> String? { dtype(of: name) }
}
