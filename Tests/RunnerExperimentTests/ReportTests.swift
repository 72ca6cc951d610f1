import XCTest
import Foundation
import Runner

/// A results folder written through the results store, with `points` log-spaced weight scales
/// × two arms (`iterations` losses and `epochs` accuracy checks per trial); every 7th trial
/// diverges, the last one has no record (not run). `extra`: more JSON fields of the config.
func reportSyntheticResults(points: Int, iterations: Int = 60, epochs: Int = 6, extra: String = "", name: String = "report",
                            edit: ((TrialPlan, inout TrialRecord) -> Void)? = nil) throws -> (dir: String, plan: ExperimentPlan) {
    let root = tempDir("report")
    let plan = try Sweep.plan(JSON.parse("""
        {"name": "\(name)", "output": {"dir": "\(root)"}, "data": {"source": "synthetic"}\(extra),
         "sweep": {"grid": {"model.weight_scale": {"logspace": [-4, 0, \(points)]}},
                   "arms": {"baseline": {"model.normalization": "none"}, "batchnorm": {"model.normalization": "batchnorm"}}}}
        """), defaultName: name)
    let folder = try ResultsFolder(plan.directory, create: true)
    try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
    for t in plan.trials.dropLast() {
        let k = Double(t.index), diverged = t.index % 7 == 3
        var losses = (1...iterations).map { i in 2.3 * exp(-Double(i) / Double(iterations) * (1 + k.truncatingRemainder(dividingBy: 5) / 5)) + 0.05 * sin(Double(i * (t.index + 1))) }
        if diverged { losses = Array(losses.prefix(iterations / 2)) + [.infinity, .nan] }
        let checks = diverged ? epochs / 2 : epochs
        let acc = (0...checks).map { e in
            EpochRecord(epoch: e, iteration: e * iterations / epochs, trainAccuracy: min(1, 0.1 + 0.12 * Double(e) * (1 + k.truncatingRemainder(dividingBy: 3) / 10)),
                        valAccuracy: min(1, 0.1 + 0.08 * Double(e) + 0.0003 * k), learningRate: 1e-3)
        }
        var r = TrialRecord(index: t.index, id: t.id, arm: t.arm, parameters: t.parameters, status: diverged ? .diverged : .finished,
                            message: diverged ? "loss is inf at iteration \(iterations / 2 + 1)" : "", seconds: 0.5 + k / 100,
                            iterationsPerEpoch: iterations / epochs, losses: losses, epochs: acc,
                            bestValAccuracy: acc.map(\.valAccuracy).max(), bestEpoch: checks, testAccuracy: diverged ? nil : 0.3)
        edit?(t, &r)
        try folder.write(r, config: t.reproducingConfig, files: TrialFiles(folder: t.folderName))
    }
    try writeSweepTables(plan: plan, folder: folder)
    try writePlots(resultsDirectory: plan.directory, experimentName: plan.name)
    return (plan.directory, plan)
}

/// The JSON data embedded in an index.html.
func reportEmbeddedData(_ html: String) throws -> JSON {
    let open = #"<script type="application/json" id="runner-data">"#
    guard let a = html.range(of: open), let b = html.range(of: "</script>", range: a.upperBound..<html.endIndex) else {
        throw NSError(domain: "report", code: 1, userInfo: [NSLocalizedDescriptionKey: "no embedded data"])
    }
    return try JSON.parse(String(html[a.upperBound..<b.lowerBound]))
}

final class ReportTests: XCTestCase {
    /// The page's data: one entry per trial of the plan (a trial without a record is "not
    /// run"), the swept values, the sweep axis, the curves (losses thinned to bucket means),
    /// and the confusion matrix of a trial folder that has one.
    func testEmbeddedData() throws {
        let (dir, plan) = try reportSyntheticResults(points: 3, iterations: 450)
        try "true\\pred,cat,dog\ncat,5,1\ndog,2,7\n".write(toFile: "\(dir)/trials/\(plan.trials[1].folderName)/confusion_val.csv", atomically: false, encoding: .utf8)
        try writePlots(resultsDirectory: dir, experimentName: plan.name)
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        let data = try reportEmbeddedData(html)
        guard case .array(let trials)? = data["trials"] else { return XCTFail("no trials") }
        XCTAssertEqual(trials.count, plan.trials.count)
        XCTAssertEqual(data["x"], .number(0))
        XCTAssertEqual(data["xlog"], .bool(true))
        XCTAssertEqual(trials[5]["status"], .string("not run"))
        XCTAssertEqual(trials[3]["status"], .string("diverged"))
        XCTAssertEqual(trials[1]["label"], .string(plan.trials[1].label))
        XCTAssertEqual(trials[1]["dir"], .string("trials/" + plan.trials[1].folderName))
        guard case .array(let loss)? = trials[0]["loss"] else { return XCTFail("no loss") }
        XCTAssertEqual(loss.count, 150, "450 losses in buckets of 3")
        XCTAssertEqual(loss.first, .array([.number(3), reportMean(plan: plan, k: 0, upTo: 3)]))
        XCTAssertEqual(trials[1]["cm"], try JSON.parse(#"{"labels": ["cat", "dog"], "m": [[5, 1], [2, 7]]}"#))
        XCTAssertNil(trials[0]["cm"])
        XCTAssertTrue(html.contains("<h1>report</h1>"))
        XCTAssertTrue(html.contains("src=\"data:image/svg+xml;base64,"), "the sweep figure is embedded")
        // self-contained: nothing fetched from elsewhere
        for bad in ["https://", "<link", "<script src", "@import", "url(http", "url(//", "src=\"http", "href=\"http"] {
            XCTAssertFalse(html.contains(bad), bad)
        }
        XCTAssertEqual(html.components(separatedBy: "http://").count - 1, html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1, "only the SVG namespace")
    }

    /// Untrusted text (description, swept strings, messages) is escaped for its context:
    /// HTML text, and JSON inside <script> (no "</script>", "<!--", U+2028/2029 left raw).
    func testHostileTextIsEscaped() throws {
        let evil = "</script><script>console.log(\"injected\")</script><img src=x onerror=console.log(1)>\u{2028}\u{2029}<!--&amp;"
        let description = JSON.string(evil).compact
        let (dir, _) = try reportSyntheticResults(points: 2, extra: #", "description": \#(description)"#, name: "evil") { _, r in r.message = evil }
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2, "only the page's two script elements")
        XCTAssertEqual(html.components(separatedBy: "</script>").count - 1, 2)
        XCTAssertFalse(html.contains("<img src=x"))
        XCTAssertFalse(html.contains("<!--"))
        // inside the script, U+2028/2029 (line terminators for older JavaScript) are escaped too
        let script = try XCTUnwrap(html.range(of: #"<script type="application/json" id="runner-data">"#).map { html[$0.upperBound...] })
        let json = script[..<script.range(of: "</script>")!.lowerBound]
        XCTAssertFalse(json.unicodeScalars.contains("\u{2028}") || json.unicodeScalars.contains("\u{2029}"))
        XCTAssertTrue(json.contains(#"\u2028\u2029\u003c!--\u0026amp;"#))
        XCTAssertTrue(html.contains("&lt;/script&gt;&lt;script&gt;console.log(&quot;injected&quot;)"), "the description as escaped text")
        // the data still carries the exact strings
        let data = try reportEmbeddedData(html)
        guard case .array(let trials)? = data["trials"] else { return XCTFail("no trials") }
        XCTAssertEqual(trials[0]["msg"], .string(evil))
        XCTAssertEqual(scriptJSON(.string("a</script>&\u{2028}")), #""a\u003c/script\u003e\u0026\u2028""#)
    }

    /// Swept config strings become labels (console, figures, page) and folder names: a
    /// hostile value is slugged in the folder name, escaped in the page, and the page still
    /// passes its self-test in Chromium without a console message (when Chromium is there).
    func testHostileSweptValues() throws {
        let root = tempDir("report-hostile")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let values = ["</script><script>console.log('injected')</script>", "x\u{2028}y<!--", "../../$(touch pwned)", "\"><img src=x onerror=console.log(2)>"]
        let plan = try Sweep.plan(JSON.parse("""
            {"name": "hostile", "output": {"dir": "\(root)"}, "data": {"num_train": 100, "num_val": 50, "num_test": 0},
             "sweep": {"grid": {"data.dir": \(JSON.array(values.map { .string($0) }).compact)}}}
            """), defaultName: "hostile")
        let folder = try ResultsFolder(plan.directory, create: true)
        try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
        for t in plan.trials {
            XCTAssertTrue(t.folderName.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".contains(Character($0))) }, t.folderName)
            let epochs = (0...2).map { EpochRecord(epoch: $0, iteration: $0 * 2, trainAccuracy: 0.1 * Double($0 + 1), valAccuracy: 0.1 * Double($0 + t.index), learningRate: 1e-3) }
            let r = TrialRecord(index: t.index, id: t.id, arm: nil, parameters: t.parameters, status: .finished, message: values[t.index], seconds: 1,
                                iterationsPerEpoch: 2, losses: [2, 1.5, 1.2, 1], epochs: epochs, bestValAccuracy: epochs.last!.valAccuracy, bestEpoch: 2)
            try folder.write(r, config: t.reproducingConfig, files: TrialFiles(folder: t.folderName))
        }
        try writeSweepTables(plan: plan, folder: folder)
        try writePlots(resultsDirectory: plan.directory, experimentName: plan.name)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: plan.directory + "/trials").sorted(), plan.trials.map(\.folderName).sorted())
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/pwned"))
        let html = try String(contentsOfFile: plan.directory + "/index.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2)
        XCTAssertFalse(html.contains("<img src=x") || html.contains("<!--"))
        guard case .array(let trials)? = try reportEmbeddedData(html)["trials"] else { return XCTFail("no trials") }
        XCTAssertEqual(trials.map { $0["label"] }, plan.trials.map { .string($0.label) })
        XCTAssertEqual(trials[0]["v"], .array([.string(values[0])]))
        guard let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(reportFindExecutable).first else { return }
        let (dom, log) = try reportChromium(chromium, ["--dump-dom", "file://" + plan.directory + "/index.html#selftest"], profile: root + "/profile")
        XCTAssertTrue(dom.contains("data-result=\"ok\""), reportSelfTestText(dom))
        XCTAssertEqual(log.split(separator: "\n").filter { $0.contains(":CONSOLE") }, [])
    }

    /// The page in a real browser (headless Chromium): no console output at all, one row per
    /// trial, sorting, highlighting, the detail and filtering work (the page's own self-test,
    /// run with #selftest), for a small sweep with hostile text and for 1,000 trials;
    /// screenshots are saved (their paths are printed).
    func testPageInHeadlessChromium() throws {
        guard let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(reportFindExecutable).first else {
            throw XCTSkip("headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it when it can)")
        }
        let shots = tempDir("report-shots")
        let evil = JSON.string("</script><script>console.log(\"injected\")</script>\u{2028}").compact
        let small = try reportSyntheticResults(points: 5, extra: #", "description": \#(evil)"#, name: "small")
        let large = try reportSyntheticResults(points: 500, iterations: 500, epochs: 10, name: "large")
        defer {
            for d in [small.dir, large.dir] { try? FileManager.default.removeItem(atPath: (d as NSString).deletingLastPathComponent) }
        }
        for (dir, plan) in [small, large] {
            let page = dir + "/index.html"
            let size = (try FileManager.default.attributesOfItem(atPath: page)[.size] as? Int) ?? 0
            let started = Date()
            let (dom, log) = try reportChromium(chromium, ["--dump-dom", "file://" + page + "#selftest"], profile: shots + "/profile-" + plan.name)
            let seconds = Date().timeIntervalSince(started)
            XCTAssertTrue(dom.contains("data-result=\"ok\""), "self-test of \(plan.name):\n" + reportSelfTestText(dom))
            XCTAssertTrue(dom.contains("data-rows=\"\(plan.trials.count)\""), "rows of \(plan.name)")
            XCTAssertEqual(dom.components(separatedBy: "<tr data-t=").count - 1, plan.trials.count, "table rows of \(plan.name)")
            let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }
            XCTAssertEqual(console, [], "console output of \(plan.name)")
            let render = dom.range(of: #"data-render-ms="(\d+)""#, options: .regularExpression).map { String(dom[$0]) } ?? "?"
            print("report \(plan.name): \(plan.trials.count) trials, index.html \(size / 1024) KiB, \(render), chromium --dump-dom \(String(format: "%.2f", seconds)) s")
            let shot = shots + "/\(plan.name).png"
            _ = try reportChromium(chromium, ["--screenshot=" + shot, "--window-size=1400,1900", "file://" + page + "#t=\(plan.trials.count / 2)"], profile: shots + "/profile-" + plan.name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: shot), "screenshot \(shot)")
            print("report \(plan.name): screenshot \(shot)")
        }
    }
}

func reportMean(plan: ExperimentPlan, k: Int, upTo n: Int) -> JSON {
    let losses = (1...n).map { i in 2.3 * exp(-Double(i) / 450 * (1 + Double(k).truncatingRemainder(dividingBy: 5) / 5)) + 0.05 * sin(Double(i * (k + 1))) }
    return .number(Double(String(format: "%.5g", losses.reduce(0, +) / Double(n)))!)
}

func reportSelfTestText(_ dom: String) -> String {
    guard let a = dom.range(of: "<pre id=\"selftest\""), let b = dom.range(of: "</pre>", range: a.upperBound..<dom.endIndex) else { return "(no self-test output)\n" + String(dom.suffix(2000)) }
    return String(dom[a.lowerBound..<b.upperBound])
}

func reportFindExecutable(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

/// Runs headless Chromium with `arguments`; returns its stdout and its log (stderr, where
/// console messages appear as lines with ":CONSOLE").
func reportChromium(_ chromium: String, _ arguments: [String], profile: String) throws -> (String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: chromium)
    p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
                   "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--hide-scrollbars"] + arguments
    let out = Pipe()
    let log = profile + ".log"
    FileManager.default.createFile(atPath: log, contents: nil)
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    p.standardOutput = out; p.standardError = err
    try p.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try err.close()
    let stderr = FileManager.default.contents(atPath: log) ?? Data()
    return (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
