// One GGUF metadata value, with the type codes of the format and typed accessors that say nil
// rather than guess. Not the reader: GGUFFile decodes these from bytes, GGUFWriter encodes them.

// Not `indirect`: an array's elements already live on the heap, and boxing every scalar would cost
// an allocation per element of a 100k-entry vocabulary.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// All elements have one type (GGUF arrays are homogeneous).
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The GGUF value-type code (gguf.cpp's `gguf_type`).
    public var typeCode: UInt32 {
        switch self {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    /// The name of a GGUF value-type code, for messages.
    public static func typeName(_ code: UInt32) -> String {
        let names = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"]
        return code < names.count ? names[Int(code)] : "unknown type \(code)"
    }

    /// Any integer case whose value fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// A floating-point case, or an integer one (as its nearest Double).
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .uint64(let v): return Double(v)
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// An array whose elements are all strings.
    public var stringArray: [String]? { elements { $0.stringValue } }

    /// An array whose elements are all integers that fit in `Int`.
    public var intArray: [Int]? { elements { $0.intValue } }

    /// An array whose elements are all numbers, as Float.
    public var floatArray: [Float]? {
        elements { element in
            if case .float32(let f) = element { return f }
            return element.doubleValue.map(Float.init)
        }
    }

    /// The array's elements converted by `convert`, or nil if this is no array or one element fails.
    private func elements<T>(_ convert: (GGUFValue) -> T?) -> [T]? {
        guard case .array(let elements) = self else { return nil }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let converted = convert(element) else { return nil }
            result.append(converted)
        }
        return result
    }
}
