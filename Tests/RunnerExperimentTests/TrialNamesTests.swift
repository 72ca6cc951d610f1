import XCTest
import Foundation
import Runner

/// Readable trial names (`TrialNames`): labels, folder names, numbers, and folders of
/// earlier versions (hash only) or earlier plans still found by their id.
final class TrialNamesTests: XCTestCase {
    func plan(_ text: String, name: String = "names") throws -> ExperimentPlan {
        try Sweep.plan(JSON.parse(text), defaultName: name)
    }

    /// The course's batchnorm sweep: arm and weight scale, 2 significant digits, the arm's
    /// normalisation not repeated as a parameter.
    func testBatchnormSweepLabels() throws {
        let p = try plan(String(contentsOfFile: repoRoot + "/configs/batchnorm_sweep.json", encoding: .utf8))
        XCTAssertEqual(p.trials[3].label, "t03 batchnorm ws=1.6e-4")
        XCTAssertEqual(p.trials[3].folderName, "t03-batchnorm-ws1.6e-4-" + p.trials[3].id)
        XCTAssertEqual(p.trials[0].label, "t00 baseline ws=1e-4")
        XCTAssertEqual(p.trials[39].label, "t39 batchnorm ws=1")
        XCTAssertEqual(p.trials[20].label, "t20 baseline ws=0.013")
        XCTAssertEqual(Set(p.trials.map(\.label)).count, 40)
        XCTAssertEqual(Set(p.trials.map(\.folderName)).count, 40)
    }

    /// Numbers: the fewest significant digits (at least 2) that keep the values apart.
    func testNumbers() {
        let cases: [(Double, Int, String)] = [
            (1.6237767391887209e-4, 2, "1.6e-4"), (1e-4, 2, "1e-4"), (0.5, 2, "0.5"), (100, 2, "100"), (1e6, 2, "1e6"),
            (0.012742749857031334, 2, "0.013"), (2.5e-5, 2, "2.5e-5"), (-0.003, 2, "-3e-3"), (0.25, 2, "0.25"),
            (123456.7, 3, "1.23e5"), (0.1, 2, "0.1"), (.infinity, 2, "inf"),
        ]
        for (v, d, s) in cases { XCTAssertEqual(TrialNames.number(v, digits: d), s, "\(v) with \(d) digits") }
        let close = try! plan(#"{"data": {"source": "synthetic"}, "sweep": {"grid": {"optimizer.learning_rate": [1e-3, 1.05e-3, 1.1e-3]}}}"#)
        XCTAssertEqual(close.trials.map(\.label), ["t00 lr=1e-3", "t01 lr=1.05e-3", "t02 lr=1.1e-3"])
    }

    /// Two columns, repeats, a list value, and colliding initials.
    func testColumnsRepeatsAndLists() throws {
        let p = try plan(#"""
            {"data": {"source": "synthetic"},
             "sweep": {"grid": {"model.hidden_dims": [[100], [200, 200]], "training.batch_size": [50, 100]},
                       "zip": {"model.weight_scale": [1e-2, 2e-2], "optimizer.beta2": [0.99, 0.999]}, "repeats": 2}}
            """#)
        XCTAssertEqual(p.trials[0].label, "t00 hd=100 bs=50 ws=0.01 beta2=0.99 r0")
        XCTAssertEqual(p.trials[1].label, "t01 hd=100 bs=50 ws=0.01 beta2=0.99 r1")
        XCTAssertEqual(p.trials.last!.label, "t15 hd=200x200 bs=100 ws=0.02 beta2=0.999 r1")
        XCTAssertEqual(p.trials.last!.folderName, "t15-hd200x200-bs100-ws0.02-beta20.999-r1-" + p.trials.last!.id)
        // num_train and num_test share initials: both spelled out
        let q = try plan(#"{"data": {"source": "synthetic"}, "sweep": {"grid": {"data.num_train": [100, 200], "data.num_test": [0, 10]}}}"#)
        XCTAssertEqual(q.trials[1].label, "t01 num_train=100 num_test=10")
    }

    /// Config strings become path components only through the slug rule.
    func testHostileValuesAreSlugged() throws {
        let p = try plan(#"""
            {"data": {"source": "synthetic", "dir": "x"},
             "sweep": {"grid": {"data.dir": ["../../etc", "a b/$(touch x)`id`", "ü\"'<>"]}}}
            """#)
        for t in p.trials {
            XCTAssertTrue(t.folderName.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".contains(Character($0))) },
                          t.folderName)
            XCTAssertFalse(t.folderName.hasPrefix(".") || t.folderName.contains("/"), t.folderName)
        }
        XCTAssertEqual(p.trials[0].folderName, "t00-dir.._.._etc-" + p.trials[0].id)
        XCTAssertEqual(p.trials[1].label, "t01 dir=a b/$(touch x)`id`")
    }

    /// Hash-only trial folders (earlier versions) and folders named by an earlier plan are
    /// found by their id: a rerun skips them, merge and status count them.
    func testOldFolderNamesAreFound() throws {
        let d = tempDir("names-legacy")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let p = try plan("""
            {"name": "legacy", "output": {"dir": "\(d)"}, "data": {"source": "synthetic", "num_train": 100, "num_val": 50, "num_test": 0},
             "model": {"hidden_dims": [8]}, "training": {"num_epochs": 1, "batch_size": 20},
             "sweep": {"grid": {"model.reg": [0, 0.1, 0.2]}}}
            """)
        let first = try runExperiment(p, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        XCTAssertEqual(first.ran.count, 3)
        let trials = p.directory + "/trials/"
        for t in p.trials { XCTAssertTrue(FileManager.default.fileExists(atPath: trials + t.folderName + "/record.json"), t.folderName) }
        // as an earlier version left them: hash only; and one as an earlier plan named it
        try FileManager.default.moveItem(atPath: trials + p.trials[0].folderName, toPath: trials + p.trials[0].id)
        try FileManager.default.moveItem(atPath: trials + p.trials[1].folderName, toPath: trials + p.trials[1].id)
        try FileManager.default.moveItem(atPath: trials + p.trials[2].folderName, toPath: trials + "t07-old-label-" + p.trials[2].id)
        let again = try runExperiment(p, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        XCTAssertEqual(again.ran.count, 0, "finished trials in old folders were run again")
        XCTAssertEqual(again.skipped, 3)
        XCTAssertEqual(again.complete.count, 3)
        XCTAssertEqual(again.staleTrialDirs, [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: trials).filter { !$0.hasPrefix(".") }.count, 3, "no new folders")
        let merge = runnerInProcess(["merge", p.directory])
        XCTAssertEqual(merge.code, 0, merge.stdout + merge.stderr)
        XCTAssertTrue(merge.stdout.contains("3 of 3 trials complete"), merge.stdout)
        let status = experimentStatuses(under: p.directory)
        XCTAssertEqual(status.first?.finished, 3)
        // the labels of the plan, whatever the folder is called
        let summary = try String(contentsOfFile: p.directory + "/val_acc.csv", encoding: .utf8)
        XCTAssertTrue(summary.hasPrefix("epoch,t00 reg=0,t01 reg=0.1,t02 reg=0.2\n"), summary)
    }
}
