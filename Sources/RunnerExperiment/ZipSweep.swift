/// `sweep.zip`: `{"path": values, …}` (or a list of such groups): the lists of a group move
/// together, one axis per group; they must have the same length.
public enum ZipSweep: SweepKind {
    public static let name = "zip"
    public static let syntax = "zip: {\"path\": [values], …} (or a list of them)  lists that move together"

    public static func expand(_ spec: JSON, into builder: inout SweepBuilder) throws(ConfigError) {
        var groups: [JSON] = []
        switch spec {
        case .object: groups = [spec]
        case .array(let xs): groups = xs
        default: throw .wrongType(path: "sweep.zip", expected: "an object of \"path\": [values] (or a list of them)", found: spec.typeName)
        }
        let single: Bool = { if case .object = spec { return true }; return false }()
        for (g, group) in groups.enumerated() {
            let gpath = single ? "sweep.zip" : "sweep.zip[\(g)]"
            guard case .object(let zp) = group else { throw .wrongType(path: gpath, expected: "an object of \"path\": [values]", found: group.typeName) }
            var lists: [(String, [JSON])] = []
            for (path, values) in zp where path != "//" {
                try builder.claim(path, at: gpath)
                lists.append((path, try builder.values(values, at: "\(gpath).\(path)")))
            }
            guard let n = lists.first?.1.count else { throw .invalidValue(path: gpath, message: "is empty; give at least one \"path\": [values]") }
            for (path, vs) in lists where vs.count != n {
                throw .invalidValue(path: "\(gpath).\(path)", message: "has \(vs.count) values but \(lists[0].0) has \(n); zipped lists move together and need the same length")
            }
            builder.addAxis((0..<n).map { i in lists.map { ($0.0, $0.1[i]) } }, columns: lists.map(\.0))
        }
    }
}
