import XCTest
import Foundation
import Runner

/// Schedules, weight decay, early stopping and augmentation from a config, end to end:
/// what the files say, that absent fields change nothing, and that arms share augmentation.
final class TrainingExtrasTests: XCTestCase {
    static let config = """
    {"name": "extras", "seed": 5,
     "data": {"source": "synthetic", "num_train": 60, "num_val": 20, "num_test": 10, "augment": {"flip": true, "crop_padding": 2}},
     "model": {"type": "fc", "hidden_dims": [12]},
     "optimizer": {"type": "adamw", "learning_rate": 0.01, "schedule": {"type": "cosine", "min_lr": 0.001, "warmup_epochs": 1}},
     "training": {"num_epochs": 6, "batch_size": 20, "early_stopping": {"patience": 1, "min_delta": 1}},
     "sweep": {"arms": {"plain": {"model.dropout": 0}, "dropout": {"model.dropout": 0.3}}}}
    """

    func testFilesRecordRatesAndTheStopEpoch() throws {
        let d = tempDir("extras")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plan = try Sweep.plan(JSON.parse(Self.config).setting(path: ["output", "dir"], to: .string(d)), defaultName: "extras")
        let c = plan.trials[0].config
        XCTAssertEqual(c.optimizer.weightDecay, 0.01, "adamw's default weight decay")
        XCTAssertEqual(c.optimizer.schedule.kind, .cosine)
        XCTAssertEqual(c.training.augmentation, Augmentation(flip: true, cropPadding: 2))
        XCTAssertEqual(c.training.earlyStopping, EarlyStopping(metric: "val_acc", patience: 1, minDelta: 1))
        XCTAssertEqual(plan.trials[0].seed, plan.trials[1].seed, "arms share the seed, hence minibatches and augmentation")
        let report = try runExperiment(plan, options: RunOptions(jobs: 2), cache: DataCache()) { _ in }
        XCTAssertEqual(report.ran.count, 2)
        for t in plan.trials {
            let dir = "\(d)/extras/trials/\(t.folderName)"
            let loss = try String(contentsOfFile: dir + "/loss.csv", encoding: .utf8).split(separator: "\n").map { parseCSVLine(String($0)) }
            XCTAssertEqual(loss[0], ["iteration", "epoch", "loss", "learning_rate"])
            // Early stopping with min_delta 1: epoch 0 sets the best, no accuracy can beat it by 1.
            XCTAssertEqual(loss.count - 1, 3, "stopped after epoch 1 (3 iterations per epoch)")
            let rates = loss.dropFirst().map { Double($0[3])! }
            let expected = (0..<3).map { t.config.optimizer.learningRate(at: $0, iterationsPerEpoch: 3, numEpochs: 6) }
            XCTAssertEqual(rates, expected)
            XCTAssertEqual(rates, [0.01 / 3, 0.02 / 3, 0.01])
            let acc = try String(contentsOfFile: dir + "/accuracy.csv", encoding: .utf8).split(separator: "\n").map { parseCSVLine(String($0)) }
            XCTAssertEqual(acc.dropFirst().map { Double($0[4])! }, [rates[0], rates[2]], "each check: the rate of its epoch's last iteration")
            let record = try XCTUnwrap(ResultsFolder(d + "/extras", create: false).record(TrialFiles(folder: t.folderName)))
            XCTAssertEqual(record.status, .finished)
            XCTAssertEqual(record.stoppedEpoch, 1)
            XCTAssertEqual(record.learningRates, rates)
            XCTAssertTrue(record.summary.message.hasPrefix("stopped early at epoch 1"), record.summary.message)
        }
    }

    /// The new sections at their defaults are not part of a trial's identity: ids (and so the
    /// results folders of earlier runs) stay as they were.
    func testDefaultsLeaveTrialIdsAlone() throws {
        let base = #"{"name": "x", "data": {"source": "synthetic"}, "optimizer": {"type": "sgd"}}"#
        let explicit = #"{"name": "x", "data": {"source": "synthetic", "augment": {"flip": false, "crop_padding": 0}}, "optimizer": {"type": "sgd", "weight_decay": null, "schedule": {"type": "exponential", "warmup_epochs": 0}}, "training": {"early_stopping": {"metric": "val_acc", "patience": null, "min_delta": 0}}}"#
        let a = try Sweep.plan(JSON.parse(base), defaultName: "x").trials[0], b = try Sweep.plan(JSON.parse(explicit), defaultName: "x").trials[0]
        XCTAssertEqual(a.id, b.id)
        // The id of this config before these fields existed (commit c4051c4).
        XCTAssertEqual(a.id, Self.idBefore)
        let changed = try Sweep.plan(JSON.parse(base.replacingOccurrences(of: #""sgd"}"#, with: #""sgd", "schedule": {"type": "cosine"}}"#)), defaultName: "x").trials[0]
        XCTAssertNotEqual(changed.id, a.id)
    }
    static let idBefore = "e8e8150fe6"

    /// Without the new fields a trial's numbers are those of the runner before them: losses,
    /// accuracies and rates of a run pinned from commit c4051c4 (batchnorm, dropout, momentum,
    /// lr_decay), printed the same way.
    func testHistoriesWithoutTheNewFieldsAreUnchanged() throws {
        let d = tempDir("pinned")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let text = """
        {"name": "pin", "seed": 11, "data": {"source": "synthetic", "num_train": 120, "num_val": 30, "num_test": 20},
         "model": {"type": "fc", "hidden_dims": [16, 16], "normalization": "batchnorm", "dropout": 0.2, "weight_scale": 0.05},
         "optimizer": {"type": "sgd_momentum", "learning_rate": 0.05, "lr_decay": 0.8},
         "training": {"num_epochs": 4, "batch_size": 20}, "output": {"dir": "\(d)"}}
        """
        let plan = try Sweep.plan(JSON.parse(text), defaultName: "pin")
        _ = try runExperiment(plan, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        let dir = "\(d)/pin/trials/\(plan.trials[0].folderName)"
        let loss = try String(contentsOfFile: dir + "/loss.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { parseCSVLine(String($0)) }
        XCTAssertEqual(loss.map { $0[2] }.joined(separator: ","),
                       "2.3112612,2.2932239,2.226752,2.2870805,2.181933,2.155646,2.0639439,2.0921628,1.9836352,1.8738053,1.782354,1.6860523,"
                       + "1.6150216,1.6248713,1.5138904,1.4470237,1.3849438,1.4345573,1.2429099,1.7739738,1.1231537,1.1688331,1.1356095,1.1676327")
        XCTAssertEqual(try String(contentsOfFile: dir + "/accuracy.csv", encoding: .utf8), """
            epoch,iteration,train_acc,val_acc,learning_rate
            0,1,0.15,0.16666666666666666,0.05
            1,6,0.39166666666666666,0.3,0.05
            2,12,0.6916666666666667,0.6,0.04000000000000001
            3,18,0.7416666666666667,0.6666666666666666,0.03200000000000001
            4,24,0.75,0.7,0.025600000000000008

            """)
        // The new column: the rate of each iteration, lr_decay applied at every epoch end.
        XCTAssertEqual(Set(loss.map { $0[3] }), ["0.05", "0.04000000000000001", "0.03200000000000001", "0.025600000000000008"])
    }

    /// Schedule fields can be swept like any other (three-part paths).
    func testScheduleFieldsCanBeSwept() throws {
        let text = #"{"name": "x", "data": {"source": "synthetic"}, "optimizer": {"schedule": {"type": "cosine"}}, "sweep": {"grid": {"optimizer.schedule.min_lr": [0, 0.001]}}}"#
        let plan = try Sweep.plan(JSON.parse(text), defaultName: "x")
        XCTAssertEqual(plan.trials.map(\.config.optimizer.schedule.minLR), [0, 0.001])
        XCTAssertEqual(plan.sweptPaths, ["optimizer.schedule.min_lr"])
    }
}
