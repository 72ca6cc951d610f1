/// Text generated from the schema: the reference of every config field and the commented
/// starting config that `runner init` writes.

/// `runner help config`: every field, its type, default and meaning.
public func configReference() -> String {
    var lines = ["CONFIG FIELDS (JSON; // and /* */ comments and \"//\" note keys are allowed)", ""]
    for f in Schema.top {
        if case .section(let fs) = f.type {
            lines.append("\(f.name): \(f.doc)")
            func add(_ fs: [Field], _ prefix: String, _ indent: String) {
                for g in fs {
                    if case .section(let inner) = g.type {
                        lines.append("\(indent)\(prefix).\(g.name): \(g.doc)")
                        add(inner, "\(prefix).\(g.name)", indent + "  ")
                        continue
                    }
                    let models = g.models.map { " [\(prefix.split(separator: ".").last ?? "") type \($0.joined(separator: ", "))]" } ?? (g.sources.map { " [data.source \($0.joined(separator: ", "))]" } ?? "")
                    lines.append("\(indent)\(prefix).\(g.name) = \(g.defaultValue.compact)  (\(g.type.expectation))\(models)")
                    lines.append("\(indent)    \(g.doc)")
                }
            }
            add(fs, f.name, "  ")
        } else if case .sweep = f.type {
            lines.append("sweep: \(f.doc)")
            for kind in SweepKinds.all { lines.append("  " + kind.syntax) }
            lines.append("  arms: {\"name\": {\"path\": value, …}, …}  variants compared at every point")
            lines.append("  repeats: n  independent seeds per point")
            lines.append("  " + Halving.syntax)
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

/// A commented config with every fc-relevant field at its default (a few marked "suggested"
/// instead, with the default beside them) and a sweep example.
public func starterConfig(name: String) -> String {
    var out = "// \(name): a runner experiment. Every field is shown with its default; delete what you\n"
    out += "// do not need. `runner help config` lists all fields, `runner validate` checks the file.\n{\n"
    out += "  \"name\": \(JSON.quote(name)),\n"
    var sections: [String] = []
    for f in Schema.top where f.name != "name" && !Schema.trialFields.contains(f.name) {
        switch f.type {
        case .section(let fs):
            var s = "  // \(f.doc)\n  \"\(f.name)\": {\n"
            let applicable = fs.filter { ($0.models == nil || $0.models!.contains("fc")) && ($0.sources == nil || $0.sources!.contains(CIFAR10Source.name)) }
            // Values suggested for a first experiment instead of the default; each is marked.
            let suggested: [String: JSON] = ["optimizer.type": .string(Adam.name), "optimizer.learning_rate": .number(1e-3), "data.num_train": .number(1000)]
            s += applicable.enumerated().map { i, g in
                let path = "\(f.name).\(g.name)"
                let comma = i == applicable.count - 1 ? "" : ","
                if let v = suggested[path] {
                    return "    \"\(g.name)\": \(v.compact)\(comma)  // suggested; default \(g.defaultValue.compact): \(g.doc)"
                }
                return "    \"\(g.name)\": \(g.defaultValue.compact)\(comma)  // \(g.doc)"
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
                  "\(BatchNormKind.name)": {"model.normalization": "\(BatchNormKind.name)"}
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

/// The README's table of config fields (between `<!-- schema:begin -->` and
/// `<!-- schema:end -->`), generated from the schema; a test keeps the README in step.
public func schemaMarkdownTable() -> String {
    func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
    func def(_ f: Field) -> String {
        if f.name == "name" { return "the config file name" }
        if case .section = f.type { return "" }
        return "`" + cell(f.defaultValue.compact) + "`"
    }
    func expected(_ t: FieldType) -> String {
        guard case let .number(lo, loOpen, hi, hiOpen) = t else { return cell(t.expectation) }
        switch (lo, hi) {
        case let (l?, h?): return "a number in \(loOpen ? "(" : "[")\(JSON.format(l)), \(JSON.format(h))\(hiOpen ? ")" : "]")"
        case let (l?, nil): return "a number \(loOpen ? ">" : "≥") \(JSON.format(l))"
        default: return "a number"
        }
    }
    var rows = ["| field | default | expected | meaning |", "|---|---|---|---|"]
    for f in Schema.top {
        switch f.type {
        case .section(let fs):
            func add(_ fs: [Field], _ prefix: String) {
                for g in fs {
                    let models = g.models.map { " (\(prefix.split(separator: ".").last ?? "") type " + $0.joined(separator: ", ") + ")" } ?? (g.sources.map { " (data.source " + $0.joined(separator: ", ") + ")" } ?? "")
                    rows.append("| `\(prefix).\(g.name)` | \(def(g)) | \(expected(g.type)) | \(cell(g.doc))\(models) |")
                    if case .section(let inner) = g.type { add(inner, "\(prefix).\(g.name)") }
                }
            }
            add(fs, f.name)
        case .sweep:
            rows.append("| `sweep` | none | \(cell(f.type.expectation)) | \(cell(f.doc)) (see [Sweeps](#sweeps)) |")
        default:
            rows.append("| `\(f.name)` | \(def(f)) | \(expected(f.type)) | \(cell(f.doc)) |")
        }
    }
    let layers = Schema.layerFields.keys.sorted().map { k in
        let fs = Schema.layerFields[k] ?? []
        return "`\(k)`" + (fs.isEmpty ? "" : " (" + fs.map { $0.name + ($0.defaultValue == .null ? "" : " " + $0.defaultValue.compact) }.joined(separator: ", ") + ")")
    }
    rows.append("| `model.layers[i].type` | | a layer type | " + cell(layers.joined(separator: ", ")) + " |")
    return rows.joined(separator: "\n") + "\n"
}
