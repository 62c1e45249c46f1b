// A train/test split that keeps each class's share in both parts, drawn from a seed.
import Kernels

public struct StratifiedSplit: Sendable, Equatable {
    public var train: [Int]
    public var test: [Int]

    /// Per class, a seeded shuffle puts round(count × testFraction) examples (at least one when the class has
    /// two or more) in the test part. Both parts are returned in ascending order.
    public init(labels: [Int], testFraction: Double, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var train: [Int] = [], test: [Int] = []
        let classes = Set(labels).sorted()
        for c in classes {
            var members = labels.indices.filter { labels[$0] == c }
            rng.shuffle(&members)
            var nTest = Int((Double(members.count) * testFraction).rounded())
            if members.count >= 2 { nTest = min(max(nTest, 1), members.count - 1) } else { nTest = 0 }
            test += members[0..<nTest]
            train += members[nTest...]
        }
        self.train = train.sorted()
        self.test = test.sorted()
    }
}
