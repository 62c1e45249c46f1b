// How the split patterns see one Unicode scalar: a letter (\p{L}), a number (\p{N}), white space
// (\s) or anything else. Not the patterns themselves (PreTokenizer.swift).

/// The class of a scalar in the pre-tokenizer patterns.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    /// The newest Unicode version the regex engine of Hugging Face `tokenizers` (Oniguruma) knows.
    /// Swift's own tables are newer (17.0); a scalar assigned after 16.0 is unassigned to the
    /// regex, hence neither letter nor number. Checked on every scalar by unicode_classes.json.
    static let regexUnicodeMajorVersion = 16

    /// The class as the `tokenizers` regex engine sees it: `\s` is Unicode White_Space, `\p{L}`
    /// and `\p{N}` the general categories L* and N* of Unicode 16.
    @inline(__always)
    static func inRegex(_ scalar: Unicode.Scalar) -> ScalarClass {
        if scalar.value < 128 { return asciiClasses[Int(scalar.value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        let category = generalClass(properties.generalCategory)
        if category == .other { return .other }
        if let age = properties.age, age.major <= regexUnicodeMajorVersion { return category }
        return .other
    }

    /// Whether the Digits pre-tokenizer of `tokenizers` splits this scalar off on its own: Rust's
    /// `char::is_numeric`, i.e. general category N* of Rust's Unicode tables (17.0, as Swift's).
    @inline(__always)
    static func isSplitDigit(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 128 { return scalar.value >= 48 && scalar.value <= 57 }
        return generalClass(scalar.properties.generalCategory) == .number
    }

    private static func generalClass(_ category: Unicode.GeneralCategory) -> ScalarClass {
        switch category {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Membership in the two letter sets of the o200k (GPT-4o, GPT-OSS) pattern, as the regex engine sees
    /// them (Unicode 16, like `inRegex`): `upper` is [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], `lower` is
    /// [\p{Ll}\p{Lm}\p{Lo}\p{M}]; modifier and other letters and marks are in both.
    @inline(__always)
    static func o200kLetterSets(_ scalar: Unicode.Scalar) -> (upper: Bool, lower: Bool) {
        if scalar.value < 128 {
            return (scalar.value >= 65 && scalar.value <= 90, scalar.value >= 97 && scalar.value <= 122)
        }
        let properties = scalar.properties
        guard let age = properties.age, age.major <= regexUnicodeMajorVersion else { return (false, false) }
        switch properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: return (true, false)
        case .lowercaseLetter: return (false, true)
        case .modifierLetter, .otherLetter, .nonspacingMark, .spacingMark, .enclosingMark: return (true, true)
        default: return (false, false)
        }
    }

    /// ASCII is most text; a table keeps the property lookups off that path.
    private static let asciiClasses: [ScalarClass] = (0..<128).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        if scalar.properties.isWhitespace { return .whitespace }
        return generalClass(scalar.properties.generalCategory)
    }
}
