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
/// deterministic (fix dropout masks; see `checkNetworkGradients`).
///
/// Accuracy: truncation error O(h²·f‴) plus round-off O(ε·|f|/h); with `h = 1e-5` in Double
/// that is about 1e-10 absolute for well-scaled functions.
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

/// Checks every parameter gradient of `net` on the batch `(x, labels)`: the analytic gradient
/// of `lossAndGradients` (training loss including `0.5·reg·Σ‖W‖²`) against the centered
/// difference of `lossValue` (train mode), one entry of each parameter at a time.
///
/// Returns one `(name, relativeError)` per parameter in network order, named
/// `"layer <k> <kind> <param>"` with `k` the 1-based index into `net.layers`
/// (e.g. `"layer 1 affine W"`, `"layer 2 batchnorm gamma"`).
///
/// Determinism: dropout layers draw a fresh mask on every forward pass, so the generator
/// state of each `Dropout` layer is saved once and restored before *every* forward pass,
/// which makes every evaluation use the same mask. Side effects are undone at the end:
/// parameters and batchnorm running statistics are restored to their values on entry;
/// the gradients hold the analytic gradient; dropout generators are left as after one
/// training forward pass (as if one step had been taken).
///
/// Cost: `1 + 2·P` forward passes for `P = net.parameterCount` (plus one backward), so keep
/// the network small (the fc test net of the course has ~1k parameters).
public func checkNetworkGradients(_ net: Network<Double>, x: Tensor<Double>, labels: [Int32]) -> [(name: String, error: Double)] {
    precondition(labels.count == x.rows, "checkNetworkGradients: \(labels.count) labels for \(x.rows) rows")
    let saved = net.snapshot()
    let dropouts = net.layers.compactMap { $0 as? Dropout<Double> }
    let rngs = dropouts.map { $0.rng }
    func resetMasks() { for (d, r) in zip(dropouts, rngs) { d.rng = r } }

    return labels.withUnsafeBufferPointer { lab -> [(name: String, error: Double)] in
        let labelPtr = lab.baseAddress!
        resetMasks()
        _ = net.lossAndGradients(x, labels: labelPtr)
        let after = dropouts.map { $0.rng }
        // (layer index, layer kind, parameter, analytic gradient) captured before any re-evaluation.
        var items: [(String, Parameter<Double>, [Double])] = []
        for (k, layer) in net.layers.enumerated() {
            for p in layer.parameters { items.append(("layer \(k + 1) \(layer.kind) \(p.name)", p, p.grad.array)) }
        }
        let loss = { () -> Double in
            resetMasks()
            return net.lossValue(x, labels: labelPtr, mode: .train)
        }
        var results: [(name: String, error: Double)] = []
        for (name, p, analytic) in items {
            let numeric = numericalGradient(of: loss, wrt: p.value)
            results.append((name: name, error: relativeError(analytic, numeric)))
        }
        net.restore(saved)
        for (d, r) in zip(dropouts, after) { d.rng = r }
        return results
    }
}
