// One entry of a GGUF file's tensor table: name, ggml-order dimensions, type and where its bytes lie.
// Values are only ever built by GGUFFile after every number in them has been checked.

public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// ggml order, fastest-varying first: [576, 49152] is 49152 rows of 576.
    public var dimensions: [Int]
    public var type: GGMLType
    /// Offset of the tensor's first byte from the start of the data section.
    public var offset: Int
    public var elementCount: Int
    public var byteCount: Int

    public init(name: String, dimensions: [Int], type: GGMLType, offset: Int, elementCount: Int, byteCount: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.elementCount = elementCount
        self.byteCount = byteCount
    }

    /// The shape as PyTorch and Hugging Face write it, slowest first: [576, 49152] → [49152, 576].
    public var rowMajorShape: [Int] { dimensions.reversed() }
}
