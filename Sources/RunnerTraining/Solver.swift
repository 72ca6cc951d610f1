import Foundation
@_exported import RunnerOptim
@_exported import RunnerData

/// Training-loop settings (SPEC §5).
public struct TrainingSettings: Equatable, Sendable {
    public var numEpochs: Int
    public var batchSize: Int
    /// Rows of the training split sampled (with replacement) for train accuracy.
    public var trainAccuracySamples = 1000
    /// false: minibatches drawn with replacement (the course); true: a new permutation each epoch.
    public var shuffle = false
    /// Rows per forward pass when measuring accuracy.
    public var evalBatchSize = 100
    /// Epochs between checkpoints (`Solver.train(checkpointEvery:)`); 0: none. Does not change any number.
    public var checkpointEvery = 1
    /// Stop when the watched accuracy stops improving (nil: train every epoch).
    public var earlyStopping: EarlyStopping? = nil
    /// Random flips and crops of each training minibatch (none by default).
    public var augmentation = Augmentation()
    public init(numEpochs: Int, batchSize: Int) { self.numEpochs = numEpochs; self.batchSize = batchSize }

    /// Every default in one place (the config schema reads its defaults from here).
    public static let defaults = TrainingSettings(numEpochs: 10, batchSize: 100)

    public func iterationsPerEpoch(numTrain: Int) -> Int { max(numTrain / batchSize, 1) }
}

public enum TrialStatus: String, Sendable, Codable {
    case finished, diverged, failed, interrupted
    /// Ended early by the sweep's scheduler (successive halving) at a rung; its checkpoint
    /// stays, so a larger budget continues it.
    case stopped
}

/// One accuracy check: after the first iteration (epoch 0) and at every epoch end.
public struct EpochRecord: Equatable, Sendable {
    public var epoch: Int
    public var iteration: Int
    public var trainAccuracy: Double
    public var valAccuracy: Double
    /// Learning rate used during the iterations that led to this check.
    public var learningRate: Double

    public init(epoch: Int, iteration: Int, trainAccuracy: Double, valAccuracy: Double, learningRate: Double) {
        self.epoch = epoch; self.iteration = iteration; self.trainAccuracy = trainAccuracy
        self.valAccuracy = valAccuracy; self.learningRate = learningRate
    }
}

public struct TrainingResult: Sendable {
    public var losses: [Double] = []
    /// The learning rate of every iteration (the one `losses[i]`'s update used).
    public var learningRates: [Double] = []
    public var iterationsPerEpoch = 0
    public var epochs: [EpochRecord] = []
    public var status = TrialStatus.finished
    public var message = ""
    public var bestValAccuracy = 0.0
    public var bestEpoch = 0
    public var testAccuracy: Double?
    public var seconds = 0.0
    /// The epoch at which early stopping ended training (nil: it did not).
    public var stoppedEpoch: Int?
    public init() {}

    /// Mean of the last 100 iteration losses (SPEC §7), or nan when there are none.
    public var finalLoss: Double {
        let tail = losses.suffix(100)
        return tail.isEmpty ? .nan : tail.reduce(0, +) / Double(tail.count)
    }
    public var finalTrainAccuracy: Double { epochs.last?.trainAccuracy ?? .nan }
    public var finalValAccuracy: Double { epochs.last?.valAccuracy ?? .nan }
    public var bestTrainAccuracy: Double { epochs.map(\.trainAccuracy).max() ?? .nan }
}

/// Progress reported while training (for displays); never affects the numbers.
public enum TrainingEvent: Sendable {
    case iteration(iteration: Int, total: Int, loss: Double)
    case epoch(EpochRecord, total: Int)
}

/// The course's Solver: minibatch SGD-style training with accuracy checks, keeping the
/// best parameters by validation accuracy and restoring them at the end.
///
/// Random streams derived from `seed`: 2 = minibatch indices, 3 = train-accuracy
/// subsamples, 4 = augmentation, restarted at every epoch from (seed, epoch) (weights use
/// stream 1, dropout its own, see `Network`). Arms of a sweep that share a seed therefore
/// see the same minibatches, augmented the same way, even when one of them has dropout.
///
/// The learning rate of every iteration comes from `OptimizerSettings.learningRate(at:…)`,
/// and early stopping's state from the history (`EarlyStopping.state(of:)`): neither keeps
/// state of its own.
public final class Solver<T: Real> {
    public let network: Network<T>
    public let optimizer: Optimizer<T>
    public let data: Dataset
    public let settings: TrainingSettings
    private var batchRNG: SeededGenerator
    private var evalRNG: SeededGenerator
    /// The trial's seed (the augmentation generator of each epoch derives from it).
    private let seed: UInt64
    private let xBatch = Tensor<T>(shape: [0])
    private var yBatch: [Int32] = []
    private var indices: [Int] = []
    private var augmentScratch: [T] = []
    /// Sees every training minibatch after augmentation, before the forward pass (for tests
    /// and debugging: iteration from 0, the batch, its labels); never changes any number.
    public var inspectBatch: ((Int, Tensor<T>, [Int32]) -> Void)? = nil

    public init(network: Network<T>, optimizer: Optimizer<T>, data: Dataset, settings: TrainingSettings, seed: UInt64) {
        self.network = network
        self.optimizer = optimizer
        self.data = data
        self.settings = settings
        batchRNG = SeededGenerator(seed: seed, stream: 2)
        evalRNG = SeededGenerator(seed: seed, stream: 3)
        self.seed = seed
    }

    /// The augmentation generator of `epoch` (from 0) of a trial seeded `seed`: a function
    /// of the two alone, so a run resumed at an epoch boundary draws the same choices.
    public static func augmentationGenerator(seed: UInt64, epoch: Int) -> SeededGenerator {
        SeededGenerator(seed: seed ^ mix64(UInt64(epoch) &+ 0x4155_474D_454E_5400), stream: 4)
    }

    /// Gathers `rows` of `split` into `xBatch`/`yBatch`, converted from the stored bytes or
    /// floats and preprocessed (`Split.gather`).
    private func gather(_ split: Split, rows: ArraySlice<Int>) {
        let n = rows.count
        xBatch.resize([n] + split.sampleShape)
        if yBatch.count != n { yBatch = [Int32](repeating: 0, count: n) }
        rows.withUnsafeBufferPointer { r in split.gather(rows: r.baseAddress!, count: n, into: xBatch.data) }
        for (k, i) in rows.enumerated() { yBatch[k] = split.y[i] }
    }

    /// Fraction of `split` rows classified correctly; at most `samples` rows drawn with
    /// replacement (all rows, in order, when the split is not larger).
    public func accuracy(_ split: Split, samples: Int? = nil) -> Double {
        guard split.count > 0 else { return .nan }
        var rows: [Int]
        if let s = samples, split.count > s {
            rows = (0..<s).map { _ in evalRNG.int(below: split.count) }
        } else {
            rows = Array(0..<split.count)
        }
        var correct = 0
        var predicted = [Int32](repeating: 0, count: settings.evalBatchSize)
        var start = 0
        while start < rows.count {
            let end = min(start + settings.evalBatchSize, rows.count)
            gather(split, rows: rows[start..<end])
            predicted.withUnsafeMutableBufferPointer { network.predict(xBatch, into: $0.baseAddress!) }
            for k in 0..<(end - start) where predicted[k] == yBatch[k] { correct += 1 }
            start = end
        }
        return Double(correct) / Double(rows.count)
    }

    /// Whether `state` was taken from a run of this network and optimizer (same arrays, same
    /// sizes, same generators), so that `train(resumingFrom:)` can continue it.
    public func canResume(from state: TrainingState<T>) -> Bool {
        let sizes = network.parameters.map(\.value.count) + network.buffers.map(\.count)   // the order of `snapshot()`
        let optSizes = optimizer.state.flatMap { $0.map(\.count) }
        let layerGenerators = network.layers.filter { $0.randomState != nil }.count
        let numTrain = data.train.count
        let perEpoch = settings.iterationsPerEpoch(numTrain: numTrain)
        return state.network.map(\.count) == sizes && state.optimizer.map(\.count) == optSizes
            && (state.best == nil || state.best!.map(\.count) == sizes)
            && state.generators.count == 2 + layerGenerators && state.generators.allSatisfy { SeededGenerator(state: $0) != nil }
            && (state.permutation.isEmpty ? !settings.shuffle : state.permutation.count == numTrain && state.permutation.allSatisfy { (0..<numTrain).contains($0) })
            && state.cursor <= numTrain
            && state.iterationsDone == state.losses.count && state.learningRates.count == state.losses.count
            && state.iterationsDone <= settings.numEpochs * perEpoch
            && state.iterationsDone % perEpoch == 0 && state.epoch == state.iterationsDone / perEpoch   // taken at an epoch end
    }

    /// The state of the run after `iterationsDone` iterations (see `TrainingState`).
    private func capture(_ result: TrainingResult, iterationsDone: Int, epoch: Int,
                         best: [[T]]?, permutation: [Int], cursor: Int, seconds: Double) -> TrainingState<T> {
        TrainingState(
            iterationsDone: iterationsDone, epoch: epoch, optimizerStep: optimizer.step, network: network.snapshot(), optimizer: optimizer.state.flatMap { $0.map(\.array) },
            best: best, generators: [batchRNG.state, evalRNG.state] + network.layers.compactMap { $0.randomState?.state },
            permutation: settings.shuffle ? permutation : [], cursor: cursor, losses: result.losses, learningRates: result.learningRates, epochs: result.epochs,
            bestValAccuracy: result.bestValAccuracy, bestEpoch: result.bestEpoch, seconds: seconds)
    }

    /// Runs the whole schedule. `shouldStop` is polled every iteration (Ctrl-C).
    ///
    /// - `resumingFrom`: a state taken by an earlier run of the same trial (check it with
    ///   `canResume(from:)`); training goes on from there to the same numbers, bit for bit.
    /// - `checkpointEvery`: every that many epochs (0: never) `onCheckpoint` gets the state.
    /// - `stopAfterEpoch`: ends the run (status `stopped`) at that epoch end, handing the
    ///   state to `onCheckpoint`, without restoring the best parameters (it is a pause).
    public func train(resumingFrom saved: TrainingState<T>? = nil, stopAfterEpoch: Int? = nil,
                      checkpointEvery: Int = 0, onCheckpoint: ((TrainingState<T>) -> Void)? = nil,
                      progress: ((TrainingEvent) -> Void)? = nil, shouldStop: () -> Bool = { false }) -> TrainingResult {
        let start = Date()
        var result = TrainingResult()
        let numTrain = data.train.count
        let perEpoch = settings.iterationsPerEpoch(numTrain: numTrain)
        let total = settings.numEpochs * perEpoch
        result.iterationsPerEpoch = perEpoch
        result.losses.reserveCapacity(total)
        let b = settings.batchSize
        var best: [[T]]? = nil
        var epoch = 0
        var augmentRNG = Solver.augmentationGenerator(seed: seed, epoch: 0)
        var permutation = Array(0..<numTrain)
        var cursor = numTrain
        var first = 0, secondsBefore = 0.0
        indices = [Int](repeating: 0, count: b)
        if let s = saved {
            precondition(canResume(from: s), "checkpoint does not fit this run (check canResume first)")
            network.restore(s.network)
            var k = 0
            for bufs in optimizer.state { for t in bufs { s.optimizer[k].withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }; k += 1 } }
            optimizer.step = s.optimizerStep
            batchRNG = SeededGenerator(state: s.generators[0])!
            evalRNG = SeededGenerator(state: s.generators[1])!
            var g = 2
            for layer in network.layers where layer.randomState != nil { layer.randomState = SeededGenerator(state: s.generators[g])!; g += 1 }
            if settings.shuffle { permutation = s.permutation }
            cursor = s.cursor
            best = s.best
            epoch = s.epoch
            result.losses.append(contentsOf: s.losses)
            result.learningRates.append(contentsOf: s.learningRates)
            result.epochs = s.epochs
            result.bestValAccuracy = s.bestValAccuracy
            result.bestEpoch = s.bestEpoch
            first = s.iterationsDone
            secondsBefore = s.seconds
        }
        func elapsed() -> Double { secondsBefore + Date().timeIntervalSince(start) }
        if let stop = stopAfterEpoch, epoch >= stop, first < total {   // already paused there
            result.status = .stopped
            result.seconds = secondsBefore
            return result
        }

        for t in first..<total {
            if shouldStop() { result.status = .interrupted; result.message = "interrupted"; break }
            if settings.shuffle {
                for k in 0..<b {
                    if cursor == numTrain {
                        for i in stride(from: numTrain - 1, to: 0, by: -1) { permutation.swapAt(i, batchRNG.int(below: i + 1)) }
                        cursor = 0
                    }
                    indices[k] = permutation[cursor]; cursor += 1
                }
            } else {
                for k in 0..<b { indices[k] = batchRNG.int(below: numTrain) }
            }
            gather(data.train, rows: indices[...])
            if settings.augmentation.isActive {
                if t % perEpoch == 0 { augmentRNG = Solver.augmentationGenerator(seed: seed, epoch: t / perEpoch) }
                settings.augmentation.apply(to: xBatch.data, count: b, shape: data.train.sampleShape, rng: &augmentRNG, scratch: &augmentScratch)
            }
            inspectBatch?(t, xBatch, yBatch)
            let lr = optimizer.settings.learningRate(at: t, iterationsPerEpoch: perEpoch, numEpochs: settings.numEpochs)
            let loss = yBatch.withUnsafeBufferPointer { network.lossAndGradients(xBatch, labels: $0.baseAddress!) }
            let lossD = Double(loss)
            result.losses.append(lossD)
            result.learningRates.append(lr)
            if !lossD.isFinite {
                result.status = .diverged
                result.message = "loss became \(lossD) at iteration \(t + 1)"
                break
            }
            optimizer.learningRate = lr
            optimizer.update()
            progress?(.iteration(iteration: t + 1, total: total, loss: lossD))

            let epochEnd = (t + 1) % perEpoch == 0
            if epochEnd { epoch += 1 }
            if t == 0 || t == total - 1 || epochEnd {
                let record = EpochRecord(
                    epoch: epoch, iteration: t + 1,
                    trainAccuracy: accuracy(data.train, samples: settings.trainAccuracySamples),
                    valAccuracy: accuracy(data.val), learningRate: lr)
                result.epochs.append(record)
                if record.valAccuracy > result.bestValAccuracy || best == nil {
                    result.bestValAccuracy = record.valAccuracy
                    result.bestEpoch = record.epoch
                    best = network.snapshot()
                }
                progress?(.epoch(record, total: settings.numEpochs))
                if let stop = settings.earlyStopping, epoch > 0, t < total - 1, stop.shouldStop(result.epochs) {
                    let s = stop.state(of: result.epochs)
                    result.stoppedEpoch = epoch
                    result.message = "stopped early at epoch \(epoch): \(stop.metric) not above \(s.best) + \(stop.minDelta) for \(s.since) epochs"
                    break
                }
            }
            if epochEnd, t < total - 1 {
                let pause = stopAfterEpoch.map { epoch >= $0 } ?? false
                if pause || (checkpointEvery > 0 && epoch % checkpointEvery == 0), let onCheckpoint {
                    onCheckpoint(capture(result, iterationsDone: t + 1, epoch: epoch, best: best,
                                         permutation: permutation, cursor: cursor, seconds: elapsed()))
                }
                if pause {
                    result.status = .stopped
                    result.seconds = elapsed()
                    return result
                }
            }
        }
        if let best { network.restore(best) }
        if data.test.count > 0, best != nil { result.testAccuracy = accuracy(data.test) }
        result.seconds = elapsed()
        return result
    }
}
