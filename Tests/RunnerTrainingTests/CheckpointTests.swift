import XCTest
import Foundation
import RunnerTraining

/// A run paused at an epoch end, saved, read back and continued in a fresh process-like
/// setting (new network, optimizer and solver) gives the same numbers, bit for bit, as a run
/// that was never paused.
final class CheckpointTests: XCTestCase {
    /// A solver over every kind of state: batchnorm buffers, dropout's generator, Adam's
    /// moments and step, the shuffle order, the train-accuracy subsample generator.
    func makeSolver<T: Real>(_: T.Type, data: Dataset, shuffle: Bool = true, epochs: Int = 5, extras: Bool = false) throws -> Solver<T> {
        let net = try Network<T>(inputShape: data.sampleShape,
                                 specs: fullyConnectedSpecs(hiddenDims: [40, 30], numClasses: 10, normalization: "batchnorm", dropout: 0.3),
                                 initialization: .scale(5e-2), seed: 11)
        var settings = OptimizerSettings(kind: .adam, learningRate: 2e-3)
        settings.lrDecay = 0.9
        if extras {   // a per-iteration schedule with warm-up, decoupled weight decay
            settings = OptimizerSettings(kind: .adamw, learningRate: 2e-3)
            settings.schedule.kind = .cosine
            settings.schedule.warmupEpochs = 1
            settings.schedule.minLR = 1e-4
        }
        let opt = Optimizer<T>(settings: settings, parameters: net.parameters)
        var ts = TrainingSettings(numEpochs: epochs, batchSize: 25)
        ts.shuffle = shuffle
        ts.trainAccuracySamples = 100
        if extras { ts.augmentation.flip = true; ts.augmentation.cropPadding = 4 }
        return Solver(network: net, optimizer: opt, data: data, settings: ts, seed: 11)
    }

    func check<T: Real>(_: T.Type, shuffle: Bool, pauses: [Int], extras: Bool = false) throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 300, numVal: 100, numTest: 100)
        let whole = try makeSolver(T.self, data: data, shuffle: shuffle, extras: extras)
        let reference = whole.train()
        XCTAssertEqual(reference.status, .finished)

        var state: TrainingState<T>? = nil
        var result = TrainingResult()
        for pause in pauses + [nil] {
            let solver = try makeSolver(T.self, data: data, shuffle: shuffle, extras: extras)
            if let s = state {
                // Through the file format, as a resumed process would read it.
                let bytes = CheckpointFile.encode(s, key: "trial")
                let back: TrainingState<T> = try CheckpointFile.decode(bytes, key: "trial")
                XCTAssertTrue(solver.canResume(from: back))
                state = back
            }
            result = solver.train(resumingFrom: state, stopAfterEpoch: pause, onCheckpoint: { state = $0 })
            if let pause {
                XCTAssertEqual(result.status, .stopped)
                XCTAssertEqual(result.epochs.last?.epoch, pause)
                XCTAssertEqual(state?.epoch, pause)
            }
        }
        XCTAssertEqual(result.status, .finished)
        XCTAssertEqual(result.losses.map(\.bitPattern), reference.losses.map(\.bitPattern), "losses")
        XCTAssertEqual(result.learningRates, reference.learningRates)
        XCTAssertEqual(result.epochs, reference.epochs)
        XCTAssertEqual(result.bestValAccuracy, reference.bestValAccuracy)
        XCTAssertEqual(result.bestEpoch, reference.bestEpoch)
        XCTAssertEqual(result.testAccuracy, reference.testAccuracy)
    }

    func testPausedAndResumedRunIsBitIdentical() throws {
        try check(Float.self, shuffle: true, pauses: [1, 2, 4])
        try check(Float.self, shuffle: false, pauses: [3])
        try check(Double.self, shuffle: true, pauses: [2])
        // Schedule, augmentation and weight decay need no state of their own: still identical.
        try check(Float.self, shuffle: true, pauses: [1, 3], extras: true)
    }

    /// Checkpoints arrive every `checkpointEvery` epochs, never after the last iteration,
    /// and a resumed run asked to pause where it already is returns at once.
    func testCheckpointCadenceAndPauseAtSavedEpoch() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 300, numVal: 100, numTest: 0)
        var epochs: [Int] = []
        _ = try makeSolver(Float.self, data: data).train(checkpointEvery: 2, onCheckpoint: { epochs.append($0.epoch) })
        XCTAssertEqual(epochs, [2, 4])
        var saved: TrainingState<Float>? = nil
        _ = try makeSolver(Float.self, data: data).train(stopAfterEpoch: 2, onCheckpoint: { saved = $0 })
        let again = try makeSolver(Float.self, data: data).train(resumingFrom: saved, stopAfterEpoch: 2)
        XCTAssertEqual(again.status, .stopped)
        XCTAssertEqual(again.losses.count, saved?.iterationsDone)
    }

    /// Damaged or foreign files are refused with a reason, never trapped on; a state from
    /// another network does not fit.
    func testBadCheckpointsAreRefused() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 300, numVal: 100, numTest: 0)
        var saved: TrainingState<Float>? = nil
        _ = try makeSolver(Float.self, data: data, epochs: 3).train(stopAfterEpoch: 1, onCheckpoint: { saved = $0 })
        let good = CheckpointFile.encode(saved!, key: "k")
        func reason(_ d: Data, key: String = "k") -> String? {
            do { _ = try CheckpointFile.decode(d, key: key, as: Float.self); return nil } catch { return error.description }
        }
        XCTAssertNil(reason(good))
        XCTAssertEqual(reason(good, key: "other"), "belongs to another trial")
        XCTAssertEqual(reason(Data("hello".utf8)), "not a runner checkpoint")
        XCTAssertEqual(reason(good.prefix(20)), "truncated header")
        XCTAssertEqual(reason(good.dropLast(3)), "truncated at epochs")
        XCTAssertEqual(reason(good + Data([0])), "1 bytes after the last array")
        do { _ = try CheckpointFile.decode(good, key: "k", as: Double.self); XCTFail("dtype") } catch {
            XCTAssertEqual(error.description, "holds float32, expected float64")
        }
        // Flip every byte of the header in turn: an error or a state, never a crash.
        for i in 8..<min(good.count, 400) {
            var bad = good
            bad[bad.startIndex + i] ^= 0x5A
            _ = reason(bad)
        }
        // Another network (other widths) cannot continue from it.
        let other = try Network<Float>(inputShape: data.sampleShape,
                                       specs: fullyConnectedSpecs(hiddenDims: [41, 30], numClasses: 10, normalization: "batchnorm", dropout: 0.3), seed: 1)
        let solver = Solver(network: other, optimizer: Optimizer<Float>(settings: OptimizerSettings(kind: .adam), parameters: other.parameters),
                            data: data, settings: TrainingSettings(numEpochs: 3, batchSize: 25), seed: 1)
        XCTAssertFalse(solver.canResume(from: saved!))
    }
}
