import Foundation

// Figures of a results folder, drawn from its CSV files (summary.csv, loss.csv,
// train_acc.csv, val_acc.csv):
//   training.svg  loss against iteration, train and validation accuracy against epoch
//   sweep.svg     best val/train accuracy and final loss against the swept parameter
//   plots.gp      a gnuplot 5 script drawing the same figures as PNGs from the CSVs

public struct PlotError: Error, CustomStringConvertible {
    public let description: String
}

/// Writes the figures of the results folder `resultsDirectory` next to its CSV files and
/// returns the paths written: training.svg, sweep.svg (when the summary has a numeric swept
/// column with at least two values) and plots.gp. Throws when summary.csv is missing.
@discardableResult
public func writePlots(resultsDirectory: String, experimentName: String) throws -> [String] {
    let data = try PlotData(directory: resultsDirectory)
    guard !data.trials.isEmpty else { return [] }
    let folder = try ResultsFolder(resultsDirectory, create: false)
    var written: [String] = []
    func write(_ text: String, _ name: String) throws {
        try folder.write(text, to: name)
        written.append(folder.display(name))
    }
    let training = trainingFigure(data, name: experimentName)
    try write(training.figure.svg(), "training.svg")
    let sweep = sweepFigure(data, name: experimentName)
    if let sweep { try write(sweep.figure.svg(), "sweep.svg") }
    try write(gnuplotScript(data, name: experimentName, training: training, sweep: sweep), "plots.gp")
    return written
}

// MARK: - Reading

func plotDouble(_ s: String?) -> Double? {
    guard let s = s?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
    return Double(s)
}

/// One trial of the figures: its summary cells (for the sweep figure) and its histories.
struct PlotTrial {
    var index: Int
    var label: String            // column header in the wide tables
    var arm: String
    var status: TrialStatus
    var cells: [String: String]  // the summary row, by column
    var loss: [(x: Double, y: Double)]
    var trainAcc: [(x: Double, y: Double)]
    var valAcc: [(x: Double, y: Double)]
    /// Column (0-based, after the x column) of the trial in the wide tables, for plots.gp.
    var column: Int
    var diverged: Bool { status == .diverged }
}

struct PlotData {
    var directory: String
    /// Columns of summary.csv, for plots.gp.
    var summaryHeader: [String]
    var swept: [String]          // the swept config paths, from the plan
    var trials: [PlotTrial]
    var arms: [String]           // in plan order; empty without arms
    /// Legend labels of the training figure, and the one of each trial (an index into it).
    var colorGroups: [String] = []
    var colorGroup: [Int] = []

    /// The figures' data from the results folder's records (see `TrialRecord`) and its plan
    /// (`experiment.json`).
    init(directory: String) throws {
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("experiment.json")) else {
            throw PlotError(description: "no experiment.json in \(directory): not a results folder")
        }
        let plan = try ExperimentPlan.fromResults(directory: directory)
        let folder = try ResultsFolder(directory, create: false)
        self.init(directory: directory, records: folder.records(of: plan).records, sweptPaths: plan.sweptPaths)
    }

    init(directory: String, records: [TrialRecord], sweptPaths: [String]) {
        self.directory = directory
        swept = sweptPaths
        summaryHeader = records.first?.summary.header ?? ["index", "id", "arm"] + sweptPaths + TrialSummary.fixedColumns
        arms = []
        trials = records.enumerated().map { (k, r) in
            let summary = r.summary
            return PlotTrial(index: r.index, label: r.label, arm: r.arm ?? "", status: r.status,
                             cells: Dictionary(zip(summary.header, summary.cells), uniquingKeysWith: { a, _ in a }),
                             loss: r.losses.enumerated().map { (Double($0.offset + 1), $0.element) },
                             trainAcc: r.epochs.map { (Double($0.epoch), $0.trainAccuracy) },
                             valAcc: r.epochs.map { (Double($0.epoch), $0.valAccuracy) }, column: k + 1)
        }
        for t in trials where !t.arm.isEmpty && !arms.contains(t.arm) { arms.append(t.arm) }
        // Trials share a colour and legend entry by arm. Without arms each trial has its own,
        // unless there are more trials than colours: then they are coloured by the first swept
        // column with 2–8 values, if any.
        let all = trials
        let keys: [String]
        if !arms.isEmpty {
            keys = all.map(\.arm)
        } else if all.count > plotPalette.count,
                  let c = swept.first(where: { c in (2...plotPalette.count).contains(Set(all.map { $0.cells[c] ?? "" }).count) }) {
            keys = all.map { t in let v = t.cells[c] ?? ""; return "\(plotShortPath(c))=\(plotDouble(v).map(plotShortNumber) ?? v)" }
        } else {
            keys = all.map { plotShortLabel($0.label) }
        }
        var seen: [String: Int] = [:]
        for k in keys where seen[k] == nil { seen[k] = colorGroups.count; colorGroups.append(k) }
        colorGroup = keys.map { seen[$0]! }
    }

    func color(_ position: Int) -> String { plotPalette[colorGroup[position] % plotPalette.count] }
}

/// Last component of a config path: "model.weight_scale" → "weight_scale".
func plotShortPath(_ p: String) -> String { String(p.split(separator: ".").last ?? Substring(p)) }

/// "t03 weight_scale=0.00042813323987193956" → "t03 weight_scale=0.0004281".
func plotShortLabel(_ label: String) -> String {
    label.split(separator: " ").map { part -> String in
        guard let eq = part.firstIndex(of: "="), let v = Double(part[part.index(after: eq)...]) else { return String(part) }
        return part[..<eq] + "=" + plotShortNumber(v)
    }.joined(separator: " ")
}

/// Indices of at most `limit` of `n` items, evenly spread and always including the first and last.
func plotThinnedIndices(_ n: Int, limit: Int) -> [Int] {
    guard n > limit, limit >= 2 else { return Array(0..<n) }
    return (0..<limit).map { Int((Double($0) * Double(n - 1) / Double(limit - 1)).rounded()) }
}

/// Points per loss series: 6,000 shared by the trials, at least 100 each.
func plotLossBudget(trials: Int) -> Int { max(100, 6000 / max(trials, 1)) }

/// A y range ignoring wild values: from the minimum up to a Tukey fence (third quartile + 3 ×
/// the interquartile range, the latter at least a quarter of the median), raised to `floorHigh`
/// when given. Values above are drawn as off-scale markers.
func plotRobustRange(_ values: [Double], floorHigh: Double? = nil) -> (lo: Double, hi: Double)? {
    let v = values.filter(\.isFinite).sorted()
    guard let first = v.first, let last = v.last else { return nil }
    func q(_ p: Double) -> Double { v[Int((Double(v.count - 1) * p).rounded())] }
    let iqr = max(q(0.75) - q(0.25), 0.25 * abs(q(0.5)))
    var hi = min(last, q(0.75) + 3 * iqr)
    if let f = floorHigh { hi = max(hi, min(f, last)) }
    return (first, hi)
}

// MARK: - training.svg

struct TrainingPlot {
    var figure: PlotFigure
    var lossEvery: Int
    var lossRange: PlotAxis
    var trainRange: PlotAxis
    var valRange: PlotAxis
}

func trainingFigure(_ data: PlotData, name: String) -> TrainingPlot {
    let trials = data.trials
    let budget = plotLossBudget(trials: trials.count)
    var loss: [PlotSeries] = [], finite: [Double] = [], firstLosses: [Double] = [], maxLen = 0
    for (k, t) in trials.enumerated() {
        let raw = t.loss
        maxLen = max(maxLen, raw.count)
        let kept = t.diverged ? Array(raw.prefix { $0.y.isFinite }) : raw.filter { $0.y.isFinite }
        if !t.diverged {
            finite += kept.map(\.y)
            if let f = kept.first { firstLosses.append(f.y) }
        }
        var s = PlotSeries(label: t.label, color: data.color(k), points: plotThinnedIndices(kept.count, limit: budget).map { kept[$0] },
                           markerSize: trials.count > 10 ? 1.6 : 2, status: t.status.rawValue)
        if t.diverged { s.crosses = [kept.last ?? (raw.first?.x ?? 1, .infinity)] }
        loss.append(s)
    }
    if finite.isEmpty { finite = loss.flatMap { $0.points.map(\.y) } }
    let medianFirst = firstLosses.sorted().dropFirst(firstLosses.count / 2).first
    let lossY = plotRobustRange(finite, floorHigh: medianFirst.map { $0 * 1.5 }) ?? (0, 1)
    let iterations = loss.flatMap { $0.points.map(\.x) } + loss.flatMap { $0.crosses.map(\.x) }
    var panels = [PlotPanel(title: "Training loss", x: .fitting(iterations, log: false, label: "Iteration", integer: true),
                            y: .fitting([lossY.lo, lossY.hi], log: false, label: "Loss"), series: loss)]
    for (title, history) in [("Training accuracy", \PlotTrial.trainAcc), ("Validation accuracy", \PlotTrial.valAcc)] {
        var series: [PlotSeries] = []
        for (k, t) in trials.enumerated() {
            let pts = t[keyPath: history].filter { $0.y.isFinite }
            var s = PlotSeries(label: t.label, color: data.color(k), points: pts, line: pts,
                               markerSize: trials.count > 10 ? 2 : 2.5, status: t.status.rawValue)
            if t.diverged, let last = pts.last { s.crosses = [last] }
            series.append(s)
        }
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        panels.append(PlotPanel(title: title, x: .fitting(xs, log: false, label: "Epoch", integer: true), y: .fitting(ys, log: false, label: "Accuracy"), series: series))
    }
    let groups = data.colorGroups
    var legend = groups.count == 1 && data.arms.isEmpty ? []   // one trial: nothing to tell apart
        : groups.enumerated().map { PlotLegendEntry(label: $0.element, color: plotPalette[$0.offset % plotPalette.count], marker: .dot, line: true) }
    if trials.contains(where: \.diverged) { legend.append(PlotLegendEntry(label: "diverged", color: plotMutedColor, marker: .cross, line: false)) }
    if plotHasOffscale(panels) { legend.append(PlotLegendEntry(label: "off scale", color: plotMutedColor, marker: .triangle, line: false)) }
    let every = maxLen > budget ? Int((Double(maxLen) / Double(budget)).rounded(.up)) : 1
    return TrainingPlot(figure: PlotFigure(title: "\(name): training", panels: panels, legend: legend),
                        lossEvery: every, lossRange: panels[0].y, trainRange: panels[1].y, valRange: panels[2].y)
}

func plotHasOffscale(_ panels: [PlotPanel]) -> Bool {
    panels.contains { p in p.series.contains { s in s.points.contains { $0.y.isFinite && !p.y.contains($0.y) } } }
}

// MARK: - sweep.svg

struct SweepSeries {
    var label: String
    var color: String
    var conditions: [(column: String, value: String)]   // summary cells selecting its trials
    var trials: [PlotTrial]
}

struct SweepPlot {
    var figure: PlotFigure
    var xColumn: String
    var series: [SweepSeries]
    var x: PlotAxis
    var panels: [(column: String, y: PlotAxis, flagTop: Bool)]
}

/// Log-scale a sweep axis when its values are positive and log-spaced: consecutive ratios
/// about constant (and > 1.5), or a span of more than two decades.
func plotLogSpaced(_ values: [Double]) -> Bool {
    let v = Array(Set(values)).sorted()
    guard v.count >= 2, let lo = v.first, let hi = v.last, lo > 0 else { return false }
    if hi / lo > 100 { return true }
    if v.count == 2 { return hi / lo >= 10 }
    let ratios = zip(v.dropFirst(), v).map { $0 / $1 }
    guard let rmin = ratios.min(), let rmax = ratios.max() else { return false }
    return rmin > 1.5 && rmax / rmin < 1.15
}

func sweepFigure(_ data: PlotData, name: String) -> SweepPlot? {
    let trials = data.trials
    func values(_ col: String, _ ts: [PlotTrial]) -> Set<String> { Set(ts.map { $0.cells[col] ?? "" }) }
    let groups = data.arms.isEmpty ? [trials] : data.arms.map { a in trials.filter { $0.arm == a } }
    /// Set by the arms (one value per arm): not a sweep axis.
    func byArm(_ col: String) -> Bool { !data.arms.isEmpty && groups.allSatisfy { values(col, $0).count <= 1 } }
    let numeric = data.swept.filter { col in
        let cells = trials.map { $0.cells[col] ?? "" }.filter { !$0.isEmpty }
        return !cells.isEmpty && cells.allSatisfy { plotDouble($0)?.isFinite == true }
    }
    guard let xColumn = numeric.first(where: { !byArm($0) && values($0, trials).subtracting([""]).count >= 2 }) else { return nil }
    let others = data.swept.filter { c in c != xColumn && groups.contains { values(c, $0).count > 1 } }

    var series: [SweepSeries] = []
    for t in trials {
        let conditions = (data.arms.isEmpty ? [] : [("arm", t.arm)]) + others.map { ($0, t.cells[$0] ?? "") }
        if let i = series.firstIndex(where: { s in s.conditions.elementsEqual(conditions, by: { $0 == $1 }) }) { series[i].trials.append(t); continue }
        let parts = (data.arms.isEmpty ? [] : [t.arm]) + others.map { "\(plotShortPath($0))=\(plotDouble(t.cells[$0]).map(plotShortNumber) ?? (t.cells[$0] ?? ""))" }
        series.append(SweepSeries(label: parts.isEmpty ? "trials" : parts.joined(separator: " "), color: plotPalette[series.count % plotPalette.count],
                                  conditions: conditions, trials: [t]))
    }
    let xs = trials.compactMap { plotDouble($0.cells[xColumn]) }
    let x = PlotAxis.fitting(xs, log: plotLogSpaced(xs), label: xColumn)
    let metrics = [("best_val_acc", "Best validation accuracy", "Accuracy", false), ("best_train_acc", "Best training accuracy", "Accuracy", false),
                   ("final_loss", "Final training loss", "Loss", true)]
    var panels: [PlotPanel] = []
    var ranges: [(column: String, y: PlotAxis, flagTop: Bool)] = []
    for (column, title, ylabel, isLoss) in metrics {
        var out: [PlotSeries] = []
        for s in series {
            var points: [(x: Double, y: Double)] = [], flagged: [Double] = []
            for t in s.trials {
                guard let xv = plotDouble(t.cells[xColumn]) else { continue }
                if t.status == .finished, let y = plotDouble(t.cells[column]), y.isFinite { points.append((xv, y)) } else { flagged.append(xv) }
            }
            // the line joins the mean at each x (repeats share an x)
            let line = Dictionary(grouping: points, by: \.x).map { (x: $0.key, y: $0.value.map(\.y).reduce(0, +) / Double($0.value.count)) }.sorted { $0.x < $1.x }
            out.append(PlotSeries(label: s.label, color: s.color, points: points, line: line, markerSize: 3, status: flagged.isEmpty ? "finished" : "some-not-finished",
                                  flagged: flagged, flagEdge: isLoss ? .top : .bottom))
        }
        let ys = out.flatMap { $0.points.map(\.y) }
        let yRange = isLoss ? (plotRobustRange(ys).map { [$0.lo, $0.hi] } ?? ys) : ys
        // room at the flagged edge so the ✕ markers don't sit on real values
        let y = PlotAxis.fitting(yRange, log: false, label: ylabel, pad: 0.08)
        panels.append(PlotPanel(title: "\(title) vs \(plotShortPath(xColumn))", x: x, y: y, series: out))
        ranges.append((column, y, isLoss))
    }
    var legend = series.map { PlotLegendEntry(label: $0.label, color: $0.color, marker: .dot, line: true) }
    if trials.contains(where: { $0.status != .finished }) || panels.contains(where: { $0.series.contains { !$0.flagged.isEmpty } }) {
        legend.append(PlotLegendEntry(label: "diverged / failed", color: plotMutedColor, marker: .hollowCross, line: false))
    }
    if plotHasOffscale(panels) { legend.append(PlotLegendEntry(label: "off scale", color: plotMutedColor, marker: .triangle, line: false)) }
    return SweepPlot(figure: PlotFigure(title: "\(name): sweep over \(plotShortPath(xColumn))", panels: panels, legend: legend),
                     xColumn: xColumn, series: series, x: x, panels: ranges)
}

// MARK: - plots.gp

/// A single-quoted gnuplot string: gnuplot substitutes neither backquotes nor macros
/// inside single quotes and the only special character is the quote itself (doubled).
/// Control characters (a newline would end the command) become spaces. With `enhanced`,
/// the enhanced-text specials are escaped too.
func gpQuote(_ s: String, enhanced: Bool = true) -> String {
    var out = ""
    for c in s.unicodeScalars {
        if c == "'" { out += "''" }
        else if isControl(c) { out += " " }
        else if enhanced, "^_@&~{}\\".unicodeScalars.contains(c) { out += "\\" + String(c) }
        else { out.unicodeScalars.append(c) }
    }
    return "'" + out + "'"
}

func gpNum(_ v: Double) -> String { v.isFinite ? "\(v)" : "NaN" }

func gnuplotScript(_ data: PlotData, name: String, training: TrainingPlot, sweep: SweepPlot?) -> String {
    /// Right edge of the plots, leaving room for the key (about 8 px a character on 1000 px).
    func rmargin(_ f: PlotFigure) -> String {
        let chars = min(f.legend.map(\.label.count).max() ?? 0, PlotFigure.maxLegendChars)
        return "set rmargin at screen " + String(format: "%.2f", f.legend.isEmpty ? 0.96 : max(0.5, 0.96 - Double(chars * 8 + 60) / 1000))
    }
    var s = """
    # gnuplot 5 script drawing the figures of experiment \(gpQuote(name, enhanced: false)) from its CSV files.
    # Written by runner; run it from anywhere:  gnuplot path/to/plots.gp
    # It writes training.png\(sweep == nil ? "" : " and sweep.png") next to itself (SVG if gnuplot has no PNG terminal).

    # The folder of this script, from its path (no shell involved).
    dir = ARG0; i = strlen(dir)
    while (i > 0 && dir[i:i] ne '/') { i = i - 1 }
    dir = (i == 0) ? '.' : (i == 1) ? '/' : dir[1:i-1]
    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
        set terminal pngcairo enhanced size 1000,1200 font 'Sans,10'; ext = '.png'
    } else {
        if (strstrt(GPVAL_TERMINALS, ' png ') > 0) {
            set terminal png enhanced size 1000,1200; ext = '.png'
        } else {
            set terminal svg enhanced size 1000,1200 background '#ffffff'; ext = '.gnuplot.svg'
        }
    }
    set datafile separator ','
    set datafile missing ''
    set key autotitle columnhead
    set key outside right top Left reverse samplen 2 noenhanced
    set lmargin at screen 0.09
    set grid xtics ytics lt 1 lw 1 lc rgb '#dddddd'
    set style data linespoints

    """
    // training.png
    let lossFile = "L = dir.'/loss.csv'", trainFile = "T = dir.'/train_acc.csv'", valFile = "V = dir.'/val_acc.csv'"
    s += "\n# --- training: loss against iteration, train and validation accuracy against epoch\n"
    s += "\(lossFile)\n\(trainFile)\n\(valFile)\n"
    s += "set output dir.'/training'.ext\n\(rmargin(training.figure))\n"
    s += "set multiplot layout 3,1 title \(gpQuote(training.figure.title)) font ',13'\n"
    let panels = training.figure.panels
    let specs: [(file: String, style: String, panel: Int)] = [
        ("L", "with points pt 7 ps 0.35", 0),
        ("T", "with linespoints pt 7 ps 0.5 lw 1.5", 1),
        ("V", "with linespoints pt 7 ps 0.5 lw 1.5", 2),
    ]
    for spec in specs {
        let p = panels[spec.panel]
        s += "\nset title \(gpQuote(p.title))\nset xlabel \(gpQuote(p.x.label))\nset ylabel \(gpQuote(p.y.label))\n"
        s += "set xrange [\(gpNum(p.x.lo)):\(gpNum(p.x.hi))]\nset yrange [\(gpNum(p.y.lo)):\(gpNum(p.y.hi))]\n"
        s += "set xtics \(gpNum(max(PlotAxis.niceStep(p.x.hi - p.x.lo), 1)))\n"   // whole iterations and epochs
        var labels = 0
        for series in p.series {
            for c in series.crosses {
                labels += 1
                let y = min(max(c.y, p.y.lo), p.y.hi)
                s += "set label \(labels) '' at \(gpNum(c.x)),\(gpNum(y)) point pt 2 ps 2 lw 2 lc rgb '\(series.color)' front\n"
            }
        }
        var items: [String] = []
        var titled = Set<String>()
        let groups = data.colorGroups
        for (k, t) in data.trials.enumerated() {
            // columns without a finite value only make gnuplot warn
            guard !p.series[k].points.isEmpty else { continue }
            let col = t.column
            let group = groups[data.colorGroup[k]]
            let title = !(groups.count == 1 && data.arms.isEmpty) && titled.insert(group).inserted ? "title \(gpQuote(group, enhanced: false))" : "notitle"
            let every = spec.panel == 0 && training.lossEvery > 1 ? " every \(training.lossEvery)" : ""
            items.append("\(spec.file) using 1:\(col + 1)\(every) \(spec.style) lc rgb '\(data.color(k))' \(title)")
        }
        if labels > 0 { items.append("NaN with points pt 2 ps 2 lw 2 lc rgb '\(plotMutedColor)' title 'diverged'") }
        s += items.isEmpty ? "plot NaN notitle\n" : "plot " + items.joined(separator: ", \\\n     ") + "\n"
        if labels > 0 { s += "unset label\n" }
    }
    s += "unset multiplot\nset output\n"

    // sweep.png
    if let sweep {
        let cols = data.summaryHeader
        func col(_ name: String) -> Int? { cols.firstIndex(of: name).map { $0 + 1 } }
        guard let xc = col(sweep.xColumn), let st = col("status") else { return s }
        let metricCols = sweep.panels.map { col($0.column) }
        s += "\n# --- sweep: best validation/training accuracy and final loss against \(sweep.xColumn)\n"
        s += "# One table per series: x, then \(sweep.panels.map(\.column).joined(separator: ", ")) of its finished trials;\n"
        s += "# the x of its diverged/failed trials in a second table (drawn as ✕ at the panel's edge).\n"
        s += "S = dir.'/summary.csv'\n"
        for (i, series) in sweep.series.enumerated() {
            let cond = series.conditions.compactMap { c in col(c.column).map { "strcol(\($0)) eq \(gpQuote(c.value, enhanced: false))" } }
            let using = ([xc] + metricCols.map { $0 ?? xc }).map { "\($0)" }.joined(separator: ":")
            s += "set table $s\(i)\nplot S using \(using) with table if (\((cond + ["strcol(\(st)) eq 'finished'"]).joined(separator: " && ")))\n"
            s += "set table $f\(i)\nplot S using \(xc):\(xc) with table if (\((cond + ["strcol(\(st)) ne 'finished'"]).joined(separator: " && ")))\n"
        }
        s += "unset table\n"
        s += "set datafile separator whitespace  # the tables above are whitespace-separated\n"
        s += "set key noautotitle                # and have no header line\n"
        s += "set output dir.'/sweep'.ext\n\(rmargin(sweep.figure))\n"
        s += "set multiplot layout 3,1 title \(gpQuote(sweep.figure.title)) font ',13'\n"
        s += "set xrange [\(gpNum(sweep.x.lo)):\(gpNum(sweep.x.hi))]\nset xlabel \(gpQuote(sweep.xColumn))\n"
        s += "set xtics autofreq\n"
        s += sweep.x.log ? "set logscale x 10\nset format x '10^{%L}'\n" : "unset logscale x\n"
        for (k, panel) in sweep.panels.enumerated() {
            let p = sweep.figure.panels[k]
            let edge = panel.flagTop ? p.y.hi - 0.04 * (p.y.hi - p.y.lo) : p.y.lo + 0.04 * (p.y.hi - p.y.lo)
            s += "\nset title \(gpQuote(p.title))\nset ylabel \(gpQuote(p.y.label))\nset yrange [\(gpNum(p.y.lo)):\(gpNum(p.y.hi))]\n"
            var items: [String] = []
            var anyFlag = false
            for (i, series) in sweep.series.enumerated() {
                let sp = p.series[i]
                if !sp.points.isEmpty {
                    items.append("$s\(i) using 1:\(k + 2) smooth unique with linespoints pt 7 ps 0.7 lw 1.5 lc rgb '\(series.color)' title \(gpQuote(series.label, enhanced: false))")
                    if Set(sp.points.map(\.x)).count < sp.points.count {
                        items.append("$s\(i) using 1:\(k + 2) with points pt 7 ps 0.5 lc rgb '\(series.color)' notitle")
                    }
                }
                if series.trials.contains(where: { $0.status != .finished }) {
                    anyFlag = true
                    items.append("$f\(i) using 1:(\(gpNum(edge))) with points pt 2 ps 1.5 lw 1.5 lc rgb '\(series.color)' notitle")
                }
            }
            if anyFlag { items.append("NaN with points pt 2 ps 1.5 lw 1.5 lc rgb '\(plotMutedColor)' title 'diverged / failed'") }
            s += items.isEmpty ? "plot NaN notitle\n" : "plot " + items.joined(separator: ", \\\n     ") + "\n"
        }
        s += "unset multiplot\nset output\n"
    }
    return s
}
