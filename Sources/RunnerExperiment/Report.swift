import Foundation

// results/<name>/index.html: one self-contained page (no network, no external script, style
// or font; works from file://) to explore an experiment: its description and config, a
// sortable and filterable table of every trial, the sweep figure, and the training curves
// of every trial, where hovering or clicking a trial (row, curve or point) highlights it
// everywhere and shows its values; a click opens the trial's detail (values, its own
// curves, its config, and the confusion matrix when trials/<folder>/confusion_val.csv exists).
//
// Everything taken from the config and the records is untrusted text. It reaches the page
// in three ways only, each escaped for its context:
//   - HTML text and attribute values: `htmlEscape` (& < > " ');
//   - the data, one JSON document inside <script type="application/json">: `scriptJSON`
//     (additionally escapes < > & U+2028 U+2029 as \uXXXX, so no "</script>" or "<!--"
//     can appear and the text is valid JavaScript as well as JSON);
//   - the sweep figure, an SVG written by `PlotFigure` (which escapes its text), embedded
//     as a base64 data: URL image, so its markup never mixes with the page's.
// The page's own script (`reportScript`) builds every element from the data with
// textContent and setAttribute, never innerHTML.
//
// Size: losses are kept as at most `reportLossPoints` bucket means per trial and numbers
// with 5 significant digits, so a 1,000-trial sweep stays a few megabytes.

/// Loss points per trial on the page (means of consecutive iterations).
let reportLossPoints = 200

/// Escapes text for HTML element content and attribute values (quoted with " or ').
func htmlEscape(_ s: String) -> String { svgEscape(s) }

/// A JSON document safe inside an HTML <script> element: `<`, `>`, `&`, U+2028 and U+2029
/// (which can only occur inside JSON strings) become \uXXXX escapes.
public func scriptJSON(_ j: JSON) -> String {
    var out = ""
    for c in j.compact.unicodeScalars {
        switch c {
        case "<": out += "\\u003c"
        case ">": out += "\\u003e"
        case "&": out += "\\u0026"
        case "\u{2028}": out += "\\u2028"
        case "\u{2029}": out += "\\u2029"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// A number for the page: 5 significant digits; nan and ±inf as null.
func reportNumber(_ v: Double?) -> JSON {
    guard let v, v.isFinite else { return .null }
    return .number(Double(String(format: "%.5g", v)) ?? v)
}

/// At most `limit` points (iteration, mean loss) of `losses`: means of consecutive buckets.
/// Non-finite losses end the curve (a diverged trial's last finite bucket is its end).
func reportLossCurve(_ losses: [Double], limit: Int = reportLossPoints) -> [(Int, Double)] {
    let finite = Array(losses.prefix { $0.isFinite })
    guard !finite.isEmpty else { return [] }
    let size = max(1, Int((Double(finite.count) / Double(limit)).rounded(.up)))
    return stride(from: 0, to: finite.count, by: size).map { start in
        let end = min(start + size, finite.count)
        return (end, finite[start..<end].reduce(0, +) / Double(end - start))
    }
}

/// A confusion matrix read from CSV: an optional header row of class names (the first cell
/// may name the row labels) and rows of counts, optionally led by their class name.
/// Nil when the text holds no numeric row or its rows differ in length.
func reportConfusion(_ text: String) -> JSON? {
    var lines = text.split(whereSeparator: \.isNewline).map { parseCSVLine(String($0)).map { $0.trimmingCharacters(in: .whitespaces) } }
    guard !lines.isEmpty else { return nil }
    func isNumber(_ s: String) -> Bool { Double(s) != nil }
    // a header: any word after its first cell, or an empty or worded first cell over rows of
    // as many numbers as the rows below it
    let first = lines[0]
    let header = first.dropFirst().contains { !isNumber($0) }
        || (!isNumber(first.first ?? "") && lines.count - 1 == first.count - 1 && lines.count > 1)
    var labels: [String] = header ? lines.removeFirst() : []
    var rows: [[Double]] = [], rowLabels: [String] = []
    for var cells in lines {
        if let c = cells.first, !isNumber(c) { rowLabels.append(c); cells.removeFirst() }
        let numbers = cells.compactMap(Double.init)
        guard numbers.count == cells.count, !numbers.isEmpty else { return nil }
        rows.append(numbers)
    }
    guard let n = rows.first?.count, rows.allSatisfy({ $0.count == n }) else { return nil }
    if labels.count == n + 1 { labels.removeFirst() }
    if labels.count != n { labels = rowLabels.count == n ? rowLabels : (0..<n).map(String.init) }
    return .object([("labels", .array(labels.map { .string($0) })), ("m", .array(rows.map { .array($0.map { .number($0) }) }))])
}

/// The page's data: experiment, columns and one entry per trial of the plan (with or
/// without a record).
func reportData(plan: ExperimentPlan, records: [TrialRecord], folder: ResultsFolder, xColumn: String?, xLog: Bool) -> JSON {
    let dirs = TrialDirectories(plan, folder: folder)
    let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let hasArms = plan.trials.contains { $0.arm != nil }
    let columns: [JSON] = plan.sweptPaths.map { p in
        let numeric = plan.trials.allSatisfy { t in
            if case .number = t.parameters.first(where: { $0.path == p })?.value ?? .null { return true }
            return false
        }
        return .object([("path", .string(p)), ("title", .string(plotShortPath(p))), ("numeric", .bool(numeric))])
    }
    var counts: [String: Int] = [:]
    let trials: [JSON] = plan.trials.map { t in
        let files = dirs[t]
        var pairs: [(key: String, value: JSON)] = [
            ("i", .number(Double(t.index))), ("id", .string(t.id)), ("label", .string(t.label)),
            ("dir", .string(files.directory)), ("arm", .string(t.arm ?? "")),
            ("v", .array(plan.sweptPaths.map { p in t.parameters.first { $0.path == p }?.value ?? .null })),
        ]
        guard let r = byID[t.id] else {
            pairs.append(("status", .string("not run")))
            counts["not run", default: 0] += 1
            return .object(pairs)
        }
        counts[r.status.rawValue, default: 0] += 1
        let s = r.summary
        pairs += [
            ("status", .string(r.status.rawValue)), ("msg", .string(r.message)),
            ("bv", reportNumber(s.bestValAcc)), ("bt", reportNumber(s.bestTrainAcc)), ("fv", reportNumber(s.finalValAcc)),
            ("test", reportNumber(s.testAcc)), ("fl", reportNumber(r.losses.isEmpty ? nil : r.finalLoss)),
            ("be", s.bestEpoch.map { .number(Double($0)) } ?? .null), ("ep", .number(Double(s.epochs))),
            ("sec", reportNumber(r.seconds)),
            ("acc", .array(r.epochs.map { .array([.number(Double($0.epoch)), reportNumber($0.trainAccuracy), reportNumber($0.valAccuracy)]) })),
            ("loss", .array(reportLossCurve(r.losses).map { .array([.number(Double($0.0)), reportNumber($0.1)]) })),
        ]
        if let text = folder.read(files.directory + "/confusion_val.csv"), let m = reportConfusion(text) { pairs.append(("cm", m)) }
        return .object(pairs)
    }
    let arms = plan.trials.compactMap(\.arm).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    return .object([
        ("name", .string(plan.name)),
        ("arms", .array(hasArms ? arms.map { .string($0) } : [])),
        ("columns", .array(columns)),
        ("x", .number(Double(xColumn.flatMap { plan.sweptPaths.firstIndex(of: $0) } ?? -1))),
        ("xlog", .bool(xLog)),
        ("counts", .object(["finished", "diverged", "failed", "not run"].compactMap { k in counts[k].map { (k, .number(Double($0))) } })),
        ("trials", .array(trials)),
    ])
}

/// The page: `index.html` of the results folder. `sweepSVG`: the sweep figure, when drawn.
func reportPage(plan: ExperimentPlan, records: [TrialRecord], folder: ResultsFolder, sweepSVG: String?, xColumn: String?, xLog: Bool) -> String {
    let data = reportData(plan: plan, records: records, folder: folder, xColumn: xColumn, xLog: xLog)
    let description = plan.trials.first?.config.description ?? ""
    let finished = records.filter { $0.status == .finished }.count
    var html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(htmlEscape(plan.name)) · runner</title>
    <style>\(reportStyle)</style>
    </head>
    <body>
    <header>
    <h1>\(htmlEscape(plan.name))</h1>
    <p class="sub">\(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") · \(records.count) with results · \(finished) finished<span id="counts"></span></p>

    """
    if !description.isEmpty { html += "<p class=\"description\">\(htmlEscape(description))</p>\n" }
    html += """
    <details><summary>Config</summary><pre class="config">\(htmlEscape(plan.source.serialized()))</pre></details>
    </header>
    <main>
    <section id="trials-section"><h2>Trials</h2>
    <div class="controls"><label>Filter <input id="filter" type="search" placeholder="text in label, arm, status or values" size="34"></label>
    <label>Status <select id="status"><option value="">all</option><option>finished</option><option>diverged</option><option>failed</option><option>not run</option></select></label>
    <span id="shown"></span> <span class="hint">Click a column to sort; hover or click a row, curve or point to highlight a trial.</span></div>
    <div class="table-wrap"><table id="trials"><thead></thead><tbody></tbody></table></div>
    </section>
    <section id="detail" hidden></section>
    <section><h2>Curves</h2><div id="legend"></div><div id="charts" class="charts"></div></section>

    """
    if let sweepSVG {
        html += "<section><h2>Sweep figure</h2><p class=\"hint\">sweep.svg (static; the curves above are interactive)</p><img class=\"figure\" alt=\"sweep figure\" src=\"data:image/svg+xml;base64,\(Data(sweepSVG.utf8).base64EncodedString())\"></section>\n"
    }
    html += """
    <p class="files">Files: <a href="summary.csv">summary.csv</a> · <a href="training.svg">training.svg</a>\(sweepSVG == nil ? "" : " · <a href=\"sweep.svg\">sweep.svg</a>") · <a href="experiment.json">experiment.json</a> · <a href="plots.gp">plots.gp</a></p>
    </main>
    <div id="info" hidden></div>
    <pre id="selftest" hidden></pre>
    <script type="application/json" id="runner-data">\(scriptJSON(data))</script>
    <script>\(reportScript)</script>
    </body>
    </html>

    """
    return html
}
