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
/// column with at least two values), plots.gp and the results page index.html (see
/// Report.swift). Throws when experiment.json is missing.
@discardableResult
public func writePlots(resultsDirectory: String, experimentName: String) throws -> [String] {
    let (plan, folder, records) = try PlotData.load(directory: resultsDirectory)
    let data = PlotData(directory: resultsDirectory, records: records, sweptPaths: plan.sweptPaths)
    guard !data.trials.isEmpty else { return [] }
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
    try write(reportPage(plan: plan, records: records, folder: folder, sweepSVG: sweep?.figure.svg(), xColumn: sweep?.xColumn, xLog: sweep?.x.log ?? false),
              "index.html")
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

    /// The figures' data from the results folder's records (see `TrialRecord`) and its plan
    /// (`experiment.json`).
    init(directory: String) throws {
        let (plan, _, records) = try PlotData.load(directory: directory)
        self.init(directory: directory, records: records, sweptPaths: plan.sweptPaths)
    }

    /// The plan (`experiment.json`) and records of the results folder `directory`.
    static func load(directory: String) throws -> (ExperimentPlan, ResultsFolder, [TrialRecord]) {
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("experiment.json")) else {
            throw PlotError(description: "no experiment.json in \(directory): not a results folder")
        }
        let plan = try ExperimentPlan.fromResults(directory: directory)
        let folder = try ResultsFolder(directory, create: false)
        return (plan, folder, folder.records(of: plan).records)
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
    }
}

/// Last component of a config path: "model.weight_scale" → "weight_scale".
func plotShortPath(_ p: String) -> String { String(p.split(separator: ".").last ?? Substring(p)) }

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

/// Viridis-like ramp from dark purple (0) to yellow-green (1), darker at the top end than
/// viridis so that every colour reads on white.
let plotRampStops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (190, 210, 40)]

func plotRamp(_ f: Double) -> String {
    let t = min(max(f.isFinite ? f : 0.5, 0), 1) * Double(plotRampStops.count - 1)
    let i = min(Int(t), plotRampStops.count - 2), g = t - Double(i)
    let a = plotRampStops[i], b = plotRampStops[i + 1]
    func c(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * g).rounded()) }
    return String(format: "#%02X%02X%02X", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

/// How the training figure colours its curves: by the swept value that varies within a
/// panel (a continuous scale for a numeric one, else one palette colour per value); a
/// single colour when nothing varies within a panel.
struct TrainingColors {
    var color: [String]                 // per trial (position in `PlotData.trials`)
    var key: [String]                   // per trial: the value it is coloured by ("" for one colour)
    var legend: [PlotLegendEntry] = []  // categorical colours
    var bar: PlotColorBar? = nil        // continuous colours

    init(_ data: PlotData) {
        let trials = data.trials
        let groups = data.arms.isEmpty ? [trials] : data.arms.map { a in trials.filter { $0.arm == a } }
        func values(_ col: String, _ ts: [PlotTrial]) -> Set<String> { Set(ts.map { $0.cells[col] ?? "" }) }
        // columns that vary inside a panel (not the repeat: repeats are averaged)
        let varying = data.swept.filter { c in c != "repeat" && groups.contains { values(c, $0).count > 1 } }
        guard let first = varying.first else {
            color = trials.map { t in plotPalette[max(data.arms.firstIndex(of: t.arm) ?? 0, 0) % plotPalette.count] }
            key = trials.map { _ in "" }
            return
        }
        let numbers = trials.map { plotDouble($0.cells[first]) }
        if varying.count == 1, numbers.allSatisfy({ $0?.isFinite == true }) {
            let xs = numbers.map { $0! }
            let log = plotLogSpaced(xs)
            let f = { (v: Double) in log ? Foundation.log10(v) : v }
            let lo = xs.map(f).min()!, hi = xs.map(f).max()!
            color = xs.map { plotRamp(hi > lo ? (f($0) - lo) / (hi - lo) : 0.5) }
            key = xs.map(plotShortNumber)
            bar = PlotColorBar(label: plotShortPath(first), lo: xs.min()!, hi: xs.max()!, log: log,
                               ticks: Array(Set(xs)).sorted().count <= 6 ? Array(Set(xs)).sorted() : [])
            return
        }
        key = trials.map { t in varying.map { c in "\(plotShortPath(c))=\(plotDouble(t.cells[c]).map(plotShortNumber) ?? (t.cells[c] ?? ""))" }.joined(separator: " ") }
        var order: [String] = []
        for k in key where !order.contains(k) { order.append(k) }
        let many = order.count > plotPalette.count
        func colorOf(_ k: String) -> String {
            let i = order.firstIndex(of: k)!
            return many ? plotRamp(Double(i) / Double(max(order.count - 1, 1))) : plotPalette[i]
        }
        color = key.map(colorOf)
        legend = (many ? [order.first!, order.last!] : order).map { PlotLegendEntry(label: $0, color: colorOf($0), marker: .dot, line: true) }
    }
}

/// One curve of the training figure: a trial, or the mean of the repeats of one sweep point
/// with a band from their minimum to their maximum.
struct TrainingCurve {
    var label: String
    var color: String
    var arm: String
    var members: [Int]      // positions in `PlotData.trials`
    var diverged: [Int]     // members that diverged
}

struct TrainingPlot {
    var figure: PlotFigure
    var lossRange: PlotAxis
    var trainRange: PlotAxis
    var valRange: PlotAxis
    var colors: TrainingColors
    /// Loss points per trial in plots.gp (every n-th iteration).
    var lossEvery: Int
}

/// Loss points per curve: means of consecutive iterations.
let trainingLossPoints = 150

/// The mean of `series` at each x, with the minimum and maximum (a band when there are several).
func plotMeanBand(_ series: [[(x: Double, y: Double)]]) -> (mean: [(x: Double, y: Double)], band: [(x: Double, lo: Double, hi: Double)]) {
    var byX: [Double: [Double]] = [:]
    for s in series { for p in s where p.y.isFinite { byX[p.x, default: []].append(p.y) } }
    let xs = byX.keys.sorted()
    let mean = xs.map { x in (x: x, y: byX[x]!.reduce(0, +) / Double(byX[x]!.count)) }
    let band = series.count > 1 ? xs.map { x in (x: x, lo: byX[x]!.min()!, hi: byX[x]!.max()!) } : []
    return (mean, band)
}

/// training.svg: loss, training accuracy (dashed) and validation accuracy (solid) against
/// time, one column of panels per arm (small multiples, shared axes), each curve coloured by
/// the swept value; repeats of a sweep point drawn as their mean with a min–max band;
/// diverged trials end in ✕ and are named in the legend. Axes fit the healthy trials and
/// lines leave the panel at its edge, so no marker stands for a value off the scale.
func trainingFigure(_ data: PlotData, name: String) -> TrainingPlot {
    let trials = data.trials
    let colors = TrainingColors(data)
    let arms = data.arms.isEmpty ? [""] : data.arms
    // curves: trials, or groups of repeats (same arm and swept values but the repeat)
    var curves: [TrainingCurve] = []
    var index: [String: Int] = [:]
    let repeated = data.swept.contains("repeat")
    for (k, t) in trials.enumerated() {
        let point = t.arm + "|" + data.swept.filter { $0 != "repeat" }.map { t.cells[$0] ?? "" }.joined(separator: "|")
        let label = repeated ? (t.label.split(separator: " ").filter { !($0.first == "r" && Int($0.dropFirst()) != nil) }.dropFirst().joined(separator: " ")) : t.label
        if repeated, let i = index[point] { curves[i].members.append(k); if t.diverged { curves[i].diverged.append(k) }; continue }
        index[point] = curves.count
        curves.append(TrainingCurve(label: label.isEmpty ? t.label : label, color: colors.color[k], arm: t.arm, members: [k], diverged: t.diverged ? [k] : []))
    }
    let lossCurves = trials.map { t in reportLossCurve(t.loss.map(\.y), limit: trainingLossPoints).map { (x: Double($0.0), y: $0.1) } }
    // axes shared by the panels of a row
    var healthy: [Double] = [], firstLosses: [Double] = []
    for (k, t) in trials.enumerated() where !t.diverged {
        healthy += lossCurves[k].map(\.y)
        if let f = lossCurves[k].first { firstLosses.append(f.y) }
    }
    if healthy.isEmpty { healthy = lossCurves.flatMap { $0.map(\.y) } }
    let medianFirst = firstLosses.sorted().dropFirst(firstLosses.count / 2).first
    let lossY = plotRobustRange(healthy, floorHigh: medianFirst.map { $0 * 1.2 }) ?? (0, 1)
    let iterations = lossCurves.flatMap { $0.map(\.x) }
    let lossX = PlotAxis.fitting(iterations.isEmpty ? [0, 1] : iterations, log: false, label: "Iteration", integer: true)
    let lossAxis = PlotAxis.fitting([lossY.lo, lossY.hi], log: false, label: "Loss")
    let accs = trials.flatMap { $0.trainAcc.map(\.y) + $0.valAcc.map(\.y) }.filter(\.isFinite)
    let accAxis = PlotAxis.fitting(accs.isEmpty ? [0, 1] : accs, log: false, label: "Accuracy")
    let epochs = trials.flatMap { $0.trainAcc.map(\.x) }
    let epochX = PlotAxis.fitting(epochs.isEmpty ? [0, 1] : epochs, log: false, label: "Epoch", integer: true)
    // markers at each accuracy check while they can be told apart (few epochs, few curves a panel)
    let markers = (epochs.max() ?? 0) <= 30 && arms.allSatisfy { a in curves.filter { $0.arm == a }.count <= 40 }

    func series(_ c: TrainingCurve, _ history: (Int) -> [(x: Double, y: Double)], dash: String?, markers: Bool) -> PlotSeries {
        let runs = c.members.map(history)
        let (mean, band) = plotMeanBand(runs)
        var s = PlotSeries(label: c.label, color: c.color, points: markers ? mean : [], line: mean, markerSize: 2,
                           status: c.diverged.isEmpty ? "finished" : "diverged")
        s.dash = dash
        s.band = band
        s.crosses = c.diverged.compactMap { history($0).last(where: { $0.y.isFinite }) }
        return s
    }
    var panels: [PlotPanel] = []
    let rows: [(String, PlotAxis, PlotAxis, (Int) -> [(x: Double, y: Double)], String?, Bool)] = [
        ("Training loss", lossX, lossAxis, { lossCurves[$0] }, nil, false),
        ("Training accuracy", epochX, accAxis, { trials[$0].trainAcc }, "5 3", markers),
        ("Validation accuracy", epochX, accAxis, { trials[$0].valAcc }, nil, markers),
    ]
    for (title, x, y, history, dash, marks) in rows {
        for arm in arms {
            let mine = curves.filter { $0.arm == arm }
            panels.append(PlotPanel(title: arm.isEmpty ? title : "\(title) · \(arm)", x: x, y: y,
                                    series: mine.map { series($0, history, dash: dash, markers: marks) }))
        }
    }
    var legend = colors.legend
    legend.append(PlotLegendEntry(label: "validation", color: plotMutedColor, marker: .none, line: true))
    legend.append(PlotLegendEntry(label: "training", color: plotMutedColor, marker: .none, line: true, dash: "5 3"))
    if repeated { legend.append(PlotLegendEntry(label: "mean of repeats, band min–max", color: plotMutedColor, marker: .band, line: true)) }
    let diverged = trials.filter(\.diverged).map(\.label)
    if !diverged.isEmpty {
        legend.append(PlotLegendEntry(label: "diverged:", color: plotMutedColor, marker: .cross, line: false))
        for l in diverged.prefix(12) { legend.append(PlotLegendEntry(label: l, color: plotMutedColor, marker: .none, line: false)) }
        if diverged.count > 12 { legend.append(PlotLegendEntry(label: "and \(diverged.count - 12) more", color: plotMutedColor, marker: .none, line: false)) }
    }
    var figure = PlotFigure(title: "\(name): training", panels: panels, legend: legend)
    figure.columns = arms.count
    figure.colorBar = colors.bar
    if arms.count > 1 { figure.plotWidth = max(300, 620 - 110 * Double(arms.count - 1)) }
    let maxLen = trials.map(\.loss.count).max() ?? 0
    let budget = plotLossBudget(trials: trials.count)
    return TrainingPlot(figure: figure, lossRange: lossAxis, trainRange: accAxis, valRange: accAxis, colors: colors,
                        lossEvery: maxLen > budget ? Int((Double(maxLen) / Double(budget)).rounded(.up)) : 1)
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
    guard let xColumn = numeric.first(where: { $0 != "repeat" && !byArm($0) && values($0, trials).subtracting([""]).count >= 2 }) else { return nil }
    // Repeats of a point are one series: its line is their mean, its band their 95% interval.
    let others = data.swept.filter { c in c != xColumn && c != "repeat" && groups.contains { values(c, $0).count > 1 } }

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
                // stopped (by the sweep's scheduler) trials are results too, at the epoch they reached
                if t.status == .finished || t.status == .stopped, let y = plotDouble(t.cells[column]), y.isFinite { points.append((xv, y)) } else { flagged.append(xv) }
            }
            // The line joins the mean at each x (repeats share an x); with repeats, the band is
            // the 95% Student-t interval of the mean (see `IntervalEstimate`).
            let byX = Dictionary(grouping: points, by: \.x).map { (x: $0.key, estimate: IntervalEstimate($0.value.map(\.y))) }.sorted { $0.x < $1.x }
            let line = byX.map { (x: $0.x, y: $0.estimate.mean!) }
            var series = PlotSeries(label: s.label, color: s.color, points: points, line: line, markerSize: 3, status: flagged.isEmpty ? "finished" : "some-not-finished",
                                    flagged: flagged, flagEdge: isLoss ? .top : .bottom)
            if byX.contains(where: { $0.estimate.n > 1 }) {
                series.band = byX.map { e in (x: e.x, lo: e.estimate.low ?? e.estimate.mean!, hi: e.estimate.high ?? e.estimate.mean!) }
            }
            out.append(series)
        }
        let ys = out.flatMap { $0.points.map(\.y) }
        let yRange = isLoss ? (plotRobustRange(ys).map { [$0.lo, $0.hi] } ?? ys) : ys
        // room at the flagged edge so the ✕ markers don't sit on real values
        let y = PlotAxis.fitting(yRange, log: false, label: ylabel, pad: 0.08)
        // An interval of few repeats can be wide: the band is cut at the panel's edges.
        for k in out.indices { out[k].band = out[k].band.map { (x: $0.x, lo: min(max($0.lo, y.lo), y.hi), hi: min(max($0.hi, y.lo), y.hi)) } }
        panels.append(PlotPanel(title: "\(title) vs \(plotShortPath(xColumn))", x: x, y: y, series: out))
        ranges.append((column, y, isLoss))
    }
    var legend = series.map { PlotLegendEntry(label: $0.label, color: $0.color, marker: .dot, line: true) }
    if panels.contains(where: { $0.series.contains { !$0.band.isEmpty } }) {
        legend.append(PlotLegendEntry(label: "mean of repeats, band 95% interval", color: plotMutedColor, marker: .band, line: true))
    }
    if trials.contains(where: { $0.status != .finished && $0.status != .stopped }) || panels.contains(where: { $0.series.contains { !$0.flagged.isEmpty } }) {
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
    let specs: [(file: String, style: String)] = [
        ("L", "with lines lw 1"),
        ("T", "with linespoints pt 7 ps 0.5 lw 1.5 dt 2"),
        ("V", "with linespoints pt 7 ps 0.5 lw 1.5"),
    ]
    let colors = training.colors
    for (row, spec) in specs.enumerated() {
        let p = panels[row * max(data.arms.count, 1)]
        let title = ["Training loss", "Training accuracy", "Validation accuracy"][row]
        s += "\nset title \(gpQuote(title))\nset xlabel \(gpQuote(p.x.label))\nset ylabel \(gpQuote(p.y.label))\n"
        s += "set xrange [\(gpNum(p.x.lo)):\(gpNum(p.x.hi))]\nset yrange [\(gpNum(p.y.lo)):\(gpNum(p.y.hi))]\n"
        s += "set xtics \(gpNum(max(PlotAxis.niceStep(p.x.hi - p.x.lo), 1)))\n"   // whole iterations and epochs
        let history: (PlotTrial) -> [(x: Double, y: Double)] = [{ $0.loss }, { $0.trainAcc }, { $0.valAcc }][row]
        var labels = 0
        for (k, t) in data.trials.enumerated() where t.diverged {
            guard let c = history(t).last(where: { $0.y.isFinite }) else { continue }
            labels += 1
            let y = min(max(c.y, p.y.lo), p.y.hi)
            s += "set label \(labels) '' at \(gpNum(c.x)),\(gpNum(y)) point pt 2 ps 2 lw 2 lc rgb '\(colors.color[k])' front\n"
        }
        // keys: each categorical colour once; a continuous scale by its two ends
        let keys = colors.bar == nil ? Set(colors.key) : Set([colors.key.first, colors.key.last].compactMap { $0 })
        var titled = Set<String>()
        var items: [String] = []
        for (k, t) in data.trials.enumerated() {
            // columns without a finite value only make gnuplot warn
            guard history(t).contains(where: { $0.y.isFinite }) else { continue }
            let key = colors.key[k]
            let named = !key.isEmpty && keys.contains(key) && titled.insert(key).inserted
            let title = named ? "title \(gpQuote(colors.bar.map { "\($0.label)=\(key)" } ?? key, enhanced: false))" : "notitle"
            let every = row == 0 && training.lossEvery > 1 ? " every \(training.lossEvery)" : ""
            items.append("\(spec.file) using 1:\(t.column + 1)\(every) \(spec.style) lc rgb '\(colors.color[k])' \(title)")
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
