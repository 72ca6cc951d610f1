import XCTest
import Foundation
import Runner

/// Checkpoints inside a trial (kill -9 and resume) and the deterministic successive-halving
/// scheduler (`sweep.scheduler`).
final class HalvingTests: XCTestCase {
    // MARK: the rule

    func testRungsAndPromotionsByHand() throws {
        func h(_ grace: Int, _ eta: Int, _ max: Int) -> Halving { Halving(metric: .val_acc, graceEpochs: grace, reductionFactor: eta, maxEpochs: max) }
        XCTAssertEqual(h(1, 3, 27).rungs, [1, 3, 9, 27])
        XCTAssertEqual(h(2, 2, 10).rungs, [2, 4, 8, 10])
        XCTAssertEqual(h(5, 3, 5).rungs, [5])
        XCTAssertEqual(h(1, 3, 4).rungs, [1, 3, 4])
        // 6 reached, η = 3: the best 2; 0.7 is a tie between trials 1 and 2 (lower index wins).
        let reached = [(0, 0.5), (1, 0.7), (2, 0.7), (3, 0.1), (4, 0.9), (5, 0.3)].map { (index: $0.0, value: $0.1) }
        XCTAssertEqual(h(1, 3, 9).promoted(reached), [1, 4])
        XCTAssertEqual(h(1, 2, 9).promoted(reached), [1, 2, 4])
        XCTAssertEqual(h(1, 3, 9).promoted(Array(reached.prefix(2))), [1], "fewer than η: the best one goes on")
        XCTAssertEqual(h(1, 3, 9).promoted([]), [])
    }

    func testSchedulerConfigErrors() throws {
        func err(_ scheduler: String, extra: String = "") -> String {
            let text = """
            {"name": "h", "data": {"source": "synthetic"}, "training": {"num_epochs": 4},
             "sweep": {"grid": {"optimizer.learning_rate": [1e-3, 1e-2]\(extra)}, "scheduler": \(scheduler)}}
            """
            do { _ = try Sweep.plan(try JSON.parse(text), defaultName: "h"); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(err(#"{"type": "asha", "grace_epoch": 1}"#), "sweep.scheduler: unknown key \"grace_epoch\" (did you mean \"grace_epochs\"?)")
        XCTAssertEqual(err(#"{"type": "hyperband"}"#), "sweep.scheduler.type: \"hyperband\" is not one of \"asha\"")
        XCTAssertEqual(err(#"{"type": "asha", "metric": "loss"}"#), "sweep.scheduler.metric: \"loss\" is not one of \"val_acc\", \"train_acc\"")
        XCTAssertEqual(err(#"{"type": "asha", "reduction_factor": 1}"#), "sweep.scheduler.reduction_factor: expected an integer ≥ 2, found an integer")
        XCTAssertEqual(err(#"{"type": "asha", "grace_epochs": 5}"#), "sweep.scheduler.grace_epochs: is 5, more than max_epochs (4)")
        XCTAssertEqual(err(#"{"type": "asha"}"#, extra: #", "training.num_epochs": [2, 3]"#),
                       "sweep.scheduler: decides how many epochs each trial trains; \"training.num_epochs\" cannot also be swept (set sweep.scheduler.max_epochs)")
        XCTAssertEqual(err(#"{"type": "asha", "max_epochs": 6}"#), "")
        let plan = try Sweep.plan(try JSON.parse("""
            {"name": "h", "data": {"source": "synthetic"}, "training": {"num_epochs": 4},
             "sweep": {"grid": {"optimizer.learning_rate": [1e-3, 1e-2]}, "scheduler": {"type": "asha", "max_epochs": 6}}}
            """), defaultName: "h")
        XCTAssertEqual(plan.halving?.rungs, [1, 3, 6])
        XCTAssertEqual(plan.trials.map(\.config.training.numEpochs), [6, 6], "max_epochs is each trial's num_epochs")
    }

    // MARK: runs

    /// Nine trials of learning rate × weight scale, ASHA with rungs 1, 3, 4 (η = 3).
    func ashaConfig(out: String, hidden: Int = 32, rows: Int = 600) -> String {
        """
        {"name": "asha", "output": {"dir": "\(out)"},
         "data": {"source": "synthetic", "num_train": \(rows), "num_val": 200, "num_test": 100},
         "model": {"hidden_dims": [\(hidden), \(hidden)], "dropout": 0.1}, "optimizer": {"type": "adam"},
         "training": {"num_epochs": 2, "batch_size": 20, "shuffle": true},
         "sweep": {"grid": {"optimizer.learning_rate": [3e-4, 1e-3, 3e-3], "model.weight_scale": [1e-3, 1e-2, 1e-1]},
                   "scheduler": {"type": "asha", "grace_epochs": 1, "reduction_factor": 3, "max_epochs": 4}}}
        """
    }

    func records(_ plan: ExperimentPlan) throws -> [TrialRecord] {
        let folder = try ResultsFolder(plan.directory, create: false)
        return plan.trials.compactMap { folder.record(TrialFiles(folder: $0.folderName)) }
    }

    /// The whole record minus wall-clock time.
    func fingerprint(_ rs: [TrialRecord]) -> [String] {
        rs.map { r in var r = r; r.seconds = 0; return r.json.compact }
    }

    func testASHAPromotionsMatchHandComputationAndAnyJobCount() throws {
        var fingerprints: [[String]] = []
        for jobs in [1, 2] {
            let dir = tempDir("asha-\(jobs)")
            let plan = try Sweep.plan(try JSON.parse(ashaConfig(out: dir)), defaultName: "asha")
            let report = try runExperiment(plan, options: RunOptions(jobs: jobs), cache: DataCache()) { _ in }
            XCTAssertTrue(report.failed.isEmpty)
            let rs = try records(plan)
            XCTAssertEqual(rs.count, 9)
            // The hand computation, from the recorded histories alone: rung 1 keeps the best 3
            // of 9 by val_acc at epoch 1 (ties: lower index), rung 3 the best 1 of those 3.
            func best(_ ids: [Int], at epoch: Int, keep: Int) -> [Int] {
                let scored = ids.map { i in (i, rs[i].epochs.first { $0.epoch == epoch }!.valAccuracy) }
                return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(keep).map(\.0).sorted()
            }
            let afterFirst = best(Array(0..<9), at: 1, keep: 3)
            let winner = best(afterFirst, at: 3, keep: 1)
            for r in rs {
                let reached = r.epochs.last!.epoch
                if winner.contains(r.index) {
                    XCTAssertEqual(r.status, .finished); XCTAssertEqual(reached, 4)
                } else if afterFirst.contains(r.index) {
                    XCTAssertEqual(r.status, .stopped); XCTAssertEqual(reached, 3)
                } else {
                    XCTAssertEqual(r.status, .stopped); XCTAssertEqual(reached, 1)
                }
                XCTAssertEqual(r.summary.epochs, reached)
            }
            // Epochs spent: 9·1 + 3·2 + 1·1 = 16 of 36.
            XCTAssertEqual(rs.map { $0.losses.count / $0.iterationsPerEpoch }.reduce(0, +), 16)
            let summary = try String(contentsOfFile: plan.directory + "/summary.csv", encoding: .utf8)
            XCTAssertEqual(summary.components(separatedBy: ",stopped,").count - 1, 8, summary)
            fingerprints.append(fingerprint(rs))

            // The winner is the trial trained for max_epochs without the scheduler, bit for bit.
            if jobs == 1 {
                let t = plan.trials[winner[0]]
                let reproduced = try Sweep.plan(t.reproducingConfig.setting(path: ["output", "dir"], to: .string(tempDir("asha-repro"))), defaultName: "r")
                _ = try runExperiment(reproduced, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
                let again = try records(reproduced)[0]
                XCTAssertEqual(again.losses.map(\.bitPattern), rs[winner[0]].losses.map(\.bitPattern))
                XCTAssertEqual(again.epochs, rs[winner[0]].epochs)
            }
        }
        XCTAssertEqual(fingerprints[0], fingerprints[1], "--jobs 1 and --jobs 2 decide and train alike")
    }

    // MARK: kill -9

    /// Runs `runner args` in `cwd`, killing it with SIGKILL after each delay in turn, then
    /// lets it finish; returns the last exit code. Each process is reaped here with waitpid:
    /// Foundation's `Process.waitUntilExit` can miss the end of a killed child on Linux and
    /// wait forever (seen once, a zombie left behind).
    func runKilled(_ args: [String], cwd: String, delays: [Double]) throws -> Int32 {
        func reap(_ p: ShardProcess) -> Int32 {
            defer { try? FileManager.default.removeItem(atPath: (p.stdoutPath as NSString).deletingLastPathComponent) }
            let pid = p.process.processIdentifier
            var status: Int32 = 0
            while true {
                let r = waitpid(pid, &status, 0)
                if r == pid { break }
                if r == -1 && errno == EINTR { continue }
                // Foundation reaped it first, so it knows how it ended.
                p.process.waitUntilExit()
                return p.process.terminationReason == .uncaughtSignal ? 128 + p.process.terminationStatus : p.process.terminationStatus
            }
            return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
        for d in delays {
            let p = try ShardProcess(args, cwd: cwd)
            try p.start()
            Thread.sleep(forTimeInterval: d)
            kill(p.process.processIdentifier, SIGKILL)
            _ = reap(p)
        }
        let last = try ShardProcess(args, cwd: cwd)
        try last.start()
        return reap(last)
    }

    var delays: [Double] {
        var g = SystemRandomNumberGenerator()
        let d = (0..<4).map { _ in Double.random(in: 0.4...1.6, using: &g) }
        print("[checkpoint] kill -9 after \(d.map { String(format: "%.2f s", $0) })")
        return d
    }

    /// A trial killed several times at random points resumes from its checkpoints to
    /// byte-identical CSVs.
    func testKilledTrialResumesToIdenticalFiles() throws {
        let work = tempDir("ckpt-kill")
        let config = """
            {"name": "ck", "output": {"dir": "out"},
             "data": {"source": "synthetic", "num_train": 3000, "num_val": 300, "num_test": 200},
             "model": {"hidden_dims": [768, 768], "normalization": "batchnorm", "dropout": 0.2}, "optimizer": {"type": "adam", "learning_rate": 1e-3},
             "training": {"num_epochs": 8, "batch_size": 25, "shuffle": true}}
            """
        try config.write(toFile: work + "/ck.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: work + "/ref", withIntermediateDirectories: true)
        try config.write(toFile: work + "/ref/ck.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try shardRun(["ck.json", "--jobs", "1", "--quiet"], cwd: work + "/ref").code, 0)
        XCTAssertEqual(try runKilled(["ck.json", "--jobs", "1", "--quiet"], cwd: work, delays: delays), 0)
        let plan = try Sweep.plan(try JSON.parse(config), defaultName: "ck")
        let dir = "trials/\(plan.trials[0].folderName)/"
        for f in ["loss.csv", "accuracy.csv", "record.json"] {
            var a = try String(contentsOfFile: work + "/ref/out/ck/" + dir + f, encoding: .utf8)
            var b = try String(contentsOfFile: work + "/out/ck/" + dir + f, encoding: .utf8)
            if f == "record.json" {   // wall-clock seconds differ
                a = a.replacingOccurrences(of: #""seconds":[0-9.e+-]+"#, with: "", options: .regularExpression)
                b = b.replacingOccurrences(of: #""seconds":[0-9.e+-]+"#, with: "", options: .regularExpression)
            }
            XCTAssertEqual(a, b, f)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out/ck/" + dir + "checkpoint.bin"), "a finished trial's checkpoint is removed")
    }

    /// The scheduler killed at random points and resumed decides and trains exactly as an
    /// uninterrupted run.
    func testASHAKilledAndResumedDecidesAlike() throws {
        let work = tempDir("asha-kill")
        let config = ashaConfig(out: work + "/out", hidden: 512, rows: 2000)
        try config.write(toFile: work + "/asha.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try runKilled(["asha.json", "--jobs", "2", "--quiet"], cwd: work, delays: delays), 0)
        let killed = try Sweep.plan(try JSON.parse(config), defaultName: "asha")
        let ref = try Sweep.plan(try JSON.parse(ashaConfig(out: tempDir("asha-ref"), hidden: 512, rows: 2000)), defaultName: "asha")
        _ = try runExperiment(ref, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        let a = fingerprint(try records(killed)), b = fingerprint(try records(ref))
        XCTAssertEqual(a.count, 9)
        XCTAssertEqual(a, b)
    }
}
