import Foundation

// Help texts, generated from the declarations in Declarations.swift.

extension OptionSpec {
    /// `[--jobs N]`
    var synopsis: String { "[" + name + (value.map { " " + $0 } ?? "") + "]" }
}

/// `rows` as a two-column block: labels padded to the widest, then the text.
func table(_ rows: [(String, String)], indent: String = "  ", gap: Int = 2) -> String {
    let width = rows.map(\.0.count).max() ?? 0
    return rows.map { indent + $0.0.padding(toLength: width + gap, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
}

extension CommandSpec {
    /// `runner slurm CONFIG.json [--partition P] …`, wrapped under the operands.
    public var usage: String {
        let head = "runner \(name) \(operands)"
        var lines = [head], width = 90
        for word in options.map(\.synopsis) {
            if lines[lines.count - 1].count + 1 + word.count > width { lines.append(String(repeating: " ", count: head.count)) }
            lines[lines.count - 1] += " " + word
        }
        return lines.joined(separator: "\n")
    }

    /// The text of `runner help NAME` and `runner NAME --help`.
    public var help: String {
        var parts = [usage, description]
        if !options.isEmpty { parts.append("OPTIONS\n" + table(options.map { ($0.label, $0.help) })) }
        if let notes { parts.append(notes) }
        return parts.joined(separator: "\n\n")
    }

    /// The text of `runner --help`: the commands and every option come from the
    /// declarations. Each option is listed once, under the first command that takes it.
    public static var mainHelp: String {
        var listed: [OptionSpec] = []
        var sections: [String] = []
        for cmd in all {
            let new = cmd.options.filter { !listed.contains($0) }
            guard !new.isEmpty else { continue }
            listed += new
            let rows = new.map { o in
                let others = all.filter { $0.name != cmd.name && $0.options.contains(o) }.map(\.name)
                return (o.label, o.help + (others.isEmpty ? "" : "; also " + others.joined(separator: ", ")))
            }
            sections.append("OPTIONS (\(cmd.name))\n" + table(rows))
        }
        sections.append("OPTIONS (every command)\n" + table(OptionSpec.global.map { ($0.label, $0.help) }))
        return """
        runner \(runnerVersion): declarative neural-network experiments on CIFAR-10

        USAGE
          runner CONFIG.json [options]        train what the config describes (same as: runner run)
          runner <command> [arguments]

        COMMANDS
        \(table(all.map { ($0.name, $0.summary) }))

        \(sections.joined(separator: "\n\n"))

        \(MainHelpText.examples)

        \(MainHelpText.output)

        \(MainHelpText.exitCodes)
        """
    }
}
