import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Runner

/// A synthetic results folder written through the results store (plan + one record per
/// trial, then the CSV exports): two arms over five log-spaced weight scales (10 trials,
/// 3 epochs of 4 iterations); the baseline at scale 1 diverges after 5 iterations (then
/// inf, nan), the batchnorm one at scale 1 failed without data, and the baseline at scale
/// 0.1 finished with a huge loss spike and a huge final loss.
private func plotWriteSyntheticResults(name: String = "plot_synthetic") throws -> String {
    let root = NSTemporaryDirectory() + "runner-plots-\(UUID().uuidString.prefix(8))"
    let plan = try Sweep.plan(JSON.parse("""
        {"name": "\(name)", "output": {"dir": "\(root)"}, "data": {"source": "synthetic"},
         "sweep": {"grid": {"model.weight_scale": [0.0001, 0.001, 0.01, 0.1, 1]},
                   "arms": {"baseline": {"model.normalization": "none"}, "batchnorm": {"model.normalization": "batchnorm"}}}}
        """), defaultName: name)
    let folder = try ResultsFolder(plan.directory, create: true)
    try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
    for t in plan.trials {
        let k = t.index
        var loss = (1...12).map { i in 2.3 - 0.05 * Double(i) - 0.01 * Double(k) }
        if k == 6 { loss[3] = 123456.0; loss[11] = 987654.0 }
        if k == 8 { loss = Array(loss.prefix(5)) + [.infinity, .nan] }
        if k == 9 { loss = [] }
        let epochs = (0..<(k == 8 ? 2 : k == 9 ? 0 : 4)).map { e in
            EpochRecord(epoch: e, iteration: 4 * e, trainAccuracy: 0.1 + 0.1 * Double(e) + 0.01 * Double(k),
                        valAccuracy: 0.1 + 0.05 * Double(e) + 0.01 * Double(k), learningRate: 1e-3)
        }
        let record = TrialRecord(index: k, id: t.id, arm: t.arm, parameters: t.parameters,
                                 status: k == 8 ? .diverged : k == 9 ? .failed : .finished, message: k == 9 ? "boom, failed" : "",
                                 seconds: 1, iterationsPerEpoch: 4, losses: loss, epochs: epochs,
                                 bestValAccuracy: epochs.map(\.valAccuracy).max(), bestEpoch: epochs.isEmpty ? nil : 3, testAccuracy: 0.3)
        try folder.write(record, config: nil, files: TrialFiles(folder: t.folderName))
    }
    try writeSweepTables(plan: plan, folder: folder)
    return plan.directory
}

/// One trial, no arms, no swept column; `iterations` loss values.
private func plotWriteSingleTrial(iterations: Int) throws -> String {
    let root = NSTemporaryDirectory() + "runner-plots-\(UUID().uuidString.prefix(8))"
    let plan = try Sweep.plan(JSON.parse(#"{"name": "single", "output": {"dir": "\#(root)"}, "data": {"source": "synthetic"}}"#), defaultName: "single")
    let folder = try ResultsFolder(plan.directory, create: true)
    try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
    let t = plan.trials[0]
    let epochs = zip([0.1, 0.3, 0.5], [0.1, 0.3, 0.4]).enumerated().map { e, acc in
        EpochRecord(epoch: e, iteration: e * iterations / 2, trainAccuracy: acc.0, valAccuracy: acc.1, learningRate: 1e-3)
    }
    let record = TrialRecord(index: 0, id: t.id, arm: nil, parameters: [], status: .finished, seconds: 1,
                             iterationsPerEpoch: iterations / 2, losses: (1...iterations).map { 2.3 * exp(-Double($0) / Double(iterations)) },
                             epochs: epochs, bestValAccuracy: 0.4, bestEpoch: 2, testAccuracy: 0.4)
    try folder.write(record, config: nil, files: TrialFiles(folder: t.folderName))
    try writeSweepTables(plan: plan, folder: folder)
    return plan.directory
}

private struct PlotTestError: Error { var message: String }

/// The colour of the figures' continuous scale at `f` in [0, 1] (viridis stops, see SVG.swift).
private func plotRampColor(_ f: Double) -> String {
    let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (190, 210, 40)]
    let t = f * 4, i = min(Int(t), 3), g = t - Double(i)
    func c(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * g).rounded()) }
    return String(format: "#%02X%02X%02X", c(stops[i].0, stops[i + 1].0), c(stops[i].1, stops[i + 1].1), c(stops[i].2, stops[i + 1].2))
}

private func plotParse(_ path: String) throws -> XMLDocument {
    try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
}

private func plotNodes(_ node: XMLNode, _ xpath: String) throws -> [XMLElement] {
    try node.nodes(forXPath: xpath).compactMap { $0 as? XMLElement }
}

/// (`attribute(forName:)` misses attributes of namespaced elements in swift-corelibs-foundation.)
private func plotAttr(_ e: XMLElement, _ name: String) -> String? { e.attributes?.first { $0.name == name }?.stringValue }

/// Panel with the given title prefix.
private func plotPanel(_ doc: XMLDocument, _ title: String) throws -> XMLElement {
    let panels = try plotNodes(doc, "//*[@class='panel']")
    guard let p = panels.first(where: { plotAttr($0, "data-title")?.hasPrefix(title) == true }) else {
        throw PlotTestError(message: "no panel titled \(title)")
    }
    return p
}

/// data-label → number of markers drawn (dots plus off-scale triangles), and data-points.
private func plotSeries(_ panel: XMLElement) throws -> [String: (drawn: Int, declared: Int, element: XMLElement)] {
    var out: [String: (Int, Int, XMLElement)] = [:]
    for g in try plotNodes(panel, ".//*[@class='series']") {
        var drawn = 0
        for path in try plotNodes(g, "./*[@class='markers' or @class='offscale']") {
            drawn += (plotAttr(path, "d") ?? "").filter { $0 == "M" }.count
        }
        out[plotAttr(g, "data-label") ?? ""] = (drawn, Int(plotAttr(g, "data-points") ?? "") ?? -1, g)
    }
    return out
}

final class PlotTests: XCTestCase {
    /// training.svg: one column of panels per arm, curves coloured by the weight scale on a
    /// log colour bar, training accuracy dashed, the diverged trial crossed and named, no
    /// off-scale markers, the loss axis set by the healthy trials.
    func testPlotTrainingFigure() throws {
        let dir = try plotWriteSyntheticResults()
        let written = try writePlots(resultsDirectory: dir, experimentName: "plot_synthetic")
        XCTAssertEqual(Set(written.map { ($0 as NSString).lastPathComponent }), ["training.svg", "sweep.svg", "plots.gp", "index.html"])
        let doc = try plotParse(dir + "/training.svg")
        let labels = (try String(contentsOfFile: dir + "/loss.csv", encoding: .utf8)).split(separator: "\n")[0].split(separator: ",").dropFirst().map(String.init)
        XCTAssertEqual(labels[3], "t03 batchnorm ws=1e-3")
        let titles = try plotNodes(doc, "//*[@class='panel']").compactMap { plotAttr($0, "data-title") }
        XCTAssertEqual(titles, ["Training loss · baseline", "Training loss · batchnorm", "Training accuracy · baseline", "Training accuracy · batchnorm",
                                "Validation accuracy · baseline", "Validation accuracy · batchnorm"])
        for title in titles {
            let series = try plotSeries(try plotPanel(doc, title))
            let arm = title.hasSuffix("baseline") ? "baseline" : "batchnorm"
            XCTAssertEqual(Set(series.keys), Set(labels.filter { $0.contains(arm) }), title)
        }
        // colour: the weight scale on a log scale, the same in every panel
        let bar = try XCTUnwrap(try plotNodes(doc, "//*[@class='colorbar']").first)
        XCTAssertEqual(plotAttr(bar, "data-label"), "weight_scale")
        XCTAssertEqual(plotAttr(bar, "data-scale"), "log")
        XCTAssertEqual(Double(plotAttr(bar, "data-lo") ?? ""), 1e-4)
        XCTAssertEqual(Double(plotAttr(bar, "data-hi") ?? ""), 1)
        func stroke(_ panel: String, _ label: String) throws -> (color: String?, dash: String?) {
            let line = try plotNodes(try XCTUnwrap(try plotSeries(try plotPanel(doc, panel))[label]).element, "./*[@class='line']").first
            return (line.flatMap { plotAttr($0, "stroke") }, line.flatMap { plotAttr($0, "stroke-dasharray") })
        }
        XCTAssertEqual(try stroke("Validation accuracy · baseline", labels[0]).color, plotRampColor(0))
        XCTAssertEqual(try stroke("Validation accuracy · batchnorm", labels[1]).color, plotRampColor(0))
        XCTAssertEqual(try stroke("Training loss · baseline", labels[4]).color, plotRampColor(0.5))
        XCTAssertEqual(try stroke("Validation accuracy · baseline", labels[8]).color, plotRampColor(1))
        // training accuracy dashed, validation solid
        XCTAssertNotNil(try stroke("Training accuracy · baseline", labels[0]).dash)
        XCTAssertNil(try stroke("Validation accuracy · baseline", labels[0]).dash)
        // the diverged trial ends with a cross in each of its panels and is named in the legend
        for panel in ["Training loss · baseline", "Validation accuracy · baseline"] {
            let diverged = try XCTUnwrap(try plotSeries(try plotPanel(doc, panel))[labels[8]]).element
            XCTAssertEqual(plotAttr(diverged, "data-status"), "diverged")
            XCTAssertEqual(try plotNodes(diverged, "./*[@class='diverged']").count, 1, panel)
        }
        let legend = try plotNodes(doc, "//*[@class='legend-entry']").compactMap { plotAttr($0, "data-label") }
        XCTAssertEqual(legend, ["validation", "training", "diverged:", labels[8]])
        // the 1e5 spikes of a finished trial neither stretch the loss axis nor get markers
        let yTicks = try plotNodes(try plotPanel(doc, "Training loss · baseline"), ".//*[@class='axis y']//*[@class='tick']")
        XCTAssertFalse(yTicks.isEmpty)
        XCTAssertLessThan(yTicks.compactMap { Double(plotAttr($0, "data-value") ?? "") }.max() ?? .infinity, 10)
        XCTAssertEqual(try plotNodes(doc, "//*[@class='offscale']").count, 0)
        let title = try plotNodes(doc, "//*[@class='figure-title']").first?.stringValue ?? ""
        XCTAssertTrue(title.contains("plot_synthetic"))
    }

    /// Repeats are drawn as their mean with a band from their minimum to their maximum.
    func testPlotRepeatsAsMeanAndBand() throws {
        let root = NSTemporaryDirectory() + "runner-plots-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plan = try Sweep.plan(JSON.parse("""
            {"name": "rep", "output": {"dir": "\(root)"}, "data": {"source": "synthetic"},
             "sweep": {"grid": {"model.reg": [0, 0.5]}, "repeats": 3}}
            """), defaultName: "rep")
        let folder = try ResultsFolder(plan.directory, create: true)
        try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
        for t in plan.trials {
            let r = Double(t.repeatIndex ?? 0)
            let epochs = (0...2).map { e in EpochRecord(epoch: e, iteration: 2 * e, trainAccuracy: 0.2 + 0.1 * Double(e) + 0.01 * r,
                                                        valAccuracy: 0.1 + 0.1 * Double(e) + 0.02 * r, learningRate: 1e-3) }
            let record = TrialRecord(index: t.index, id: t.id, arm: nil, parameters: t.parameters, status: .finished, iterationsPerEpoch: 2,
                                     losses: [2, 1.5, 1.2, 1.0].map { $0 + 0.1 * r }, epochs: epochs, bestValAccuracy: 0.3 + 0.02 * r, bestEpoch: 2)
            try folder.write(record, config: nil, files: TrialFiles(folder: t.folderName))
        }
        try writeSweepTables(plan: plan, folder: folder)
        try writePlots(resultsDirectory: plan.directory, experimentName: "rep")
        let doc = try plotParse(plan.directory + "/training.svg")
        let val = try plotPanel(doc, "Validation accuracy")
        let series = try plotSeries(val)
        XCTAssertEqual(Set(series.keys), ["reg=0", "reg=0.5"], "one curve per sweep point")
        let curve = try XCTUnwrap(series["reg=0"]).element
        XCTAssertEqual(try plotNodes(curve, "./*[@class='band']").count, 1)
        let legend = try plotNodes(doc, "//*[@class='legend-entry']").compactMap { plotAttr($0, "data-label") }
        XCTAssertTrue(legend.contains("mean of repeats, band min–max"), "\(legend)")
        XCTAssertEqual(try plotNodes(doc, "//*[@class='colorbar']").first.flatMap { plotAttr($0, "data-label") }, "reg")

        // sweep.svg: one line per arm (the repeats are not separate series), through the mean,
        // with the 95% interval of the mean as a band.
        let sweep = try plotParse(plan.directory + "/sweep.svg")
        let sweepLegend = try plotNodes(sweep, "//*[@class='legend-entry']").compactMap { plotAttr($0, "data-label") }
        XCTAssertEqual(sweepLegend, ["trials", "mean of repeats, band 95% interval"])
        XCTAssertEqual(try plotNodes(sweep, "//*[@class='band']").count, 3, "one band per panel")
        XCTAssertEqual(try plotSeries(try plotPanel(sweep, "Best validation accuracy")).count, 1, "the three repeats are one series")
    }

    func testPlotSweepFigure() throws {
        let dir = try plotWriteSyntheticResults()
        try writePlots(resultsDirectory: dir, experimentName: "plot_synthetic")
        let doc = try plotParse(dir + "/sweep.svg")
        let panels = try plotNodes(doc, "//*[@class='panel']")
        XCTAssertEqual(panels.count, 3)
        for title in ["Best validation accuracy", "Best training accuracy", "Final training loss"] {
            let panel = try plotPanel(doc, title)
            XCTAssertEqual(plotAttr(panel, "data-title"), "\(title) vs weight_scale")
            let series = try plotSeries(panel)
            XCTAssertEqual(Set(series.keys), ["baseline", "batchnorm"], title)
            for arm in ["baseline", "batchnorm"] {
                XCTAssertEqual(series[arm]?.drawn, 4, "\(title) \(arm)")   // 5 scales, one not finished
                let flagged = try plotNodes(series[arm]!.element, "./*[@class='flagged']")
                XCTAssertEqual(flagged.count, 1, "\(title) \(arm)")
                XCTAssertEqual(flagged.first.flatMap { plotAttr($0, "data-points") }, "1")
                XCTAssertEqual(try plotNodes(series[arm]!.element, "./*[@class='line']").count, 1)
            }
            // log x axis with labelled ticks at the powers of ten
            let axis = try plotNodes(panel, ".//*[@class='axis x']")
            XCTAssertEqual(axis.first.flatMap { plotAttr($0, "data-scale") }, "log")
            let ticks = try plotNodes(panel, ".//*[@class='axis x']/*[@class='tick']").compactMap { Double(plotAttr($0, "data-value") ?? "") }
            XCTAssertEqual(ticks.map { log10($0).rounded() }, [-4, -3, -2, -1, 0], title)
            for t in ticks { XCTAssertEqual(log10(t), log10(t).rounded(), accuracy: 1e-12) }
        }
        // the huge final loss of a finished trial does not set the loss axis
        let lossTicks = try plotNodes(try plotPanel(doc, "Final training loss"), ".//*[@class='axis y']/*[@class='tick']")
        XCTAssertLessThan(lossTicks.compactMap { Double(plotAttr($0, "data-value") ?? "") }.max() ?? .infinity, 10)
        let legend = try plotNodes(doc, "//*[@class='legend-entry']").compactMap { plotAttr($0, "data-label") }
        XCTAssertEqual(Array(legend.prefix(3)), ["baseline", "batchnorm", "diverged / failed"])
    }

    func testPlotNoSweepAndThinning() throws {
        let dir = try plotWriteSingleTrial(iterations: 20_000)
        let written = try writePlots(resultsDirectory: dir, experimentName: "single")
        XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent }, ["training.svg", "plots.gp", "index.html"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/sweep.svg"))
        let first = try String(contentsOfFile: dir + "/training.svg", encoding: .utf8)
        let series = try plotSeries(try plotPanel(try plotParse(dir + "/training.svg"), "Training loss"))
        let s = try XCTUnwrap(series["t00"])
        // 20,000 losses drawn as the means of 150 stretches of 134 (the last shorter)
        let line = try XCTUnwrap(try plotNodes(s.element, "./*[@class='line']").first)
        XCTAssertEqual((plotAttr(line, "d") ?? "").filter { $0 == "L" }.count, 149)
        try writePlots(resultsDirectory: dir, experimentName: "single")
        XCTAssertEqual(try String(contentsOfFile: dir + "/training.svg", encoding: .utf8), first, "deterministic output")
    }

    func testPlotEscapesText() throws {
        let dir = try plotWriteSyntheticResults(name: "esc")
        try writePlots(resultsDirectory: dir, experimentName: "a<b> & \"c\" 'd'")
        for file in ["training.svg", "sweep.svg"] {
            let doc = try plotParse(dir + "/" + file)
            XCTAssertTrue((try plotNodes(doc, "//*[@class='figure-title']").first?.stringValue ?? "").hasPrefix("a<b> & \"c\" 'd'"), file)
        }
    }

    func testPlotMissingSummaryThrows() {
        XCTAssertThrowsError(try writePlots(resultsDirectory: NSTemporaryDirectory() + "runner-plots-none-\(UUID().uuidString)", experimentName: "x"))
    }

    func testPlotGnuplotScriptRuns() throws {
        guard let gnuplot = plotFindExecutable("gnuplot") else { throw XCTSkip("gnuplot not installed") }
        let dir = try plotWriteSyntheticResults()
        try writePlots(resultsDirectory: dir, experimentName: "plot_synthetic")
        let parent = (dir as NSString).deletingLastPathComponent
        // from inside the folder, then from its parent (as from the repository root)
        for (cwd, script) in [(dir, "plots.gp"), (parent, "plot_synthetic/plots.gp")] {
            for f in ["training.png", "sweep.png"] { try? FileManager.default.removeItem(atPath: dir + "/" + f) }
            let (status, stderr) = try plotRun(gnuplot, [script], cwd: cwd)
            XCTAssertEqual(status, 0, stderr)
            XCTAssertFalse(stderr.lowercased().contains("error"), stderr)
            for f in ["training.png", "sweep.png"] {
                let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + f)[.size] as? Int) ?? 0
                XCTAssertGreaterThan(size, 1000, "\(f) from \(cwd)")
            }
        }
        let script = try String(contentsOfFile: dir + "/plots.gp", encoding: .utf8)
        XCTAssertTrue(script.contains("set logscale x 10"))
        XCTAssertTrue(script.contains("set datafile separator ','"))
        XCTAssertTrue(script.contains("set multiplot layout 3,1"))
    }
}

private func plotFindExecutable(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

private func plotRun(_ executable: String, _ arguments: [String], cwd: String) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
