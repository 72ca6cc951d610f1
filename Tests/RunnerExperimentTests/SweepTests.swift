import XCTest
import Foundation
import Runner

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func tempDir(_ tag: String) -> String {
    let d = NSTemporaryDirectory() + "runner-\(tag)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

final class SweepTests: XCTestCase {
    func plan(_ text: String) throws -> ExperimentPlan { try Sweep.plan(try JSON.parse(text), defaultName: "x") }

    /// Same values as numpy.logspace(-4, 0, 20) (printed with repr by numpy 2.x).
    func testLogspaceMatchesNumpy() throws {
        let p = try plan(#"{"sweep": {"grid": {"model.weight_scale": {"logspace": [-4, 0, 20]}}}}"#)
        let values = p.trials.map { t -> Double in if case .number(let x) = t.parameters[0].value { return x }; return .nan }
        let numpy: [Double] = [0.0001, 0.00016237767391887208, 0.00026366508987303583, 0.00042813323987193956,
                               0.0006951927961775605, 0.0011288378916846883, 0.0018329807108324356, 0.002976351441631319,
                               0.004832930238571752, 0.007847599703514606, 0.012742749857031334, 0.0206913808111479,
                               0.03359818286283781, 0.05455594781168514, 0.08858667904100823, 0.14384498882876628,
                               0.23357214690901212, 0.3792690190732246, 0.615848211066026, 1.0]
        XCTAssertEqual(values.count, 20)
        for (a, b) in zip(values, numpy) { XCTAssertEqual(a, b, accuracy: b * 1e-15) }
        XCTAssertEqual(Sweep.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1])
    }

    /// Documented order: grid axes (first slowest), zip groups, repeats, arms innermost.
    func testExpansionOrderAndColumns() throws {
        let p = try plan("""
        {"sweep": {"grid": {"training.batch_size": [5, 10], "model.reg": {"linspace": [0, 1, 3]}},
                   "zip": {"optimizer.type": ["sgd", "adam"], "optimizer.learning_rate": [0.1, 0.001]},
                   "arms": {"a": {"model.normalization": "none"}, "b": {"model.normalization": "batchnorm"}}}}
        """)
        XCTAssertEqual(p.trials.count, 2 * 3 * 2 * 2)
        XCTAssertEqual(p.sweptPaths, ["training.batch_size", "model.reg", "optimizer.type", "optimizer.learning_rate", "model.normalization"])
        func row(_ i: Int) -> String { p.trials[i].parameters.map { $0.value.compact }.joined(separator: ",") + "|" + (p.trials[i].arm ?? "") }
        XCTAssertEqual(row(0), #"5,0,"sgd",0.1,"none"|a"#)
        XCTAssertEqual(row(1), #"5,0,"sgd",0.1,"batchnorm"|b"#)
        XCTAssertEqual(row(2), #"5,0,"adam",0.001,"none"|a"#)
        XCTAssertEqual(row(4), #"5,0.5,"sgd",0.1,"none"|a"#)
        XCTAssertEqual(row(12), #"10,0,"sgd",0.1,"none"|a"#)
        XCTAssertEqual(p.trials[23].config.training.batchSize, 10)
        XCTAssertEqual(p.trials[23].config.optimizer.kind, .adam)
        // Arms at one point share the seed; different points do not.
        XCTAssertEqual(p.trials[0].seed, p.trials[1].seed)
        XCTAssertNotEqual(p.trials[0].seed, p.trials[2].seed)
        XCTAssertEqual(Set(p.trials.map(\.id)).count, p.trials.count)
    }

    /// The samplers' distributions, by Pearson's chi-square over 10 equal bins of 4,000 draws
    /// each (df 9; the 0.1% critical value is 27.88, so a correct sampler fails once in a
    /// thousand seeds and this seed is fixed): uniform, log-uniform in log space, int_uniform
    /// over its integers, choice over its values.
    func testRandomSamplerDistributions() throws {
        let n = 4000
        let p = try plan(#"{"data": {"source": "synthetic"}, "sweep": {"random": {"samples": \#(n), "space": {"#
                         + #""optimizer.learning_rate": {"loguniform": [1e-5, 1e-1]}, "model.dropout": {"uniform": [0.1, 0.6]}, "#
                         + #""training.batch_size": {"int_uniform": [11, 20]}, "model.init": {"choice": ["weight_scale", "kaiming"]}}}}}"#)
        XCTAssertEqual(p.trials.count, n)
        func values(_ path: String) -> [JSON] { p.trials.map { $0.parameters.first { $0.path == path }!.value } }
        func numbers(_ path: String) -> [Double] { values(path).map { if case .number(let x) = $0 { return x }; return .nan } }
        func chiSquare(_ counts: [Int]) -> Double {
            let expected = Double(counts.reduce(0, +)) / Double(counts.count)
            return counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        }
        func bins(_ xs: [Double], _ lo: Double, _ hi: Double) -> [Int] {
            var c = [Int](repeating: 0, count: 10)
            for x in xs {
                XCTAssertTrue(x >= lo && x < hi, "\(x) outside [\(lo), \(hi))")
                c[min(9, Int((x - lo) / (hi - lo) * 10))] += 1
            }
            return c
        }
        let logLR = numbers("optimizer.learning_rate").map { log10($0) }
        let lr = bins(logLR, -5, -1), dropout = bins(numbers("model.dropout"), 0.1, 0.6)
        var batch = [Int](repeating: 0, count: 10)
        for b in numbers("training.batch_size") {
            XCTAssertTrue(b == b.rounded() && b >= 11 && b <= 20, "\(b)")
            batch[Int(b) - 11] += 1
        }
        let kaiming = values("model.init").filter { $0 == .string("kaiming") }.count
        for (name, counts) in [("loguniform (log10)", lr), ("uniform", dropout), ("int_uniform", batch)] {
            XCTAssertLessThan(chiSquare(counts), 27.88, "\(name): \(counts)")
        }
        XCTAssertLessThan(chiSquare([kaiming, n - kaiming]), 10.83, "choice: \(kaiming) of \(n)")   // df 1, 0.1%
        // Not uniform in the value itself: three of its four decades fit in the first tenth of the range.
        XCTAssertGreaterThan(chiSquare(bins(numbers("optimizer.learning_rate"), 1e-5, 1e-1)), 1000)
    }

    /// Random search: samples drawn from the experiment seed, the same on every plan; raising
    /// the sample count keeps the first samples (and their trial ids); combines with arms.
    func testRandomSearch() throws {
        func random(_ n: Int, seed: Int = 0) throws -> ExperimentPlan {
            try plan(#"{"seed": \#(seed), "data": {"source": "synthetic"}, "sweep": {"random": {"samples": \#(n), "space": {"#
                     + #""optimizer.learning_rate": {"loguniform": [1e-5, 1e-2]}, "model.dropout": {"uniform": [0, 0.7]}, "#
                     + #""model.hidden_dims": {"choice": [[100], [200, 200]]}, "training.batch_size": {"int_uniform": [25, 200]}}}, "#
                     + #""arms": {"sgd": {"optimizer.type": "sgd"}, "adam": {"optimizer.type": "adam"}}}}"#)
        }
        let a = try random(6), b = try random(6), c = try random(12), other = try random(6, seed: 1)
        XCTAssertEqual(a.trials.count, 12)
        XCTAssertEqual(a.trials.map(\.id), b.trials.map(\.id), "the same list on every plan")
        XCTAssertEqual(Array(c.trials.map(\.id).prefix(12)), a.trials.map(\.id), "more samples keep the first ones")
        XCTAssertNotEqual(other.trials.map(\.id), a.trials.map(\.id), "the experiment seed draws other samples")
        XCTAssertEqual(a.sweptPaths, ["optimizer.learning_rate", "model.dropout", "model.hidden_dims", "training.batch_size", "optimizer.type"])
        for t in c.trials {
            let r = t.config.resolved
            guard case .number(let lr)? = lookup(r, "optimizer.learning_rate"), case .number(let p)? = lookup(r, "model.dropout"),
                  case .number(let batch)? = lookup(r, "training.batch_size") else { return XCTFail("missing values") }
            XCTAssertTrue(lr >= 1e-5 && lr <= 1e-2 && p >= 0 && p < 0.7 && batch >= 25 && batch <= 200 && batch == batch.rounded(), "\(lr) \(p) \(batch)")
            XCTAssertTrue([JSON.array([.number(100)]), .array([.number(200), .number(200)])].contains(lookup(r, "model.hidden_dims")!))
        }
        XCTAssertEqual(Set(c.trials.map { lookup($0.config.resolved, "model.hidden_dims")!.compact }).count, 2, "12 samples use both choices")
        // The arms of one sample share its values (and its seed).
        XCTAssertEqual(a.trials[0].parameters.prefix(4).map(\.value), a.trials[1].parameters.prefix(4).map(\.value))
        XCTAssertEqual(a.trials[0].seed, a.trials[1].seed)

        func message(_ sweep: String) -> String {
            do { _ = try plan(#"{"sweep": "# + sweep + "}"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(#"{"random": {"samples": 3, "space": {"model.reg": {"loguniforn": [1, 2]}}}}"#),
                       #"sweep.random.space.model.reg: unknown key "loguniforn" (did you mean "loguniform"?)"#)
        XCTAssertEqual(message(#"{"random": {"samples": 3, "space": {"model.reg": {"loguniform": [0, 2]}}}}"#),
                       "sweep.random.space.model.reg.loguniform: needs a positive low end, got 0")
        XCTAssertEqual(message(#"{"grid": {"model.reg": [0, 1]}, "random": {"samples": 3, "space": {"model.reg": {"uniform": [0, 2]}}}}"#),
                       #"sweep.random.space: "model.reg" is also swept in sweep.grid; sweep each path in one place only"#)
        XCTAssertEqual(message(#"{"random": {"samples": 0, "space": {"model.reg": {"uniform": [0, 2]}}}}"#),
                       "sweep.random.samples: expected a positive integer (at most 100000), found an integer")
    }

    /// Sweep and arm paths into the layer list (`model.layers[i].field`), validated against
    /// the layer at that index.
    func testPathsIntoLayerLists() throws {
        let layers = #""model": {"type": "layers", "layers": [{"type": "conv", "filters": 4, "size": 3}, {"type": "relu"}, {"type": "maxpool"}, {"type": "dropout", "p": 0.1}, {"type": "affine", "units": 10}]}"#
        let p = try plan(#"{"data": {"source": "synthetic"}, "# + layers + #", "sweep": {"grid": {"model.layers[0].filters": [4, 8]}, "arms": {"drop": {"model.layers[3].p": 0.5}, "keep": {"model.layers[3].p": 0}}}}"#)
        XCTAssertEqual(p.trials.count, 4)
        XCTAssertEqual(p.sweptPaths, ["model.layers[0].filters", "model.layers[3].p"])
        for t in p.trials {
            let filters = lookup(t.config.resolved, "model.layers[0].filters"), drop = lookup(t.config.resolved, "model.layers[3].p")
            XCTAssertEqual(t.parameters.map(\.value), [filters!, drop!])
        }
        XCTAssertEqual(p.trials.map { lookup($0.config.resolved, "model.layers[0].filters") }, [.number(4), .number(4), .number(8), .number(8)])
        XCTAssertEqual(p.trials.map { lookup($0.config.resolved, "model.layers[3].p") }, [.number(0.5), .number(0), .number(0.5), .number(0)])
        XCTAssertEqual(Set(p.trials.map(\.id)).count, 4)

        func message(_ sweep: String) -> String {
            do { _ = try plan(#"{"data": {"source": "synthetic"}, "# + layers + #", "sweep": "# + sweep + "}"); return "no error" }
            catch { return "\(error)" }
        }
        XCTAssertEqual(message(#"{"grid": {"model.layers[7].filters": [4]}}"#), #"sweep.grid: "model.layers[7].filters": model.layers has 5 layers (indices 0–4)"#)
        XCTAssertEqual(message(#"{"grid": {"model.layers[0].filter": [4]}}"#),
                       #"sweep.grid: "model.layers[0].filter": model.layers[0] is a conv, which has "filters", "size", "height", "width", "stride", "pad" (did you mean "filters"?)"#)
        XCTAssertEqual(message(#"{"grid": {"model.layers[1].p": [0.1]}}"#), #"sweep.grid: "model.layers[1].p": model.layers[1] is a relu, which has no fields"#)
        XCTAssertEqual(message(#"{"grid": {"model.layers[0].type": ["affine"]}}"#),
                       #"sweep.grid: "model.layers[0].type" cannot be swept (a layer's type decides its fields); sweep model.layers instead"#)
        XCTAssertEqual(message(#"{"grid": {"model.layers[0].filters": [0]}}"#), "sweep trial 0: model.layers[0].filters: must be positive integer, got 0")
        XCTAssertEqual(message(#"{"grid": {"model.layers[x].filters": [4]}}"#),
                       #"sweep.grid: "model.layers[x].filters" is not a path this config has; list indices go only in "model.layers[i].field""#)
        XCTAssertEqual(try? plan(#"{"sweep": {"grid": {"model.layers[0].units": [4]}}}"#).trials.count, nil, "needs model.type layers")
    }

    /// Ids depend on the resolved config only: stable across runs, unchanged by
    /// cosmetic edits (name, description), changed by any numeric setting.
    func testStableIDs() throws {
        let a = try plan(#"{"name": "one", "model": {"weight_scale": 0.01}}"#).trials[0].id
        let b = try plan(#"{"name": "two", "description": "x", "model": {"weight_scale": 1e-2, "type": "fc"}}"#).trials[0].id
        let c = try plan(#"{"model": {"weight_scale": 0.02}}"#).trials[0].id
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.count, 10)
        // Changed once, on purpose, in 0.3: ids now hash the canonical identity (defaults
        // and the spelling of the data folder left out), so new schema fields keep every id.
        XCTAssertEqual(a, "905d7fd902", "trial ids must not change between versions without a reason")
    }

    func testRepeatsGetDifferentSeeds() throws {
        let p = try plan(#"{"sweep": {"repeats": 3}}"#)
        XCTAssertEqual(p.trials.count, 3)
        XCTAssertEqual(Set(p.trials.map(\.seed)).count, 3)
        // The repeat is a column of summary.csv, so repeated trials can be told apart.
        XCTAssertEqual(p.sweptPaths, ["repeat"])
        XCTAssertEqual(p.trials.map { $0.parameters.map(\.value.compact) }, [["0"], ["1"], ["2"]])
    }
}

/// Runs of a small real sweep through the library: parallelism does not change results.
final class SchedulerTests: XCTestCase {
    static let config = """
    {"name": "tiny_sweep", "seed": 3,
     "data": {"dir": "\(repoRoot)/data/cifar10-sample", "num_train": 200, "num_val": 1000, "num_test": 100},
     "model": {"type": "fc", "hidden_dims": [20, 20], "dropout": 0.1},
     "optimizer": {"type": "adam"}, "training": {"num_epochs": 2, "batch_size": 25},
     "sweep": {"grid": {"model.weight_scale": {"logspace": [-3, -1, 3]}},
               "arms": {"baseline": {"model.normalization": "none"}, "batchnorm": {"model.normalization": "batchnorm"}}}}
    """

    func runSweep(jobs: Int, output: String) throws -> ExperimentPlan {
        var json = try JSON.parse(Self.config)
        json = json.setting(path: ["output", "dir"], to: .string(output))
        let p = try Sweep.plan(json, defaultName: "tiny")
        let report = try runExperiment(p, options: RunOptions(jobs: jobs), cache: DataCache()) { _ in }
        XCTAssertEqual(report.ran.count, 6)
        XCTAssertTrue(report.failed.isEmpty)
        return p
    }

    func testJobsDoNotChangeHistories() throws {
        let d1 = tempDir("jobs1"), d2 = tempDir("jobs2")
        defer { try? FileManager.default.removeItem(atPath: d1); try? FileManager.default.removeItem(atPath: d2) }
        let p = try runSweep(jobs: 1, output: d1)
        _ = try runSweep(jobs: 2, output: d2)
        for t in p.trials {
            for f in ["loss.csv", "accuracy.csv"] {
                let a = try String(contentsOfFile: "\(d1)/tiny_sweep/trials/\(t.folderName)/\(f)", encoding: .utf8)
                let b = try String(contentsOfFile: "\(d2)/tiny_sweep/trials/\(t.folderName)/\(f)", encoding: .utf8)
                XCTAssertEqual(a, b, "trial \(t.index) \(f) differs between --jobs 1 and --jobs 2")
            }
        }
        for f in ["val_acc.csv", "train_acc.csv", "loss.csv"] {
            XCTAssertEqual(try String(contentsOfFile: "\(d1)/tiny_sweep/\(f)", encoding: .utf8),
                           try String(contentsOfFile: "\(d2)/tiny_sweep/\(f)", encoding: .utf8))
        }
        let summary = try String(contentsOfFile: "\(d1)/tiny_sweep/summary.csv", encoding: .utf8)
        let lines = summary.split(separator: "\n")
        XCTAssertEqual(lines.count, 7)
        XCTAssertTrue(lines[0].hasPrefix("index,id,arm,model.weight_scale,model.normalization,status,final_train_acc"))
        let valWide = try String(contentsOfFile: "\(d1)/tiny_sweep/val_acc.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(valWide.count, 4)   // header + epochs 0, 1, 2
        XCTAssertEqual(valWide[0].split(separator: ",").count, 7)
    }

    func testRerunSkipsFinishedTrials() throws {
        let d = tempDir("resume")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let p = try runSweep(jobs: 2, output: d)
        final class Box: @unchecked Sendable { let lock = NSLock(); var ids: [String] = [] }
        let box = Box()
        let report = try runExperiment(p, options: RunOptions(jobs: 2), cache: DataCache()) { e in
            if case .skipped(let t) = e { box.lock.lock(); box.ids.append(t.id); box.lock.unlock() }
        }
        let events = box.ids
        XCTAssertEqual(report.skipped, 6)
        XCTAssertEqual(report.ran.count, 0)
        XCTAssertEqual(Set(events), Set(p.trials.map(\.id)))
    }

    /// A failing trial is recorded as failed (in summary.csv, with its message) and the
    /// others go on; a rerun retries it.
    func testFailingTrialIsRecordedAndOthersGoOn() throws {
        let d = tempDir("fail")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let text = """
        {"name": "failing", "output": {"dir": "\(d)"},
         "data": {"dir": "\(repoRoot)/data/cifar10-sample", "num_train": 100, "num_test": 0},
         "model": {"hidden_dims": [10]}, "training": {"num_epochs": 1, "batch_size": 50},
         "sweep": {"arms": {"good": {"seed": 1}, "bad": {"data.dir": "\(d)/missing"}}}}
        """
        let p = try Sweep.plan(try JSON.parse(text), defaultName: "failing")
        let report = try runExperiment(p, options: RunOptions(jobs: 2), cache: DataCache()) { _ in }
        XCTAssertEqual(report.ran.map(\.status.rawValue), ["finished", "failed"])
        XCTAssertEqual(report.failed.count, 1)
        XCTAssertTrue(report.failed[0].message.contains("\(d)/missing"), report.failed[0].message)
        let rows = try String(contentsOfFile: "\(d)/failing/summary.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 3)
        XCTAssertTrue(rows[2].contains(",failed,"), String(rows[2]))
        // The rerun skips the finished trial and retries the failed one.
        let again = try runExperiment(p, options: RunOptions(jobs: 2), cache: DataCache()) { _ in }
        XCTAssertEqual(again.skipped, 1)
        XCTAssertEqual(again.failed.count, 1)
    }

    /// After the config changes, old trial folders are reported as stale and kept out of
    /// the summary instead of being mixed with the new results.
    func testChangedConfigDoesNotMixResults() throws {
        let d = tempDir("stale")
        defer { try? FileManager.default.removeItem(atPath: d) }
        func plan(_ epochs: Int) throws -> ExperimentPlan {
            try Sweep.plan(try JSON.parse("""
            {"name": "stale", "output": {"dir": "\(d)"}, "data": {"source": "synthetic", "num_train": 100, "num_val": 50, "num_test": 0},
             "model": {"hidden_dims": [10]}, "training": {"num_epochs": \(epochs), "batch_size": 50},
             "sweep": {"grid": {"model.reg": [0, 0.1]}}}
            """), defaultName: "stale")
        }
        let old = try plan(1)
        _ = try runExperiment(old, options: RunOptions(jobs: 2), cache: DataCache()) { _ in }
        let new = try plan(2)
        let report = try runExperiment(new, options: RunOptions(jobs: 2), cache: DataCache()) { _ in }
        XCTAssertEqual(report.skipped, 0)
        XCTAssertEqual(Set(report.staleTrialDirs), Set(old.trials.map(\.folderName)))
        let summary = try String(contentsOfFile: "\(d)/stale/summary.csv", encoding: .utf8)
        for t in old.trials { XCTAssertFalse(summary.contains(t.id)) }
        for t in new.trials { XCTAssertTrue(summary.contains(t.id)) }
        // --fresh removes them.
        var fresh = RunOptions(jobs: 2); fresh.fresh = true
        let again = try runExperiment(new, options: fresh, cache: DataCache()) { _ in }
        XCTAssertTrue(again.staleTrialDirs.isEmpty)
    }
}
