import Foundation

/// `runner compare RESULTS_A RESULTS_B …`: experiments side by side, trials matched by their
/// swept values.
///
/// The match key is the arm and the paths every experiment sweeps (their values as printed in
/// `summary.csv`), so two runs of one sweep (e.g. with and without early termination, or
/// before and after a change) line up trial by trial. When an experiment has several trials
/// at one key (it sweeps more paths than the others), its cell is the best of them by
/// validation accuracy and `n` says how many there were. Reads only the results folders.
public struct Comparison: Sendable {
    public struct Cell: Sendable {
        public var trial: Int
        public var status: TrialStatus
        public var bestValAcc: Double?
        public var testAcc: Double?
        public var epochs: Int
        /// Trials of the experiment at this key (the cell shows the best).
        public var count: Int
    }
    public var names: [String]
    public var keyColumns: [String]
    /// One row per key, in order of first appearance; `cells[e]` is experiment e's trial there.
    public var rows: [(key: [String], cells: [Cell?])]

    /// Loads each results folder (its `experiment.json` and trial records).
    public static func load(_ directories: [String]) throws -> Comparison {
        var plans: [ExperimentPlan] = [], records: [[TrialRecord]] = []
        for d in directories {
            let plan = try ExperimentPlan.fromResults(directory: d)
            plans.append(plan)
            records.append(try ResultsFolder(d, create: false).records(of: plan).records)
        }
        let hasArms = records.contains { $0.contains { $0.arm != nil } }
        var common = plans.first?.sweptPaths ?? []
        for p in plans.dropFirst() { common = common.filter(p.sweptPaths.contains) }
        let keyColumns = (hasArms ? ["arm"] : []) + common
        var order: [[String]] = [], index: [[String]: Int] = [:]
        var cells: [[[String]: Cell]] = Array(repeating: [:], count: plans.count)
        for (e, rs) in records.enumerated() {
            for r in rs {
                let values = Dictionary(r.parameters.map { ($0.path, cellValue($0.value)) }, uniquingKeysWith: { a, _ in a })
                let key = (hasArms ? [r.arm ?? ""] : []) + common.map { values[$0] ?? "" }
                if index[key] == nil { index[key] = order.count; order.append(key) }
                let cell = Cell(trial: r.index, status: r.status, bestValAcc: r.bestValAccuracy, testAcc: r.testAccuracy,
                                epochs: r.epochs.last?.epoch ?? 0, count: (cells[e][key]?.count ?? 0) + 1)
                if let old = cells[e][key], (old.bestValAcc ?? -1) >= (cell.bestValAcc ?? -1) {
                    cells[e][key]?.count = cell.count
                } else {
                    cells[e][key] = cell
                }
            }
        }
        return Comparison(names: plans.map(\.name), keyColumns: keyColumns,
                          rows: order.map { k in (k, cells.map { $0[k] }) })
    }

    /// Experiment names made unique for column headers (a name twice gets `#2`).
    var columnNames: [String] {
        names.enumerated().map { i, n in names[..<i].contains(n) ? "\(n)#\(names[..<i].filter { $0 == n }.count + 1)" : n }
    }

    static func acc(_ x: Double?) -> String { x.map { String(format: "%.4g", $0) } ?? "" }

    /// `compare.csv`: the key columns, then per experiment its trial, status, epochs, n,
    /// best_val_acc and test_acc (empty where it has no trial at that key).
    public var csvText: String {
        let header = keyColumns + columnNames.flatMap { n in ["trial", "status", "epochs", "n", "best_val_acc", "test_acc"].map { "\(n).\($0)" } }
        let body = rows.map { row in
            row.key + row.cells.flatMap { c -> [String] in
                guard let c else { return ["", "", "", "", "", ""] }
                return ["\(c.trial)", c.status.rawValue, "\(c.epochs)", "\(c.count)",
                        c.bestValAcc.map { "\($0)" } ?? "", c.testAcc.map { "\($0)" } ?? ""]
            }
        }
        return csv(header, body)
    }

    /// The table printed by `runner compare`: best validation and test accuracy side by side,
    /// rows by the first experiment's best validation accuracy, and the best of each.
    public var tableText: String {
        let names = columnNames
        let keyTitle = keyColumns.isEmpty ? "" : " (" + keyColumns.map(plotShortPath).joined(separator: ", ") + ")"
        var header: [String] = ["trial" + keyTitle]
        for n in names { header += ["\(n) val", "test", "status"] }
        var out: [[String]] = [header]
        let sorted = rows.sorted { a, b in
            for e in 0..<names.count {
                let x = a.cells[e]?.bestValAcc ?? -1, y = b.cells[e]?.bestValAcc ?? -1
                if x != y { return x > y }
            }
            return false
        }
        for row in sorted {
            out.append([row.key.isEmpty ? "-" : row.key.joined(separator: " ")] + row.cells.flatMap { c -> [String] in
                guard let c else { return ["-", "", ""] }
                let status = c.status == .stopped ? "stopped@\(c.epochs)" : c.status.rawValue
                return [Self.acc(c.bestValAcc) + (c.count > 1 ? " (best of \(c.count))" : ""), Self.acc(c.testAcc), status]
            })
        }
        let widths = (0..<out[0].count).map { col in out.map { $0[col].count }.max() ?? 0 }
        var lines: [String] = out.map { (r: [String]) -> String in
            let padded = r.enumerated().map { (i: Int, cell: String) -> String in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            return padded.joined(separator: "  ").trimmingCharacters(in: CharacterSet.whitespaces)
        }
        for (e, n) in names.enumerated() {
            let best = rows.compactMap { r in r.cells[e].map { (r.key, $0) } }.max { ($0.1.bestValAcc ?? -1) < ($1.1.bestValAcc ?? -1) }
            if let (key, c) = best {
                lines.append("best of \(n): t\(c.trial) \(key.joined(separator: " ")) val \(Self.acc(c.bestValAcc)) test \(Self.acc(c.testAcc))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `compare.svg`: best validation and test accuracy of every matched trial, one colour per
    /// experiment; against the first common numeric swept value when there is one (one line per
    /// experiment and arm), otherwise against the row number of `compare.csv`.
    public var figureSVG: String {
        let numericColumn = keyColumns.indices.first { c in
            keyColumns[c] != "arm" && rows.allSatisfy { plotDouble($0.key[c])?.isFinite == true }
        }
        let xs: [Double] = rows.indices.map { i in numericColumn.flatMap { plotDouble(rows[i].key[$0]) } ?? Double(i + 1) }
        let xAxis = PlotAxis.fitting(xs, log: numericColumn != nil && plotLogSpaced(xs),
                                     label: numericColumn.map { keyColumns[$0] } ?? "row of compare.csv", integer: numericColumn == nil)
        let armColumn = keyColumns.firstIndex(of: "arm")
        let arms = armColumn.map { a in Array(NSOrderedSet(array: rows.map { $0.key[a] })) as? [String] ?? [] } ?? [""]
        var legend: [PlotLegendEntry] = []
        var panels: [PlotPanel] = []
        for (title, value) in [("Best validation accuracy", { (c: Cell) in c.bestValAcc }), ("Test accuracy", { (c: Cell) in c.testAcc })] {
            var series: [PlotSeries] = []
            for (e, name) in columnNames.enumerated() {
                for (a, arm) in arms.enumerated() {
                    let color = plotPalette[(e * max(arms.count, 1) + a) % plotPalette.count]
                    let label = arm.isEmpty ? name : "\(name) \(arm)"
                    let points = rows.indices.compactMap { i -> (x: Double, y: Double)? in
                        guard armColumn.map({ rows[i].key[$0] == arm }) ?? true, let c = rows[i].cells[e], let y = value(c), y.isFinite else { return nil }
                        return (xs[i], y)
                    }.sorted { $0.x < $1.x }
                    series.append(PlotSeries(label: label, color: color, points: points, line: numericColumn != nil ? points : nil, markerSize: 3))
                    if panels.isEmpty { legend.append(PlotLegendEntry(label: label, color: color, marker: .dot, line: numericColumn != nil)) }
                }
            }
            let ys = series.flatMap { $0.points.map(\.y) }
            panels.append(PlotPanel(title: title, x: xAxis, y: PlotAxis.fitting(ys.isEmpty ? [0, 1] : ys, log: false, label: "Accuracy", pad: 0.08), series: series))
        }
        return PlotFigure(title: "compare: " + names.joined(separator: " vs "), panels: panels, legend: legend).svg()
    }
}
