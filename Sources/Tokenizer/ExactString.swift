// A String that compares and hashes by its UTF-8 bytes. Swift's own String equality is
// canonical equivalence ("é" == "e\u{301}", the Kelvin sign == "K"), which would merge distinct
// vocabulary entries; tokenizers compare bytes. Not used for the byte-level alphabet, whose
// scalars have no canonical equivalents.

struct ExactString: Hashable {
    let value: String

    init(_ value: String) { self.value = value }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.utf8.elementsEqual(rhs.value.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var value = value
        value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
