import XCTest
import Foundation
import RunnerTraining

/// The repository root (tests locate the bundled sample from here).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let sampleDir = repoRoot + "/data/cifar10-sample"

final class TrainingTests: XCTestCase {
    func makeSolver<T: Real>(_: T.Type, data: Dataset, hidden: [Int], norm: String = "none", dropout: Double = 0,
                             optimizer: OptimizerSettings, epochs: Int, batch: Int, seed: UInt64 = 1, scale: Double = 1e-2) throws -> Solver<T> {
        let net = try Network<T>(inputShape: data.sampleShape,
                                 specs: fullyConnectedSpecs(hiddenDims: hidden, numClasses: 10, normalization: norm, dropout: dropout),
                                 initialization: .scale(scale), seed: seed)
        let opt = Optimizer<T>(settings: optimizer, parameters: net.parameters)
        return Solver(network: net, optimizer: opt, data: data, settings: TrainingSettings(numEpochs: epochs, batchSize: batch), seed: seed)
    }

    /// As in the course: a net overfits 50 real images to 100% training accuracy.
    func testOverfitsFiftyExamples() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 50, numVal: 1000, numTest: 0)
        var opt = OptimizerSettings(kind: .adam, learningRate: 1e-3)
        opt.lrDecay = 1
        let solver = try makeSolver(Float.self, data: data, hidden: [100, 100], optimizer: opt, epochs: 20, batch: 25, scale: 5e-2)
        let r = solver.train()
        XCTAssertEqual(r.status, .finished)
        XCTAssertEqual(r.bestTrainAccuracy, 1.0, "train accuracy history: \(r.epochs.map(\.trainAccuracy))")
        XCTAssertLessThan(r.finalLoss, r.losses[0] / 4)
    }

    /// Loss falls and validation accuracy beats chance on 1000 real rows within seconds.
    func testLearnsOnRealData() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 1000)
        let r = try makeSolver(Float.self, data: data, hidden: [100], norm: "batchnorm", optimizer: OptimizerSettings(kind: .adam, learningRate: 1e-3), epochs: 5, batch: 50).train()
        XCTAssertEqual(r.status, .finished)
        XCTAssertEqual(r.epochs.count, 6)
        XCTAssertLessThan(r.finalLoss, r.losses[0] - 0.3)
        XCTAssertGreaterThan(r.bestValAccuracy, 0.2)
        XCTAssertNotNil(r.testAccuracy)
        XCTAssertGreaterThan(r.epochs.last!.trainAccuracy, r.epochs.first!.trainAccuracy)
    }

    /// Same config and seed ⇒ identical losses and accuracies; another seed ⇒ different.
    func testDeterminism() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 500)
        func run(seed: UInt64) throws -> TrainingResult {
            try makeSolver(Float.self, data: data, hidden: [50, 50], norm: "batchnorm", dropout: 0.3,
                           optimizer: OptimizerSettings(kind: .adam), epochs: 2, batch: 50, seed: seed).train()
        }
        let a = try run(seed: 7), b = try run(seed: 7), c = try run(seed: 8)
        XCTAssertEqual(a.losses, b.losses)
        XCTAssertEqual(a.epochs, b.epochs)
        XCTAssertEqual(a.testAccuracy, b.testAccuracy)
        XCTAssertNotEqual(a.losses, c.losses)
    }

    /// A convnet trained with a thread budget of 2 (convolutions over blocks of images,
    /// max pooling and relu over planes on two threads) has the losses and accuracies of the
    /// same net on one thread, bit for bit.
    func testConvnetHistoryIdenticalOnOneAndTwoThreads() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 100, numVal: 100, numTest: 0)
        func run(threads: Int) throws -> TrainingResult {
            let net = try Network<Float>(inputShape: data.sampleShape,
                                         specs: threeLayerConvnetSpecs(numFilters: 8, filterSize: 3, hiddenDim: 20, numClasses: 10),
                                         initialization: .scale(1e-2), seed: 3, context: ComputeContext(productThreads: threads))
            let opt = Optimizer<Float>(settings: OptimizerSettings(kind: .adam, learningRate: 1e-3), parameters: net.parameters)
            return Solver(network: net, optimizer: opt, data: data, settings: TrainingSettings(numEpochs: 2, batchSize: 50), seed: 3).train()
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        XCTAssertEqual(one.losses.map(\.bitPattern), two.losses.map(\.bitPattern))
        XCTAssertEqual(one.epochs, two.epochs)
        XCTAssertLessThan(one.losses.last!, one.losses[0])
    }

    /// Arms of a sweep share a seed: a baseline and a batchnorm net start from the same
    /// weights and draw the same minibatches (the solver's minibatch stream depends on the seed only).
    func testArmsShareInitialWeightsAndMinibatches() throws {
        let a = try Network<Float>(inputShape: [3, 8, 8], specs: fullyConnectedSpecs(hiddenDims: [20, 20], numClasses: 10, normalization: "none", dropout: 0), seed: 42)
        let b = try Network<Float>(inputShape: [3, 8, 8], specs: fullyConnectedSpecs(hiddenDims: [20, 20], numClasses: 10, normalization: "batchnorm", dropout: 0.5), seed: 42)
        let wa = a.parameters.filter(\.regularized).map(\.value.array), wb = b.parameters.filter(\.regularized).map(\.value.array)
        XCTAssertEqual(wa, wb)
    }

    /// A huge learning rate makes the loss non-finite: the trial is `diverged`, history kept.
    func testDivergenceIsRecorded() throws {
        let data = SyntheticData.blobs(seed: 1, numTrain: 200, numVal: 50, numTest: 0)
        let r = try makeSolver(Float.self, data: data, hidden: [50], optimizer: OptimizerSettings(kind: .sgd, learningRate: 1e30),
                               epochs: 5, batch: 20, scale: 1).train()
        XCTAssertEqual(r.status, .diverged)
        XCTAssertFalse(r.losses.isEmpty)
        XCTAssertFalse(r.losses.last!.isFinite)
        XCTAssertTrue(r.message.contains("iteration"))
    }

    /// lr_decay multiplies the rate once per epoch; the history records the rate used.
    func testLearningRateDecaySchedule() throws {
        let data = SyntheticData.blobs(seed: 2, numTrain: 100, numVal: 20, numTest: 0)
        var opt = OptimizerSettings(kind: .sgd, learningRate: 0.1)
        opt.lrDecay = 0.5
        let r = try makeSolver(Float.self, data: data, hidden: [10], optimizer: opt, epochs: 3, batch: 50).train()
        XCTAssertEqual(r.iterationsPerEpoch, 2)
        XCTAssertEqual(r.losses.count, 6)
        XCTAssertEqual(r.epochs.map(\.epoch), [0, 1, 2, 3])
        XCTAssertEqual(r.epochs.map(\.iteration), [1, 2, 4, 6])
        XCTAssertEqual(r.epochs.map(\.learningRate), [0.1, 0.1, 0.05, 0.025])
    }

    /// Float64 training runs and tracks Float32 closely at the start.
    func testFloat64MatchesFloat32() throws {
        let data = try CIFAR10.load(directory: sampleDir, numTrain: 200, numVal: 100, numTest: 0)
        let f = try makeSolver(Float.self, data: data, hidden: [30], optimizer: OptimizerSettings(kind: .sgd, learningRate: 1e-3), epochs: 1, batch: 20).train()
        let d = try makeSolver(Double.self, data: data, hidden: [30], optimizer: OptimizerSettings(kind: .sgd, learningRate: 1e-3), epochs: 1, batch: 20).train()
        XCTAssertEqual(f.losses[0], d.losses[0], accuracy: 1e-4 * abs(d.losses[0]))
    }
}

final class DataReaderTests: XCTestCase {
    var tmp: String = ""
    override func setUp() {
        tmp = NSTemporaryDirectory() + "runner-data-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    func record(label: UInt8, value: UInt8) -> [UInt8] { [label] + [UInt8](repeating: value, count: 3072) }

    func testSampleSplitAndMean() throws {
        let d = try CIFAR10.load(directory: sampleDir, numTrain: 4000)
        XCTAssertEqual(d.train.count, 4000); XCTAssertEqual(d.val.count, 1000); XCTAssertEqual(d.test.count, 1000)
        XCTAssertEqual(d.sampleShape, [3, 32, 32])
        // The mean image of the training split is subtracted: every pixel column averages 0.
        for j in [0, 1000, 3071] {
            var s = 0.0
            for i in 0..<4000 { s += Double(d.train.x[i * 3072 + j]) }
            XCTAssertEqual(s / 4000, 0, accuracy: 1e-3)
        }
        XCTAssertTrue(d.train.y.allSatisfy { (0..<10).contains($0) })
        // num_train takes the first rows; validation stays the last rows.
        let small = try CIFAR10.load(directory: sampleDir, numTrain: 100)
        XCTAssertEqual(small.train.y, Array(d.train.y.prefix(100)))
        XCTAssertEqual(small.val.y, d.val.y)
    }

    func testMissingFolderNamesIt() {
        XCTAssertThrowsError(try CIFAR10.load(directory: tmp + "/nope", numTrain: 10)) { e in
            XCTAssertEqual(e as? DataError, .missingDirectory(tmp + "/nope"))
            XCTAssertTrue("\(e)".contains(tmp + "/nope"))
        }
    }

    func testMissingFileNamesIt() {
        XCTAssertThrowsError(try CIFAR10.load(directory: tmp, numTrain: 10)) { e in
            XCTAssertEqual(e as? DataError, .missingFile(tmp + "/data_batch_1.bin"))
        }
    }

    func testTruncatedFileNamesSize() throws {
        let path = tmp + "/data_batch_1.bin"
        try Data(record(label: 1, value: 5) + [1, 2, 3]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CIFAR10.load(directory: tmp, numTrain: 1, numVal: 0)) { e in
            XCTAssertEqual(e as? DataError, .badSize(file: path, bytes: 3076))
            XCTAssertTrue("\(e)".contains("not a multiple of the 3073-byte"))
        }
    }

    func testLabelOutOfRange() throws {
        let path = tmp + "/data_batch_1.bin"
        try Data(record(label: 3, value: 1) + record(label: 12, value: 2)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CIFAR10.load(directory: tmp, numTrain: 1, numVal: 1)) { e in
            XCTAssertEqual(e as? DataError, .labelOutOfRange(file: path, record: 1, label: 12))
            XCTAssertEqual("\(e)", "data file \(path): record 1 has label 12, expected 0…9")
        }
    }

    func testNotEnoughRows() throws {
        try Data((0..<5).flatMap { record(label: UInt8($0), value: UInt8($0)) }).write(to: URL(fileURLWithPath: tmp + "/data_batch_1.bin"))
        try Data(record(label: 0, value: 9)).write(to: URL(fileURLWithPath: tmp + "/test_batch.bin"))
        XCTAssertThrowsError(try CIFAR10.load(directory: tmp, numTrain: 10, numVal: 2, numTest: 0)) { e in
            XCTAssertEqual("\(e)", "data folder \(tmp) holds 5 training rows but the config needs 12")
        }
        // A tiny folder works: 3 train rows, 2 val rows, mean of the train rows subtracted.
        let d = try CIFAR10.load(directory: tmp, numTrain: nil, numVal: 2, numTest: 1)
        XCTAssertEqual(d.train.count, 3)
        XCTAssertEqual(d.train.x[0], -1)   // values 0,1,2 → mean 1
        XCTAssertEqual(d.val.x[0], 2)      // value 3 − 1
        XCTAssertEqual(d.test.x[0], 8)     // value 9 − 1
        XCTAssertThrowsError(try CIFAR10.load(directory: tmp, numTrain: nil, numVal: 2, numTest: 5))
    }
}
