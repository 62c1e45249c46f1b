import Testing

@Test func tokenizerBuilds() { #expect(Bool(true)) }
