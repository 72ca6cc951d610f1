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
    public init(numEpochs: Int, batchSize: Int) { self.numEpochs = numEpochs; self.batchSize = batchSize }

    /// Every default in one place (the config schema reads its defaults from here).
    public static let defaults = TrainingSettings(numEpochs: 10, batchSize: 100)

    public func iterationsPerEpoch(numTrain: Int) -> Int { max(numTrain / batchSize, 1) }
}

public enum TrialStatus: String, Sendable, Codable {
    case finished, diverged, failed, interrupted
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
    public var iterationsPerEpoch = 0
    public var epochs: [EpochRecord] = []
    public var status = TrialStatus.finished
    public var message = ""
    public var bestValAccuracy = 0.0
    public var bestEpoch = 0
    public var testAccuracy: Double?
    public var seconds = 0.0
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
/// subsamples (weights use stream 1, dropout its own, see `Network`). Arms of a sweep that
/// share a seed therefore see the same minibatches even when one of them has dropout.
public final class Solver<T: Real> {
    public let network: Network<T>
    public let optimizer: Optimizer<T>
    public let data: Dataset
    public let settings: TrainingSettings
    private var batchRNG: SeededGenerator
    private var evalRNG: SeededGenerator
    private let xBatch = Tensor<T>(shape: [0])
    private var yBatch: [Int32] = []
    private var indices: [Int] = []

    public init(network: Network<T>, optimizer: Optimizer<T>, data: Dataset, settings: TrainingSettings, seed: UInt64) {
        self.network = network
        self.optimizer = optimizer
        self.data = data
        self.settings = settings
        batchRNG = SeededGenerator(seed: seed, stream: 2)
        evalRNG = SeededGenerator(seed: seed, stream: 3)
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

    /// Runs the whole schedule. `shouldStop` is polled every iteration (Ctrl-C).
    public func train(progress: ((TrainingEvent) -> Void)? = nil, shouldStop: () -> Bool = { false }) -> TrainingResult {
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
        var lrUsed = optimizer.learningRate
        var permutation = Array(0..<numTrain)
        var cursor = numTrain
        indices = [Int](repeating: 0, count: b)

        for t in 0..<total {
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
            let loss = yBatch.withUnsafeBufferPointer { network.lossAndGradients(xBatch, labels: $0.baseAddress!) }
            let lossD = Double(loss)
            result.losses.append(lossD)
            if !lossD.isFinite {
                result.status = .diverged
                result.message = "loss became \(lossD) at iteration \(t + 1)"
                break
            }
            optimizer.update()
            progress?(.iteration(iteration: t + 1, total: total, loss: lossD))

            let epochEnd = (t + 1) % perEpoch == 0
            if epochEnd {
                epoch += 1
                optimizer.decayLearningRate()
            }
            if t == 0 || t == total - 1 || epochEnd {
                let record = EpochRecord(
                    epoch: epoch, iteration: t + 1,
                    trainAccuracy: accuracy(data.train, samples: settings.trainAccuracySamples),
                    valAccuracy: accuracy(data.val), learningRate: lrUsed)
                result.epochs.append(record)
                if record.valAccuracy > result.bestValAccuracy || best == nil {
                    result.bestValAccuracy = record.valAccuracy
                    result.bestEpoch = record.epoch
                    best = network.snapshot()
                }
                progress?(.epoch(record, total: settings.numEpochs))
            }
            if epochEnd { lrUsed = optimizer.learningRate }
        }
        if let best { network.restore(best) }
        if data.test.count > 0, best != nil { result.testAccuracy = accuracy(data.test) }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }
}
