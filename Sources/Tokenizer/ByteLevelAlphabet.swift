// GPT-2's reversible map from the 256 byte values to 256 printable Unicode scalars, so that
// byte-level BPE vocabularies can be stored as text. Not the BPE itself, not the pre-tokenizer.

/// The GPT-2 byte-to-unicode table.
///
/// Bytes that are already printable and unambiguous (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for
/// themselves; the other 68 (controls, space, DEL, NBSP, soft hyphen…) are moved, in byte order,
/// to U+0100 onwards. So a space is `Ġ` (U+0120) and a newline is `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// `scalar[b]` is the scalar that stands for byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var moved: UInt32 = 0
        for byte in 0..<256 {
            let keepsItself = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if keepsItself {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(256 + moved)!
                moved += 1
            }
        }
        return table
    }()

    /// The inverse map, from scalar value to byte.
    static let byteForScalar: [UInt32: UInt8] = {
        var inverse: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalarForByte.enumerated() { inverse[scalar.value] = UInt8(byte) }
        return inverse
    }()

    /// The vocabulary form of raw bytes: each byte replaced by its stand-in scalar.
    static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalarForByte[Int(byte)]) }
        return String(text)
    }

    /// The bytes a vocabulary entry stands for, or nil when one of its scalars is outside the
    /// alphabet (an added token written as plain text, for instance).
    static func decode(_ piece: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.unicodeScalars.count)
        for scalar in piece.unicodeScalars {
            guard let byte = byteForScalar[scalar.value] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
