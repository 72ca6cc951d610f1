import XCTest
import RunnerTraining

/// Early stopping on scripted histories, and in the Solver.
final class EarlyStoppingTests: XCTestCase {
    func history(_ val: [Double]) -> [EpochRecord] {
        val.enumerated().map { EpochRecord(epoch: $0.offset, iteration: $0.offset * 10, trainAccuracy: 0, valAccuracy: $0.element, learningRate: 0.1) }
    }

    /// The first epoch after which `stop` says stop, feeding the history one check at a time.
    func stopEpoch(_ stop: EarlyStopping, _ val: [Double]) -> Int? {
        let h = history(val)
        return (1..<h.count).first { stop.shouldStop(Array(h[...$0])) }
    }

    func testStopsAfterPatienceChecksWithoutImprovement() {
        //                epoch:  0    1    2    3    4    5    6    7
        let val: [Double] = [0.1, 0.3, 0.4, 0.4, 0.35, 0.39, 0.5, 0.2]
        XCTAssertEqual(stopEpoch(EarlyStopping(patience: 3), val), 5)       // best 0.4 at epoch 2; 3, 4, 5 not above
        XCTAssertEqual(stopEpoch(EarlyStopping(patience: 4), val), nil)     // epoch 6 improves in time
        XCTAssertEqual(stopEpoch(EarlyStopping(patience: 1), val), 3)       // equal is not an improvement
        // min_delta: 0.4 is not above 0.3 + 0.15, so the best stays 0.3 (epoch 1)
        XCTAssertEqual(stopEpoch(EarlyStopping(patience: 2, minDelta: 0.15), val), 3)
        XCTAssertEqual(EarlyStopping(patience: 2, minDelta: 0.15).state(of: history(Array(val[...3]))), .init(best: 0.3, since: 2))
    }

    func testWatchesTrainAccuracyWhenAsked() {
        let h = [0.5, 0.6, 0.6, 0.6].enumerated().map { EpochRecord(epoch: $0.offset, iteration: $0.offset, trainAccuracy: $0.element, valAccuracy: 0.9, learningRate: 1) }
        XCTAssertTrue(EarlyStopping(metric: "train_acc", patience: 2).shouldStop(h))
        XCTAssertFalse(EarlyStopping(metric: "train_acc", patience: 3).shouldStop(h))
    }

    /// A run that stops: finished, the stop epoch recorded, histories end there, the best
    /// parameters restored (its validation accuracy is the best one).
    func testSolverStopsAndRestoresTheBest() throws {
        let data = SyntheticData.blobs(seed: 4, numTrain: 100, numVal: 40, numTest: 20)
        var ts = TrainingSettings(numEpochs: 40, batchSize: 20)
        ts.earlyStopping = EarlyStopping(patience: 2, minDelta: 0.5)   // no accuracy can improve by 0.5 twice
        let net = try Network<Float>(inputShape: data.sampleShape, specs: fullyConnectedSpecs(hiddenDims: [10], numClasses: 10, normalization: "none", dropout: 0), seed: 2)
        let solver = Solver(network: net, optimizer: Optimizer(settings: OptimizerSettings(kind: .adam), parameters: net.parameters), data: data, settings: ts, seed: 2)
        let r = solver.train()
        XCTAssertEqual(r.status, .finished)
        let expected = (1...40).first { EarlyStopping(patience: 2, minDelta: 0.5).shouldStop(Array(r.epochs[...$0])) }
        XCTAssertEqual(r.stoppedEpoch, expected)
        XCTAssertEqual(r.stoppedEpoch, r.epochs.last?.epoch)
        XCTAssertLessThan(r.stoppedEpoch ?? 40, 40)
        XCTAssertEqual(r.losses.count, (r.stoppedEpoch ?? 0) * 5)
        XCTAssertTrue(r.message.hasPrefix("stopped early at epoch \(r.stoppedEpoch ?? 0): val_acc"), r.message)
        XCTAssertEqual(solver.accuracy(data.val), r.bestValAccuracy)
        XCTAssertNotNil(r.testAccuracy)
    }
}
