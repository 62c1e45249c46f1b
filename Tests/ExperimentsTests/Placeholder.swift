import Testing

@Test func experimentsBuilds() { #expect(Bool(true)) }
