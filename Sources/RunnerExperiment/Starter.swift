/// Text generated from the schema: the reference of every config field and the commented
/// starting config that `runner init` writes.

/// `runner help config`: every field, its type, default and meaning.
public func configReference() -> String {
    var lines = ["CONFIG FIELDS (JSON; // and /* */ comments and \"//\" note keys are allowed)", ""]
    for f in Schema.top {
        if case .section(let fs) = f.type {
            lines.append("\(f.name): \(f.doc)")
            for g in fs {
                let models = g.models.map { " [model type \($0.joined(separator: ", "))]" } ?? ""
                lines.append("  \(f.name).\(g.name) = \(g.defaultValue.compact)  (\(g.type.expectation))\(models)")
                lines.append("      \(g.doc)")
            }
        } else if case .sweep = f.type {
            lines.append("sweep: \(f.doc)")
            lines.append("  grid: {\"path\": [values] | {\"logspace\": [a, b, n]} | {\"linspace\": [a, b, n]}, …}  cartesian product")
            lines.append("  zip: {\"path\": [values], …} (or a list of them)  lists that move together")
            lines.append("  arms: {\"name\": {\"path\": value, …}, …}  variants compared at every point")
            lines.append("  repeats: n  independent seeds per point")
        } else {
            lines.append("\(f.name) = \(f.defaultValue.compact)  (\(f.type.expectation))")
            lines.append("    \(f.doc)")
        }
        lines.append("")
    }
    lines.append("layer types in model.layers:")
    for (k, fs) in Schema.layerFields.sorted(by: { $0.key < $1.key }) {
        lines.append("  \(k)" + (fs.isEmpty ? "" : ": " + fs.map { "\($0.name)" + ($0.defaultValue == .null ? "" : "=\($0.defaultValue.compact)") }.joined(separator: ", ")))
    }
    return lines.joined(separator: "\n")
}

/// A commented config with every fc-relevant field at its default and a sweep example.
public func starterConfig(name: String) -> String {
    var out = "// \(name): a runner experiment. Every field is shown with its default; delete what you\n"
    out += "// do not need. `runner help config` lists all fields, `runner validate` checks the file.\n{\n"
    out += "  \"name\": \(JSON.quote(name)),\n"
    var sections: [String] = []
    for f in Schema.top where f.name != "name" && !Schema.trialFields.contains(f.name) {
        switch f.type {
        case .section(let fs):
            var s = "  // \(f.doc)\n  \"\(f.name)\": {\n"
            let applicable = fs.filter { $0.models == nil || $0.models!.contains("fc") }
            let value: (Field) -> JSON = { g in
                if f.name == "optimizer" && g.name == "type" { return .string("adam") }
                if f.name == "optimizer" && g.name == "learning_rate" { return .number(1e-3) }
                if f.name == "data" && g.name == "num_train" { return .number(1000) }
                return g.defaultValue
            }
            s += applicable.enumerated().map { i, g in
                "    \"\(g.name)\": \(value(g).compact)\(i == applicable.count - 1 ? "" : ",")  // \(g.doc)"
            }.joined(separator: "\n")
            s += "\n  }"
            sections.append(s)
        case .sweep:
            sections.append("""
              // Trials to run. Remove this section for a single trial.
              "sweep": {
                "grid": {"model.weight_scale": {"logspace": [-3, -1, 3]}},
                "arms": {
                  "baseline": {"model.normalization": "none"},
                  "batchnorm": {"model.normalization": "batchnorm"}
                }
              }
            """)
        default:
            sections.append("  // \(f.doc)\n  \"\(f.name)\": \(f.defaultValue.compact)")
        }
    }
    out += sections.joined(separator: ",\n") + "\n}\n"
    return out
}
