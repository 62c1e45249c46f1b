// Where this test target's committed fixtures are.
import Foundation
import Testing

/// A committed fixture file or folder of this test target.
func introspectionFixture(_ relative: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures/\(relative)", withExtension: nil), "missing fixture \(relative)")
}
