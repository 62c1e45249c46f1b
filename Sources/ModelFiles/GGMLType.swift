// The ggml tensor types a GGUF file may name, with their block geometry (ggml's type traits) written
// down as data. Which of them Lazarus can dequantise is `isSupported`; the others are still recognised
// so that a file using them is read, and rejected by name only when such a tensor is dequantised.

public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    // 4 (Q4_2) and 5 (Q4_3) were removed from ggml.
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case iq2_xxs = 16
    case iq2_xs = 17
    case iq3_xxs = 18
    case iq1_s = 19
    case iq4_nl = 20
    case iq3_s = 21
    case iq2_s = 22
    case iq4_xs = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1_m = 29
    case bf16 = 30
    // 31–33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) and 36–38 (IQ4_NL_4_4 …) were removed from ggml.
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39

    /// The name llama.cpp prints, upper-cased as in model file names: `Q4_K`, `BF16`.
    public var name: String { String(describing: self).uppercased() }

    /// Values in one block (1 for plain number types; 32 for the legacy quants; 256 for K-quants).
    public var valuesPerBlock: Int { Self.geometry(self).values }

    /// Bytes in one block.
    public var bytesPerBlock: Int { Self.geometry(self).bytes }

    /// Whether `Dequantize` can turn this type into Float32.
    public var isSupported: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .mxfp4: return true
        default: return false
        }
    }

    /// The types `Dequantize` accepts, for messages.
    public static var supportedNames: String {
        allCases.filter(\.isSupported).map(\.name).joined(separator: ", ")
    }

    // Block sizes from ggml's type traits (ggml-common.h: QK4_0 = 32, QK_K = 256, the block structs' sizes).
    private static func geometry(_ type: GGMLType) -> (values: Int, bytes: Int) {
        switch type {
        case .f32: return (1, 4)
        case .f16: return (1, 2)
        case .bf16: return (1, 2)
        case .f64: return (1, 8)
        case .i8: return (1, 1)
        case .i16: return (1, 2)
        case .i32: return (1, 4)
        case .i64: return (1, 8)
        case .q4_0: return (32, 2 + 16)
        case .q4_1: return (32, 2 + 2 + 16)
        case .q5_0: return (32, 2 + 4 + 16)
        case .q5_1: return (32, 2 + 2 + 4 + 16)
        case .q8_0: return (32, 2 + 32)
        case .q8_1: return (32, 2 + 2 + 32)
        case .iq4_nl: return (32, 2 + 16)
        case .mxfp4: return (32, 1 + 16)
        case .q2_K: return (256, 16 + 64 + 2 + 2)
        case .q3_K: return (256, 32 + 64 + 12 + 2)
        case .q4_K: return (256, 2 + 2 + 12 + 128)
        case .q5_K: return (256, 2 + 2 + 12 + 32 + 128)
        case .q6_K: return (256, 128 + 64 + 16 + 2)
        case .q8_K: return (256, 4 + 256 + 32)
        case .iq2_xxs: return (256, 2 + 64)
        case .iq2_xs: return (256, 2 + 64 + 8)
        case .iq3_xxs: return (256, 2 + 96)
        case .iq1_s: return (256, 2 + 32 + 16)
        case .iq3_s: return (256, 2 + 104 + 4)
        case .iq2_s: return (256, 2 + 64 + 16)
        case .iq4_xs: return (256, 2 + 2 + 128 + 4)
        case .iq1_m: return (256, 32 + 16 + 8)
        case .tq1_0: return (256, 48 + 4 + 2)
        case .tq2_0: return (256, 64 + 2)
        }
    }
}
