// Safetensors element types: the three Lazarus writes and reads as floats (`SafetensorsDType`),
// and the sizes of every dtype the format defines, so any valid file can be checked and listed.

public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    public var byteSize: Int { self == .f32 ? 4 : 2 }

    /// The ggml type with the same element encoding, whose decoder turns these bytes into Float.
    var ggmlType: GGMLType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        }
    }

    /// Bytes per element of each dtype in the safetensors format; anything else is rejected.
    static let knownSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
        "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
    ]
}
