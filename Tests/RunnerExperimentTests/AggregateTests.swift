import XCTest
import Foundation
import Runner

/// aggregate.csv and paired.csv: means, sample deviations and Student-t intervals over
/// repeats, checked against scipy (`stats.t.ppf`, numpy `std(ddof=1)`).
final class AggregateTests: XCTestCase {
    func testStudentTQuantilesMatchScipy() {
        let scipy: [(Int, Double)] = [(1, 12.706204736174694), (2, 4.302652729749462), (3, 3.1824463052837078), (5, 2.5705818356363146),
                                       (10, 2.228138851986274), (30, 2.0422724563012378), (100, 1.9839715185235518)]
        for (df, t) in scipy { XCTAssertEqual(studentTQuantile(0.975, degreesOfFreedom: df), t, accuracy: 1e-9 * t, "df \(df)") }
    }

    func testIntervalEstimate() {
        let e = IntervalEstimate([0.31, 0.35, 0.29, 0.40])
        XCTAssertEqual(e.n, 4)
        XCTAssertEqual(e.mean!, 0.3375, accuracy: 1e-15)
        XCTAssertEqual(e.std!, 0.048562674281111565, accuracy: 1e-14)
        XCTAssertEqual(e.low!, 0.2602259483296902, accuracy: 1e-12)
        XCTAssertEqual(e.high!, 0.41477405167030984, accuracy: 1e-12)
        XCTAssertNil(IntervalEstimate([0.5]).std)
        XCTAssertNil(IntervalEstimate([]).mean)
    }

    /// One sweep point, arms a and b, 3 repeats, records with chosen best_val_acc values.
    func testAggregateAndPairedTables() throws {
        let d = tempDir("aggregate")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plan = try Sweep.plan(JSON.parse("""
            {"name": "agg", "output": {"dir": "\(d)"}, "data": {"source": "synthetic"},
             "sweep": {"grid": {"model.reg": [0.5]}, "repeats": 3,
                       "arms": {"a": {"model.normalization": "none"}, "b": {"model.normalization": "batchnorm"}}}}
            """), defaultName: "agg")
        XCTAssertEqual(plan.trials.count, 6)
        let best: [String: [Double]] = ["a": [0.30, 0.34, 0.32], "b": [0.36, 0.41, 0.35]]
        let folder = try ResultsFolder(plan.directory, create: true)
        try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
        for t in plan.trials {
            let v = best[t.arm!]![t.repeatIndex!]
            let r = TrialRecord(index: t.index, id: t.id, arm: t.arm, parameters: t.parameters, status: .finished, losses: [1, 0.5],
                                epochs: [EpochRecord(epoch: 1, iteration: 2, trainAccuracy: v, valAccuracy: v, learningRate: 0.01)],
                                bestValAccuracy: v, bestEpoch: 1)
            try folder.write(r, config: nil, files: TrialFiles(folder: t.folderName))
        }
        try writeSweepTables(plan: plan, folder: folder)
        func table(_ name: String) throws -> [[String: String]] {
            let lines = try String(contentsOfFile: plan.directory + "/" + name, encoding: .utf8).split(separator: "\n").map { parseCSVLine(String($0)) }
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
        }
        let agg = try table("aggregate.csv")
        XCTAssertEqual(agg.map { $0["arm"] }, ["a", "b"])
        XCTAssertEqual(agg.map { $0["n"] }, ["3", "3"])
        XCTAssertEqual(agg[0]["model.reg"], "0.5")
        let ref: [(Double, Double, Double, Double)] = [(0.32, 0.020000000000000018, 0.2703172457649934, 0.3696827542350066),
                                                        (0.37333333333333335, 0.03214550253664318, 0.29347947821889214, 0.45318718844777456)]
        for (row, r) in zip(agg, ref) {
            XCTAssertEqual(Double(row["best_val_acc_mean"]!)!, r.0, accuracy: 1e-12)
            XCTAssertEqual(Double(row["best_val_acc_std"]!)!, r.1, accuracy: 1e-12)
            XCTAssertEqual(Double(row["best_val_acc_ci95_low"]!)!, r.2, accuracy: 1e-12)
            XCTAssertEqual(Double(row["best_val_acc_ci95_high"]!)!, r.3, accuracy: 1e-12)
            XCTAssertEqual(row["test_acc_mean"], "", "no test accuracy recorded")
        }
        let paired = try table("paired.csv")
        XCTAssertEqual(paired.count, 1)
        XCTAssertEqual(paired[0]["arm"], "b"); XCTAssertEqual(paired[0]["minus_arm"], "a"); XCTAssertEqual(paired[0]["n"], "3")
        XCTAssertEqual(Double(paired[0]["best_val_acc_diff_mean"]!)!, 0.05333333333333331, accuracy: 1e-12)
        XCTAssertEqual(Double(paired[0]["best_val_acc_diff_ci95_low"]!)!, 0.0016218832079106862, accuracy: 1e-12)
        XCTAssertEqual(Double(paired[0]["best_val_acc_diff_ci95_high"]!)!, 0.10504478345875592, accuracy: 1e-12)
        // Welch's interval of the same difference as if the arms were independent (scipy:
        // stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)).
        XCTAssertEqual(Double(paired[0]["best_val_acc_unpaired_ci95_low"]!)!, -0.012325628797065363, accuracy: 1e-9)
        XCTAssertEqual(Double(paired[0]["best_val_acc_unpaired_ci95_high"]!)!, 0.11899229546373205, accuracy: 1e-9)
        XCTAssertEqual(studentTQuantile(0.975, degreesOfFreedom: 3.5), 2.9400886379827282, accuracy: 1e-9)
    }
}
