// The GPT-2 byte-to-unicode table: its published landmarks and that it is a bijection.

import Testing
@testable import Tokenizer

@Suite("byte-level alphabet")
struct ByteLevelAlphabetTests {
    @Test("landmarks of the GPT-2 table")
    func landmarks() {
        let table = ByteLevelAlphabet.scalarForByte
        #expect(table[0] == "\u{100}")             // Ā: the first moved byte
        #expect(table[Int(UInt8(ascii: " "))] == "\u{120}")   // Ġ
        #expect(table[Int(UInt8(ascii: "\n"))] == "\u{10A}")  // Ċ
        #expect(table[Int(UInt8(ascii: "\t"))] == "\u{109}")  // ĉ
        #expect(table[Int(UInt8(ascii: "!"))] == "!")
        #expect(table[126] == "~" && table[127] == "\u{121}")  // DEL follows space: ġ
        #expect(table[0xA0] == "\u{142}" && table[0xAD] == "\u{143}")  // NBSP ł, soft hyphen Ń
        #expect(table[0xA1] == "¡" && table[0xFF] == "ÿ")
    }

    @Test("256 distinct scalars that decode back")
    func bijection() {
        #expect(Set(ByteLevelAlphabet.scalarForByte).count == 256)
        let all = (0...255).map { UInt8($0) }
        #expect(ByteLevelAlphabet.decode(ByteLevelAlphabet.encode(all)) == all)
        #expect(ByteLevelAlphabet.decode("a b") == nil)  // a raw space is not in the alphabet
        #expect(ByteLevelAlphabet.encode(Array("é".utf8)) == "Ã©")
    }
}
