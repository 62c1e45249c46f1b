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

/// k folds that keep each class's share in every fold and, when `groups` are given, keep every group whole
/// (so "3 * 7" and "7 * 3", one group, never sit on both sides of a fold's split). Within each class the groups
/// are shuffled from the seed and dealt to the folds one by one, each to the fold that holds the fewest of that
/// class so far (ties to the lowest fold): fold sizes per class then differ by at most the largest group.
public struct StratifiedKFold: Sendable, Equatable {
    /// folds[f]: the test items of fold f, ascending. Every item is in exactly one fold.
    public var folds: [[Int]]

    public init(labels: [Int], groups: [Int]? = nil, folds k: Int, seed: UInt64) {
        precondition(k >= 2, "StratifiedKFold: at least two folds")
        precondition(groups == nil || groups!.count == labels.count, "StratifiedKFold: one group per item")
        var rng = SeededRandom(seed: seed)
        var folds = [[Int]](repeating: [], count: k)
        for c in Set(labels).sorted() {
            let members = labels.indices.filter { labels[$0] == c }
            // A group's id keyed with its class: a group is whole within a class (callers group within a task).
            var byGroup: [Int: [Int]] = [:]
            for i in members { byGroup[groups?[i] ?? i, default: []].append(i) }
            var keys = byGroup.keys.sorted()
            rng.shuffle(&keys)
            var counts = [Int](repeating: 0, count: k)
            for key in keys {
                let f = counts.indices.min { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }!
                folds[f] += byGroup[key]!
                counts[f] += byGroup[key]!.count
            }
        }
        self.folds = folds.map { $0.sorted() }
    }

    /// The items outside fold f (its training part), ascending.
    public func train(fold f: Int) -> [Int] {
        let test = Set(folds[f])
        return folds.joined().filter { !test.contains($0) }.sorted()
    }
}
