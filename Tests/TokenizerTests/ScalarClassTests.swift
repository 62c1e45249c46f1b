// The scalar classes of the split patterns against the regex engine of `tokenizers`, on every
// Unicode scalar (unicode_classes.json, from tools/tokenizer_reference.py).

import Foundation
import Testing
@testable import Tokenizer

@Suite("Unicode classes")
struct ScalarClassTests {
    struct Classes: Decodable {
        let source: String
        let whitespace: [[UInt32]]
        let letter: [[UInt32]]
        let number: [[UInt32]]
        let digit_split: [[UInt32]]
    }

    private static func members(_ ranges: [[UInt32]]) -> Set<UInt32> {
        var set = Set<UInt32>()
        for range in ranges where range.count == 2 && range[0] <= range[1] { set.formUnion(range[0]...range[1]) }
        return set
    }

    @Test("every scalar is classed as Oniguruma and Rust class it")
    func everyScalar() throws {
        let classes = try Fixtures.decode(Classes.self, "unicode_classes")
        let whitespace = Self.members(classes.whitespace)
        let letters = Self.members(classes.letter)
        let numbers = Self.members(classes.number)
        let digits = Self.members(classes.digit_split)
        #expect(whitespace.count == 25)
        #expect(letters.count > 100_000)
        var mismatches: [String] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let expected: ScalarClass = whitespace.contains(value) ? .whitespace
                : letters.contains(value) ? .letter : numbers.contains(value) ? .number : .other
            if ScalarClass.inRegex(scalar) != expected { mismatches.append("U+\(String(value, radix: 16)) regex") }
            if ScalarClass.isSplitDigit(scalar) != digits.contains(value) { mismatches.append("U+\(String(value, radix: 16)) digit") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) scalars differ: \(mismatches.prefix(10))")
    }
}
