import Testing

@Test func llamaBuilds() { #expect(Bool(true)) }
