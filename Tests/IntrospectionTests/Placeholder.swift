import Testing

@Test func introspectionBuilds() { #expect(Bool(true)) }
