import Foundation

/// `sweep.random`: `{"samples": N, "space": {"path": {"loguniform": [a, b]} | {"uniform": [a, b]}
/// | {"int_uniform": [a, b]} | {"choice": [values]}, …}}`, one axis of N sampled points.
///
/// Sample `i` is drawn from its own generator, seeded from the experiment seed and `i` alone,
/// so the list is the same on every run and machine (`runner plan` prints it) and raising
/// N keeps the first samples, and their results, as they were.
public enum RandomSweep: SweepKind {
    public static let name = "random"
    public static let syntax = "random: {\"samples\": n, \"space\": {\"path\": {\"loguniform\": [a, b]} | {\"uniform\": [a, b]} | {\"int_uniform\": [a, b]} | {\"choice\": [values]}, …}}  n sampled points"

    enum Distribution {
        case uniform(Double, Double), loguniform(Double, Double), intUniform(Int, Int), choice([JSON])

        func draw(_ rng: inout SeededGenerator) -> JSON {
            switch self {
            case let .uniform(a, b): return .number(a + (b - a) * rng.uniform())
            case let .loguniform(a, b): return .number(exp(log(a) + (log(b) - log(a)) * rng.uniform()))
            case let .intUniform(a, b): return .number(Double(a + rng.int(below: b - a + 1)))
            case let .choice(xs): return xs[rng.int(below: xs.count)]
            }
        }
    }

    public static func expand(_ spec: JSON, into builder: inout SweepBuilder) throws(ConfigError) {
        let at = "sweep.random"
        guard case .object(let pairs) = spec else { throw .wrongType(path: at, expected: "an object with \"samples\" and \"space\"", found: spec.typeName) }
        for (k, _) in pairs where !["samples", "space", "//"].contains(k) {
            throw .unknownKey(path: at, key: k, suggestion: nearest(k, in: ["samples", "space"]))
        }
        guard case .number(let n)? = spec["samples"], n == n.rounded(), n >= 1, n <= 100_000 else {
            throw .wrongType(path: "\(at).samples", expected: "a positive integer (at most 100000)", found: spec["samples"]?.typeName ?? "nothing")
        }
        guard case .object(let space)? = spec["space"], !space.filter({ $0.key != "//" }).isEmpty else {
            throw .wrongType(path: "\(at).space", expected: "an object of \"path\": {distribution: …}", found: spec["space"]?.typeName ?? "nothing")
        }
        var dims: [(path: String, distribution: Distribution)] = []
        for (path, d) in space where path != "//" {
            try builder.claim(path, at: "\(at).space")
            dims.append((path, try distribution(d, at: "\(at).space.\(path)")))
        }
        var seed: UInt64 = 0
        if case .number(let s)? = builder.base["seed"] { seed = UInt64(s) }
        let points = (0..<Int(n)).map { i -> [(path: String, value: JSON)] in
            var rng = SeededGenerator(seed: mix64(seed ^ 0x5241_4E44_4F4D_5357 &+ UInt64(i)), stream: 9)
            return dims.map { ($0.path, $0.distribution.draw(&rng)) }
        }
        builder.addAxis(points, columns: dims.map(\.path))
    }

    static func distribution(_ d: JSON, at path: String) throws(ConfigError) -> Distribution {
        let kinds = ["loguniform", "uniform", "int_uniform", "choice"]
        guard case .object(let pairs) = d, pairs.count == 1, let (kind, arg) = pairs.first else {
            throw .wrongType(path: path, expected: "one of {\"loguniform\": [a, b]}, {\"uniform\": [a, b]}, {\"int_uniform\": [a, b]}, {\"choice\": [values]}", found: d.typeName)
        }
        guard kinds.contains(kind) else { throw .unknownKey(path: path, key: kind, suggestion: nearest(kind, in: kinds)) }
        if kind == "choice" {
            guard case .array(let xs) = arg, !xs.isEmpty else { throw .wrongType(path: "\(path).choice", expected: "a non-empty list of values", found: arg.typeName) }
            return .choice(xs)
        }
        guard case .array(let ab) = arg, ab.count == 2, case .number(let a) = ab[0], case .number(let b) = ab[1], a.isFinite, b.isFinite, a <= b else {
            throw .wrongType(path: "\(path).\(kind)", expected: "[low, high] with low ≤ high", found: arg.typeName)
        }
        switch kind {
        case "loguniform":
            guard a > 0 else { throw .invalidValue(path: "\(path).loguniform", message: "needs a positive low end, got \(JSON.format(a))") }
            return .loguniform(a, b)
        case "int_uniform":
            guard a == a.rounded(), b == b.rounded(), abs(a) <= 1e9, abs(b) <= 1e9 else {
                throw .invalidValue(path: "\(path).int_uniform", message: "needs integer ends (at most 1000000000), got [\(JSON.format(a)), \(JSON.format(b))]")
            }
            return .intUniform(Int(a), Int(b))
        default:
            return .uniform(a, b)
        }
    }
}
