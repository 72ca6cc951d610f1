import XCTest
import RunnerTraining

/// Random flips and crops: correct on a hand-made image, deterministic for a seed, the
/// same for every arm of a sweep point, and no change at all when off.
final class AugmentationTests: XCTestCase {
    /// A 2-channel 3×4 image with distinct values: channel c, row y, column x = 100c + 10y + x.
    let image: [Double] = {
        var out: [Double] = []
        for c in 0..<2 { for y in 0..<3 { for x in 0..<4 { out.append(Double(100 * c + 10 * y + x)) } } }
        return out
    }()

    func shifted(_ image: [Double]? = nil, flip: Bool, dy: Int, dx: Int) -> [Double] {
        let image = image ?? self.image
        var out = [Double](repeating: -1, count: image.count)
        image.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Augmentation.shift(from: src.baseAddress!, to: dst.baseAddress!, channels: 2, height: 3, width: 4, flip: flip, dy: dy, dx: dx)
            }
        }
        return out
    }

    func testFlipAndCropOnAHandMadeImage() {
        XCTAssertEqual(shifted(flip: false, dy: 0, dx: 0), image)
        // mirrored: column x takes column 3 − x
        XCTAssertEqual(shifted(flip: true, dy: 0, dx: 0), [3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20, 103, 102, 101, 100, 113, 112, 111, 110, 123, 122, 121, 120])
        // padding 1, window one row down and one column left: out[y][x] = in[y + 1][x − 1], 0 outside
        XCTAssertEqual(shifted(flip: false, dy: 1, dx: -1), [0, 10, 11, 12, 0, 20, 21, 22, 0, 0, 0, 0, 0, 110, 111, 112, 0, 120, 121, 122, 0, 0, 0, 0])
        // flip, then the window one row up and two columns right: out[y][x] = mirrored[y − 1][x + 2]
        XCTAssertEqual(shifted(flip: true, dy: -1, dx: 2), [0, 0, 0, 0, 1, 0, 0, 0, 11, 10, 0, 0, 0, 0, 0, 0, 101, 100, 0, 0, 111, 110, 0, 0])
    }

    /// `apply` draws each image's choices in order from the generator and shifts it so.
    func testApplyUsesTheDrawnChoices() {
        let a = Augmentation(flip: true, cropPadding: 1)
        let images = [image.map { $0 + 1 }, image.map { $0 + 1001 }]
        var batch = images[0] + images[1]
        var rng = SeededGenerator(seed: 5, stream: 4), copy = rng
        var scratch: [Double] = []
        batch.withUnsafeMutableBufferPointer { a.apply(to: $0.baseAddress!, count: 2, shape: [2, 3, 4], rng: &rng, scratch: &scratch) }
        for i in 0..<2 {
            let d = a.draw(&copy)
            XCTAssert((-1...1).contains(d.dy) && (-1...1).contains(d.dx))
            let expected = shifted(images[i], flip: d.flip, dy: d.dy, dx: d.dx)
            XCTAssertEqual(Array(batch[(i * 24)..<((i + 1) * 24)]), expected, "image \(i)")
        }
    }

    /// Minibatches seen by a Solver over a few epochs.
    func batches(augment: Augmentation, dropout: Double = 0, normalization: String = "none", seed: UInt64 = 9) throws -> [[Float]] {
        let data = SyntheticData.blobs(seed: 6, numTrain: 40, numVal: 10, numTest: 0)
        var ts = TrainingSettings(numEpochs: 3, batchSize: 8)
        ts.augmentation = augment
        let net = try Network<Float>(inputShape: data.sampleShape, specs: fullyConnectedSpecs(hiddenDims: [10], numClasses: 10, normalization: normalization, dropout: dropout), seed: seed)
        let solver = Solver(network: net, optimizer: Optimizer(settings: OptimizerSettings(kind: .adam), parameters: net.parameters), data: data, settings: ts, seed: seed)
        var seen: [[Float]] = []
        solver.inspectBatch = { _, x, _ in seen.append(x.array) }
        _ = solver.train()
        return seen
    }

    func testDeterministicForASeedAndSharedAcrossArms() throws {
        let augment = Augmentation(flip: true, cropPadding: 2)
        let a = try batches(augment: augment)
        XCTAssertEqual(a.count, 15)
        XCTAssertEqual(try batches(augment: augment), a, "same seed, same batches")
        // Arms of a sweep point share the seed: another network (dropout and batchnorm draw
        // or compute differently) sees the very same augmented minibatches.
        XCTAssertEqual(try batches(augment: augment, dropout: 0.5, normalization: "batchnorm"), a)
        XCTAssertNotEqual(try batches(augment: augment, seed: 10), a)
        XCTAssertNotEqual(try batches(augment: Augmentation()), a, "augmentation changes the batches")
        // Each epoch draws from its own generator, a function of (seed, epoch) only.
        var g0 = Solver<Float>.augmentationGenerator(seed: 9, epoch: 1), g1 = Solver<Float>.augmentationGenerator(seed: 9, epoch: 1)
        XCTAssertEqual(g0.next(), g1.next())
        var g2 = Solver<Float>.augmentationGenerator(seed: 9, epoch: 2)
        XCTAssertNotEqual(g0.next(), g2.next())
    }

    /// Off (the default): the minibatches are the data rows the minibatch stream draws, untouched.
    func testNoAugmentationLeavesTheRowsUntouched() throws {
        let data = SyntheticData.blobs(seed: 6, numTrain: 40, numVal: 10, numTest: 0)
        var rows = SeededGenerator(seed: 9, stream: 2)
        let drawn: [[Float]] = (0..<15).map { _ in
            (0..<8).flatMap { _ in let i = rows.int(below: 40); return Array(data.train.x[(i * 192)..<((i + 1) * 192)]) }
        }
        XCTAssertEqual(try batches(augment: Augmentation()), drawn)
        XCTAssertEqual(try batches(augment: Augmentation(flip: false, cropPadding: 0)), drawn)
    }
}
