import Testing

@Test func modelfilesBuilds() { #expect(Bool(true)) }
