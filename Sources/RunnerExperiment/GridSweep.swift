/// `sweep.grid`: `{"path": values, …}`, the cartesian product, one axis per path in the
/// order written (the first varies slowest).
public enum GridSweep: SweepKind {
    public static let name = "grid"
    public static let syntax = "grid: {\"path\": [values] | {\"logspace\": [a, b, n]} | {\"linspace\": [a, b, n]}, …}  cartesian product"

    public static func expand(_ spec: JSON, into builder: inout SweepBuilder) throws(ConfigError) {
        guard case .object(let gp) = spec else { throw .wrongType(path: "sweep.grid", expected: "an object of \"path\": [values]", found: spec.typeName) }
        for (path, values) in gp where path != "//" {
            try builder.claim(path, at: "sweep.grid")
            let vs = try builder.values(values, at: "sweep.grid.\(path)")
            builder.addAxis(vs.map { [(path, $0)] }, columns: [path])
        }
    }
}
