import Foundation

// Exports over repeats and arms, from the trial records (see `TrialRecord`):
//   aggregate.csv  one row per sweep point and arm: the swept values, n, and for each summary
//                  metric its mean, sample standard deviation (n − 1) and 95% interval
//                  (Student t: mean ± t₀.₉₇₅,ₙ₋₁ · s/√n)
//   paired.csv     per sweep point, each arm's difference from the first arm (trials paired
//                  by repeat, which share their seed), with its mean and 95% interval
// Only finished trials count (a diverged or failed trial has no comparable numbers).

/// The metrics summarised, as named in summary.csv.
let aggregateMetrics: [(name: String, value: @Sendable (TrialRecord) -> Double?)] = [
    ("final_train_acc", { $0.epochs.last?.trainAccuracy }),
    ("final_val_acc", { $0.epochs.last?.valAccuracy }),
    ("best_train_acc", { $0.epochs.map(\.trainAccuracy).max() }),
    ("best_val_acc", { $0.bestValAccuracy }),
    ("test_acc", { $0.testAccuracy }),
    ("final_loss", { $0.finalLoss.isFinite ? $0.finalLoss : nil }),
]

/// Mean, sample standard deviation and 95% Student-t interval of `xs` (nil fields when
/// there are too few values: no deviation or interval for one value).
public struct IntervalEstimate: Equatable, Sendable {
    public let n: Int
    public let mean: Double?
    public let std: Double?
    public let low: Double?
    public let high: Double?

    public init(_ xs: [Double]) {
        n = xs.count
        guard n > 0 else { mean = nil; std = nil; low = nil; high = nil; return }
        let m = xs.reduce(0, +) / Double(n)
        mean = m
        guard n > 1 else { std = nil; low = nil; high = nil; return }
        let s = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
        std = s
        let h = studentTQuantile(0.975, degreesOfFreedom: n - 1) * s / Double(n).squareRoot()
        low = m - h; high = m + h
    }
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom (p in (0.5, 1)),
/// by bisection on the CDF `1 − ½·I_{df/(df+t²)}(df/2, ½)`; accurate to ~1e-12.
public func studentTQuantile(_ p: Double, degreesOfFreedom df: Int) -> Double {
    studentTQuantile(p, degreesOfFreedom: Double(df))
}

/// The same for real degrees of freedom (Welch's interval has them).
public func studentTQuantile(_ p: Double, degreesOfFreedom v: Double) -> Double {
    func cdf(_ t: Double) -> Double { 1 - 0.5 * regularizedIncompleteBeta(v / (v + t * t), a: v / 2, b: 0.5) }
    var lo = 0.0, hi = 1.0
    while cdf(hi) < p { hi *= 2 }
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if cdf(mid) < p { lo = mid } else { hi = mid }
        if hi - lo < 1e-14 * max(1, hi) { break }
    }
    return (lo + hi) / 2
}

/// Welch's 95% interval of mean(a) − mean(b) for independent samples: the mean difference
/// ± t(0.975, ν)·√(s²ₐ/nₐ + s²ᵦ/nᵦ), ν by Welch–Satterthwaite. nil with fewer than two
/// values on a side or no spread at all. What the difference would look like without
/// pairing (for comparison with the paired interval).
public func welchInterval(_ a: [Double], _ b: [Double]) -> (low: Double, high: Double)? {
    let ea = IntervalEstimate(a), eb = IntervalEstimate(b)
    guard let ma = ea.mean, let mb = eb.mean, let sa = ea.std, let sb = eb.std else { return nil }
    let va = sa * sa / Double(a.count), vb = sb * sb / Double(b.count)
    guard va + vb > 0 else { return nil }
    let df = (va + vb) * (va + vb) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
    let h = studentTQuantile(0.975, degreesOfFreedom: df) * (va + vb).squareRoot()
    return (ma - mb - h, ma - mb + h)
}

/// I_x(a, b), the regularized incomplete beta function (continued fraction, Lentz's method).
func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
    let lnFront: Double = logBeta + a * log(x) + b * log(1 - x)
    if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var f = d
    for m in 1...300 {
        let m = Double(m)
        let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 + even * d; if abs(d) < tiny { d = tiny }; c = 1 + even / c; if abs(c) < tiny { c = tiny }
        d = 1 / d; f *= d * c
        let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + odd * d; if abs(d) < tiny { d = tiny }; c = 1 + odd / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        f *= delta
        if abs(delta - 1) < 1e-15 { break }
    }
    return exp(lnFront) * f / a
}

extension ExperimentPlan {
    /// Whether the aggregate exports apply: repeats or arms.
    var hasGroups: Bool { sweptPaths.contains("repeat") || trials.contains { $0.arm != nil } }

    /// The sweep point's columns: the paths of grid, zip and random axes (not the repeat
    /// index, nor the fields only arms set: the arm column stands for those).
    var pointColumns: [String] { trials.first?.point.map(\.path) ?? [] }
}

/// aggregate.csv and paired.csv of `plan` from `records` (plan order), as CSV texts.
/// One pass over the trials, grouped by dictionaries: O(trials).
func aggregateTables(plan: ExperimentPlan, records: [TrialRecord]) -> (aggregate: String, paired: String?) {
    let finished = Dictionary(records.filter { $0.status == .finished }.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
    func pointKey(_ t: TrialPlan) -> String { JSON.array(t.point.map { .array([.string($0.path), $0.value]) }).compact }
    func cells(_ t: TrialPlan) -> [String] {
        plan.pointColumns.map { c in cellValue(t.parameters.first { $0.path == c }?.value ?? .null) }
    }
    func stats(_ e: IntervalEstimate) -> [String] { [e.mean, e.std, e.low, e.high].map { $0.map { "\($0)" } ?? "" } }

    // Trials by point (in plan order of first appearance), and arms in plan order.
    var points: [(key: String, trials: [TrialPlan])] = []
    var pointAt: [String: Int] = [:]
    var arms: [String] = []
    for t in plan.trials {
        let key = pointKey(t)
        if let k = pointAt[key] { points[k].trials.append(t) } else { pointAt[key] = points.count; points.append((key, [t])) }
        if let a = t.arm, !arms.contains(a) { arms.append(a) }
    }
    let armNames: [String?] = arms.isEmpty ? [nil] : arms.map { Optional($0) }

    // aggregate.csv: one row per (point, arm).
    let header = plan.pointColumns + ["arm", "n"] + aggregateMetrics.flatMap { m in ["_mean", "_std", "_ci95_low", "_ci95_high"].map { m.name + $0 } }
    var rows: [[String]] = []
    for p in points {
        for arm in armNames {
            let group = p.trials.filter { $0.arm == arm }
            guard let first = group.first else { continue }
            let rs = group.compactMap { finished[$0.index] }
            rows.append(cells(first) + [arm ?? "", "\(rs.count)"] + aggregateMetrics.flatMap { m in stats(IntervalEstimate(rs.compactMap(m.value))) })
        }
    }
    let aggregate = csv(header, rows)

    // paired.csv: each arm minus the first, matched by repeat (the pair shares its seed).
    guard arms.count > 1 else { return (aggregate, nil) }
    var pairedRows: [[String]] = []
    for p in points {
        let baseByRepeat = Dictionary(p.trials.filter { $0.arm == arms[0] }.map { ($0.repeatIndex ?? -1, $0) }, uniquingKeysWith: { a, _ in a })
        for arm in arms.dropFirst() {
            var diffs: [[Double]] = Array(repeating: [], count: aggregateMetrics.count)
            // The same arms as independent samples (every finished trial of each), for the unpaired interval.
            let own = p.trials.filter { $0.arm == arm }.compactMap { finished[$0.index] }
            let baseline = p.trials.filter { $0.arm == arms[0] }.compactMap { finished[$0.index] }
            var n = 0
            for other in p.trials where other.arm == arm {
                guard let base = baseByRepeat[other.repeatIndex ?? -1], let rb = finished[base.index], let ro = finished[other.index] else { continue }
                n += 1
                for (k, m) in aggregateMetrics.enumerated() {
                    if let a = m.value(ro), let b = m.value(rb) { diffs[k].append(a - b) }
                }
            }
            pairedRows.append(cells(p.trials[0]) + [arm, arms[0], "\(n)"] + aggregateMetrics.indices.flatMap { k -> [String] in
                let e = IntervalEstimate(diffs[k])
                let m = aggregateMetrics[k]
                let u = welchInterval(own.compactMap(m.value), baseline.compactMap(m.value))
                return [e.mean, e.low, e.high, u?.low, u?.high].map { $0.map { "\($0)" } ?? "" }
            })
        }
    }
    let pairedHeader = plan.pointColumns + ["arm", "minus_arm", "n"] + aggregateMetrics.flatMap { m in
        ["_diff_mean", "_diff_ci95_low", "_diff_ci95_high", "_unpaired_ci95_low", "_unpaired_ci95_high"].map { m.name + $0 }
    }
    return (aggregate, csv(pairedHeader, pairedRows))
}
