import Testing

@Test func kernelsBuilds() { #expect(Bool(true)) }
