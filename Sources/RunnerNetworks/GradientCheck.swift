import Foundation

// Gradient checking (Double only): compares analytic gradients from `backward` against
// centered finite differences. Used by the test suite and by the CLI's gradient-check command.

/// Centered-difference numerical gradient of the scalar function `f` with respect to every
/// entry of `x`:
///
///     ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / (2h)
///
/// `x` is perturbed in place (each entry is restored exactly before moving to the next), so
/// `f` must read `x` afresh on every call — e.g. run a forward pass on it — and must be
/// deterministic (fix dropout masks; see `compareNetworkGradients`).
///
/// Accuracy: truncation error O(h²·f‴) plus round-off O(ε·|f|/h); with `h = 1e-5` in Double
/// that is ~1e-11 absolute for a loss of order 1 (rel_error then exceeds 1e-6 on entries
/// below ~1e-5 whatever the analytic gradient).
/// Cost: `2·x.count` evaluations of `f`.
public func numericalGradient(of f: () -> Double, wrt x: Tensor<Double>, h: Double = 1e-5) -> [Double] {
    var grad = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let old = x[i]
        x[i] = old + h
        let plus = f()
        x[i] = old - h
        let minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    }
    return grad
}

/// The course's `rel_error`: the largest element-wise relative difference
///
///     max_i |a_i − b_i| / max(1e-8, |a_i| + |b_i|)
///
/// (0 for empty arrays). O(count). The arrays must have equal length.
public func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "relativeError: lengths differ (\(a.count) vs \(b.count))")
    var worst = 0.0
    for i in 0..<a.count {
        let e = abs(a[i] - b[i]) / max(1e-8, abs(a[i]) + abs(b[i]))
        if e > worst || e.isNaN { worst = e }
    }
    return worst
}

/// Analytic and numerical gradient of one parameter (see `compareNetworkGradients`).
public struct GradientComparison: Sendable {
    /// `"layer <k> <kind> <param>"`, `k` the 1-based index into `Network.layers`.
    public let name: String
    public let analytic: [Double]
    public let numeric: [Double]

    public init(name: String, analytic: [Double], numeric: [Double]) {
        self.name = name; self.analytic = analytic; self.numeric = numeric
    }

    /// The course's `rel_error` between the two (`relativeError`).
    public var relativeError: Double { RunnerNetworks.relativeError(analytic, numeric) }
    /// `max |analytic − numeric|`.
    public var maxAbsoluteError: Double { zip(analytic, numeric).reduce(0) { max($0, abs($1.0 - $1.1)) } }
}

/// Every parameter gradient of `net` on the batch `(x, labels)`: the analytic gradient of
/// `lossAndGradients` (training loss including `0.5·reg·Σ‖W‖²`) next to the centered
/// difference (`numericalGradient`, step `h`) of `lossValue` in train mode, one entry of each
/// parameter at a time. Also returns the loss at `x` (the scale of the numerical gradient's
/// round-off, about `ε·|loss|/h`).
///
/// Parameters come in network order, named `"layer <k> <kind> <param>"` with `k` the 1-based
/// index into `net.layers` (e.g. `"layer 1 affine W"`, `"layer 2 batchnorm gamma"`).
///
/// Determinism: dropout layers draw a fresh mask on every forward pass, so the generator
/// of every layer that has one (`Layer.randomState`) is saved once and restored before
/// *every* forward pass, which makes every evaluation use the same mask (the one the next
/// training step would draw). Side effects are undone at the end: parameters, buffers
/// (batchnorm running statistics) and generators are restored to their state on entry (so
/// repeated calls check the same function); only the parameters' `grad` is left holding the
/// analytic gradient.
///
/// Cost: `1 + 2·P` forward passes for `P = net.parameterCount` (plus one backward), so keep
/// the network small (the fc test net of the course has ~1k parameters).
public func compareNetworkGradients(_ net: Network<Double>, x: Tensor<Double>, labels: [Int32],
                                    h: Double = 1e-5) -> (loss: Double, parameters: [GradientComparison]) {
    precondition(labels.count == x.rows, "compareNetworkGradients: \(labels.count) labels for \(x.rows) rows")
    let saved = net.snapshot()
    let generators = net.layers.compactMap { l in l.randomState.map { (layer: l, state: $0) } }
    func resetMasks() { for g in generators { g.layer.randomState = g.state } }

    return labels.withUnsafeBufferPointer { lab -> (loss: Double, parameters: [GradientComparison]) in
        let labelPtr = lab.baseAddress!
        resetMasks()
        let loss = net.lossAndGradients(x, labels: labelPtr)
        // Analytic gradients are copied before any re-evaluation.
        var items: [(String, Parameter<Double>, [Double])] = []
        for (k, layer) in net.layers.enumerated() {
            for p in layer.parameters { items.append(("layer \(k + 1) \(layer.kind) \(p.name)", p, p.grad.array)) }
        }
        let f = { () -> Double in
            resetMasks()
            return net.lossValue(x, labels: labelPtr, mode: .train)
        }
        let results = items.map { name, p, analytic in
            GradientComparison(name: name, analytic: analytic, numeric: numericalGradient(of: f, wrt: p.value, h: h))
        }
        net.restore(saved)
        resetMasks()
        return (loss, results)
    }
}

/// `compareNetworkGradients` reduced to the course's `rel_error` per parameter:
/// `[(name, relativeError(analytic, numeric))]` in network order, e.g.
/// `("layer 1 affine W", 3.2e-8)`. Same cost (`1 + 2·P` forward passes) and (lack of) side effects.
///
/// Reading the numbers: ≲1e-6 is a correct gradient. Larger values (1e-5…1e-3) on a few
/// parameters can still be legitimate, because the measure is element-wise: an entry whose
/// true gradient is ~0 is compared against the numerical gradient's round-off
/// (~ε·|loss|/h ≈ 1e-11) — an affine bias feeding batchnorm has exactly zero gradient and
/// shows ~1e-3 — and a relu kink within `h` of an entry breaks the finite difference. A wrong
/// gradient is wrong on its large entries too; `compareNetworkGradients` gives the arrays to
/// tell the cases apart.
public func checkNetworkGradients(_ net: Network<Double>, x: Tensor<Double>, labels: [Int32]) -> [(name: String, error: Double)] {
    compareNetworkGradients(net, x: x, labels: labels).parameters.map { (name: $0.name, error: $0.relativeError) }
}
