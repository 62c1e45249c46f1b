// Interventions on a forward pass, as named points the pass goes through (TransformerLens's hook points,
// written as data): replace or add to the residual stream at chosen layers and positions (patching,
// steering), project a direction out of it (erasure), zero or replace one head's output before the output
// projection (ablation). The backward pass applies each edit's transpose at the same point, so a gradient
// through an intervened pass is the gradient of what was computed. An empty list costs nothing.
import Kernels

public struct Intervention: Sendable, Equatable {
    public enum Site: Sendable, Equatable {
        /// The residual stream after the embedding (layer −1, `embed`) or after block k (layer k, `Lk`).
        case residual(layer: Int)
        /// Query head h's attention output in block k, before o_proj.
        case head(layer: Int, head: Int)
    }

    public enum Edit: Sendable, Equatable {
        /// Set the vector ([D] at a residual site, [Dh] at a head).
        case replace([Float])
        /// Add the vector (steering).
        case add([Float])
        /// x ← x − (x·u)u for the unit vector along the given direction (concept erasure).
        case projectOut([Float])
        /// Set to zero (ablation).
        case zero
    }

    public var site: Site
    public var edit: Edit
    /// The batch entry it applies to; nil: every sequence.
    public var sequence: Int?
    /// The absolute position it applies to (a cache's earlier positions count); nil: every position.
    public var position: Int?

    public init(_ site: Site, _ edit: Edit, sequence: Int? = nil, position: Int? = nil) {
        self.site = site
        self.edit = edit
        self.sequence = sequence
        self.position = position
        if case let .projectOut(direction) = edit { self.edit = .projectOut(Self.unit(direction)) }
    }

    static func unit(_ v: [Float]) -> [Float] {
        var norm = 0.0
        for x in v { norm += Double(x) * Double(x) }
        let s = norm > 0 ? Float(1 / norm.squareRoot()) : 0
        return v.map { $0 * s }
    }

    var layer: Int {
        switch site {
        case let .residual(l): return l
        case let .head(l, _): return l
        }
    }

    /// Checks the edit fits the model; the forward calls it before running.
    func validate(_ c: ModelConfig, batch: Int) throws {
        let width: Int
        switch site {
        case let .residual(l):
            guard l >= -1 && l < c.layerCount else { throw ModelError.invalidIntervention("residual layer \(l) is outside -1 (embed) ..< \(c.layerCount)") }
            width = c.hiddenSize
        case let .head(l, h):
            guard l >= 0 && l < c.layerCount else { throw ModelError.invalidIntervention("head layer \(l) is outside 0 ..< \(c.layerCount)") }
            guard h >= 0 && h < c.headCount else { throw ModelError.invalidIntervention("head \(h) is outside 0 ..< \(c.headCount)") }
            width = c.headDim
        }
        switch edit {
        case let .replace(v), let .add(v):
            guard v.count == width else { throw ModelError.invalidIntervention("vector has \(v.count) values; the site is \(width) wide") }
        case let .projectOut(u):
            guard u.count == width else { throw ModelError.invalidIntervention("direction has \(u.count) values; the site is \(width) wide") }
            guard u.contains(where: { $0 != 0 }) else { throw ModelError.invalidIntervention("the direction to project out is zero") }
        case .zero: break
        }
        if let b = sequence, !(0..<batch).contains(b) { throw ModelError.invalidIntervention("sequence \(b) is outside the batch of \(batch)") }
        if let p = position, p < 0 { throw ModelError.invalidIntervention("position \(p) is negative") }
    }
}

/// The interventions of one pass, sorted by site, with the packed rows each one touches.
struct InterventionPlan: Sendable {
    struct Entry: Sendable {
        var intervention: Intervention
        var rows: [Int]
        /// First column of the edited slice and its width.
        var column: Int
        var width: Int
    }
    private(set) var residual: [Int: [Entry]] = [:]
    private(set) var heads: [Int: [Entry]] = [:]
    var isEmpty: Bool { residual.isEmpty && heads.isEmpty }

    init() {}

    init(_ interventions: [Intervention], config c: ModelConfig, lengths: [Int], rowOffsets: [Int], positions: [Int]) throws {
        for iv in interventions {
            try iv.validate(c, batch: lengths.count)
            var rows: [Int] = []
            for b in 0..<lengths.count where iv.sequence == nil || iv.sequence == b {
                for r in rowOffsets[b]..<(rowOffsets[b] + lengths[b]) where iv.position == nil || positions[r] == iv.position {
                    rows.append(r)
                }
            }
            switch iv.site {
            case let .residual(l):
                residual[l, default: []].append(Entry(intervention: iv, rows: rows, column: 0, width: c.hiddenSize))
            case let .head(l, h):
                heads[l, default: []].append(Entry(intervention: iv, rows: rows, column: h * c.headDim, width: c.headDim))
            }
        }
    }

    func residualEdits(after layer: Int) -> [Entry] { residual[layer] ?? [] }
    func headEdits(in layer: Int) -> [Entry] { heads[layer] ?? [] }

    /// Applies the edits in order to m's rows.
    static func apply(_ entries: [Entry], to m: inout Matrix) {
        for e in entries {
            for r in e.rows {
                let base = r * m.cols + e.column
                switch e.intervention.edit {
                case let .replace(v): for j in 0..<e.width { m.values[base + j] = v[j] }
                case let .add(v): for j in 0..<e.width { m.values[base + j] += v[j] }
                case .zero: for j in 0..<e.width { m.values[base + j] = 0 }
                case let .projectOut(u): project(&m.values, base: base, unit: u)
                }
            }
        }
    }

    /// The transpose of `apply`, in reverse order, on a gradient: replaced and zeroed values depend on
    /// nothing upstream; an added constant passes the gradient on; a projection is its own transpose.
    static func applyTranspose(_ entries: [Entry], to g: inout Matrix) {
        for e in entries.reversed() {
            for r in e.rows {
                let base = r * g.cols + e.column
                switch e.intervention.edit {
                case .replace, .zero: for j in 0..<e.width { g.values[base + j] = 0 }
                case .add: break
                case let .projectOut(u): project(&g.values, base: base, unit: u)
                }
            }
        }
    }

    @inline(__always)
    private static func project(_ values: inout [Float], base: Int, unit u: [Float]) {
        var dot: Float = 0
        for j in u.indices { dot += values[base + j] * u[j] }
        for j in u.indices { values[base + j] -= dot * u[j] }
    }
}
