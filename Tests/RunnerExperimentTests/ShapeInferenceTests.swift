import XCTest
import Foundation
import Runner

/// `inferShapes` against real networks, and the memory check `validate`, `plan` and `run`
/// make before anything is allocated.
final class ShapeInferenceTests: XCTestCase {
    static let cifar = [3, 32, 32], synth = [3, 8, 8]

    /// Layer stacks; `error` is the exact message both `Network.init` and `inferShapes` must
    /// throw (nil: the stack is valid).
    static let stacks: [(label: String, input: [Int], specs: [LayerSpec], error: String?)] = [
        ("fc preset", synth, fullyConnectedSpecs(hiddenDims: [100, 50], numClasses: 10, normalization: "none", dropout: 0), nil),
        ("fc, no hidden layer", synth, fullyConnectedSpecs(hiddenDims: [], numClasses: 10, normalization: "none", dropout: 0), nil),
        ("fc batchnorm + dropout", cifar, fullyConnectedSpecs(hiddenDims: [64, 32], numClasses: 10, normalization: "batchnorm", dropout: 0.5), nil),
        ("fc layernorm + dropout", synth, fullyConnectedSpecs(hiddenDims: [40, 30, 20], numClasses: 10, normalization: "layernorm", dropout: 0.1), nil),
        ("three_layer_convnet", cifar, threeLayerConvnetSpecs(numFilters: 8, filterSize: 7, hiddenDim: 20, numClasses: 10), nil),
        ("conv stride 2 pad 1", cifar, [.conv(filters: 4, height: 4, width: 4, stride: 2, pad: 1), .relu, .flatten, .affine(outputs: 10)], nil),
        ("conv rectangular + maxpool", synth, [.conv(filters: 5, height: 3, width: 5, stride: 1, pad: 1), .relu, .maxpool(height: 2, width: 2, stride: 2), .flatten, .affine(outputs: 10)], nil),
        ("two convs, spatial batchnorm", cifar, [.conv(filters: 6, height: 3, width: 3, stride: 1, pad: 1), .spatialBatchnorm, .relu,
                                                 .conv(filters: 4, height: 5, width: 5, stride: 1, pad: 2), .relu, .maxpool(height: 3, width: 3, stride: 1),
                                                 .affine(outputs: 16), .relu, .dropout(p: 0), .affine(outputs: 10)], nil),
        ("relu first, conv second (conv has an input gradient)", synth, [.relu, .conv(filters: 3, height: 3, width: 3, stride: 1, pad: 0), .flatten, .affine(outputs: 10)], nil),
        ("maxpool 2×4 stride 2, flatten, affine + relu last", synth, [.maxpool(height: 2, width: 4, stride: 2), .flatten, .affine(outputs: 10), .relu], nil),
        ("wrong class count (a valid network)", synth, [.affine(outputs: 7)], nil),
        ("conv larger than input", synth, [.conv(filters: 2, height: 9, width: 9, stride: 1, pad: 0), .flatten, .affine(outputs: 10)],
         "layer 1 (conv): conv: input [3, 8, 8] with filters [2, 3, 9, 9] (stride 1, pad 0) gives no valid output height: the filter is larger than the padded input"),
        ("conv with a non-integer output", cifar, [.conv(filters: 2, height: 2, width: 4, stride: 3, pad: 0), .flatten, .affine(outputs: 10)],
         "layer 1 (conv): conv: input [3, 32, 32] with filters [2, 3, 2, 4] (stride 3, pad 0) gives no valid output width: 1 + (32 + 2·0 − 4)/3 = 1 + 28/3 is not an integer"),
        ("conv stride 0", synth, [.conv(filters: 2, height: 3, width: 3, stride: 0, pad: 1), .flatten, .affine(outputs: 10)],
         "layer 1 (conv): conv needs stride ≥ 1 and pad ≥ 0, got stride 0, pad 1"),
        ("conv weight too large", synth, [.conv(filters: 100_000, height: 100, width: 100, stride: 1, pad: 50), .flatten, .affine(outputs: 10)],
         "layer 1 (conv): conv weight 100000×3×100×100 is too large (at most 1073741824 elements)"),
        ("maxpool too big", synth, [.relu, .maxpool(height: 9, width: 9, stride: 9), .flatten, .affine(outputs: 10)],
         "layer 2 (maxpool): maxpool: input [3, 8, 8] with a 9×9 window (stride 9) gives no valid output height: the window is larger than the input"),
        ("maxpool after flatten", synth, [.flatten, .maxpool(height: 2, width: 2, stride: 2), .affine(outputs: 10)],
         "layer 2 (maxpool): maxpool needs a (C, H, W) input, got [192]"),
        ("affine with no outputs", synth, [.affine(outputs: 0)], "layer 1 (affine): affine needs a positive number of outputs, got 0"),
        ("affine too large after a fused relu", synth, [.affine(outputs: 50_000), .relu, .affine(outputs: 50_000)],
         "layer 3 (affine): affine weight 50000×50000 is too large (at most 1073741824 elements)"),
        ("no layers at all", synth, [], "the last layer must produce class scores (a flat vector), got [3, 8, 8]"),
        ("last layer not flat", cifar, [.conv(filters: 2, height: 3, width: 3, stride: 1, pad: 1), .relu],
         "the last layer must produce class scores (a flat vector), got [2, 32, 32]"),
        ("batchnorm on an image", synth, [.batchnorm, .affine(outputs: 10)],
         "layer 1 (batchnorm): batchnorm needs a flat (D) input, got [3, 8, 8]; use spatial_batchnorm for images"),
        ("spatial batchnorm on a vector", synth, [.affine(outputs: 20), .spatialBatchnorm, .affine(outputs: 10)],
         "layer 2 (spatial_batchnorm): spatial_batchnorm needs a (C, H, W) input, got [20]"),
        ("layernorm on an image", synth, [.layernorm, .affine(outputs: 10)], "layer 1 (layernorm): layernorm needs a flat (D) input, got [3, 8, 8]"),
        ("dropout p = 1", synth, [.affine(outputs: 10), .dropout(p: 1)], "layer 2 (dropout): dropout p must be in [0, 1), got 1.0"),
    ]

    func testInferenceMatchesRealNetworks() {
        for (label, input, specs, error) in Self.stacks {
            let inferred = Result { try inferShapes(inputShape: input, specs: specs) }
            let built = Result { try Network<Float>(inputShape: input, specs: specs) }
            switch (inferred, built) {
            case (.success(let s), .success(let net)):
                XCTAssertNil(error, label)
                let layers = s.layers.filter { !$0.fusedIntoPrevious }
                XCTAssertEqual(s.layers.count, specs.count, label)
                XCTAssertEqual(layers.count, net.layers.count, label)
                for (k, (a, b)) in zip(layers, net.layers).enumerated() {
                    XCTAssertEqual(a.spec.kind, b.kind, "\(label), layer \(k)")
                    XCTAssertEqual(a.inputShape, b.inputShape, "\(label), layer \(k)")
                    XCTAssertEqual(a.outputShape, b.outputShape, "\(label), layer \(k)")
                    XCTAssertEqual(a.parameterCount, b.parameterCount, "\(label), layer \(k)")
                    XCTAssertEqual(a.flopsPerSample, b.flopsPerSample, "\(label), layer \(k)")
                }
                XCTAssertEqual(s.parameterCount, net.parameterCount, label)
                XCTAssertEqual(s.flopsPerSample, net.flopsPerSample, label)
                XCTAssertEqual(s.numClasses, net.numClasses, label)
                XCTAssertEqual(s.largestActivation, net.layers.map { $0.outputShape.reduce(1, *) }.max(), label)
                XCTAssertEqual(s.activationElements, net.layers.reduce(0) { $0 + $1.outputShape.reduce(1, *) }, label)
            case (.failure(let a as ShapeError), .failure(let b as ShapeError)):
                XCTAssertEqual(a.message, b.message, label)
                XCTAssertEqual(a.message, error, label)
            default:
                XCTFail("\(label): inferred \(inferred), built \(built)")
            }
        }
    }

    // MARK: - configs

    /// A synthetic-data config with the given fields spliced into its sections.
    static func config(model: String = #""hidden_dims": [10]"#, data: String = "", training: String = #""num_epochs": 10"#, top: String = "") -> String {
        #"{"name": "t", "data": {"source": "synthetic""# + (data.isEmpty ? "" : ", " + data) + "}, "
            + #""model": {"# + model + "}, "
            + #""training": {"# + training + "}"
            + (top.isEmpty ? "" : ", " + top) + "}"
    }

    static func trial(_ text: String) throws -> ExperimentConfig {
        try Sweep.plan(try JSON.parse(text), defaultName: "t").trials[0].config
    }

    /// The message of the error `checkShapes(memoryLimit:)` throws, nil when it passes.
    static func check(_ text: String, limit: Double) throws -> String? {
        do { try trial(text).checkShapes(memoryLimit: UInt64(limit)); return nil } catch { return "\(error)" }
    }

    static let twentyWide = #""hidden_dims": ["# + Array(repeating: "30000", count: 20).joined(separator: ", ") + "]"

    func testHugeModelsAreCheckedInstantlyWithTheMemoryTheyNeed() throws {
        let clock = ContinuousClock()
        var message: String?
        var elapsed = try clock.measure { message = try Self.check(Self.config(model: Self.twentyWide), limit: 64e9) }
        XCTAssertLessThan(elapsed, .seconds(1))
        // 3 × 17,106,660,010 parameters × 4 bytes (values, gradients, best copy) + 100 rows × 1,800,212 × 4 + data + history.
        XCTAssertEqual(message, "model: this trial would need about 206.0 GB of memory (parameters 68.4 GB, gradients 68.4 GB, best-model copy 68.4 GB, "
                       + "activations of 100 rows 720.1 MB, data 2.3 MB, loss history 28.8 kB); this machine has 64.0 GB")
        // The same through a plan, with the machine's own memory: fast, and an error on any machine under 200 GB.
        elapsed = try clock.measure {
            let plan = try Sweep.plan(try JSON.parse(Self.config(model: Self.twentyWide)), defaultName: "t")
            do { try plan.checkShapes() } catch {
                XCTAssertTrue("\(error)".contains("would need about 206.0 GB"), "\(error)")
            }
        }
        XCTAssertLessThan(elapsed, .seconds(1))

        // [20000, 20000]: 404 M parameters, ~4.9 GB; used to take 30 s and 3.2 GB to validate.
        let two = Self.config(model: #""hidden_dims": [20000, 20000]"#)
        elapsed = try clock.measure {
            XCTAssertNil(try Self.check(two, limit: 64e9))
            let c = try Self.trial(two)
            let m = c.memoryEstimate(try c.networkShapes())
            XCTAssertEqual(m.parameters, 4 * 404_080_010)
            XCTAssertEqual(m.gradients, m.parameters)
            XCTAssertEqual(m.bestCopy, m.parameters)
            XCTAssertEqual(m.optimizerState, 0)
            XCTAssertEqual(m.total, 4.90e9, accuracy: 0.01e9)
            XCTAssertEqual(try Self.check(two, limit: 2e9)?.hasPrefix("model: this trial would need about 4.9 GB of memory (parameters 1.6 GB, "), true)
        }
        XCTAssertLessThan(elapsed, .seconds(1))

        // ~100 GB (ten layers of 30000) with a per-tensor size that is fine: the error gives the amount.
        let ten = Self.config(model: #""hidden_dims": ["# + Array(repeating: "30000", count: 10).joined(separator: ", ") + "]")
        XCTAssertEqual(try Self.check(ten, limit: 32e9)?.hasPrefix("model: this trial would need about 97.6 GB of memory (parameters 32.4 GB, "), true)
        XCTAssertNil(try Self.check(ten, limit: 128e9))
    }

    func testDataAndHistoryAreBounded() throws {
        // 1e9 synthetic rows: 772 GB of data, a config error at validate time instead of a trap at run time.
        let rows = Self.config(data: #""num_train": 1000000000"#)
        let plan = try Sweep.plan(try JSON.parse(rows), defaultName: "t")
        XCTAssertThrowsError(try plan.checkShapes()) { e in
            XCTAssertTrue("\(e)".hasPrefix("sweep trial 0: data.num_train: this trial would need about 808.8 GB of memory ("), "\(e)")
        }
        XCTAssertEqual(try Self.check(rows, limit: 64e9)?.hasSuffix("data 780.0 GB, loss history 28.8 GB); this machine has 64.0 GB"), true)
        XCTAssertNil(try Self.check(Self.config(data: #""num_train": 1000000"#), limit: 64e9))
        // 1e9 epochs of 10 iterations: the loss history alone is 2.9 TB.
        XCTAssertEqual(try Self.check(Self.config(training: #""num_epochs": 1000000000"#), limit: 64e9)?.hasPrefix("training.num_epochs: this trial would need about 2.9 TB"), true)
        // A batch that does not fit blames the batch size.
        XCTAssertEqual(try Self.check(Self.config(model: #""hidden_dims": [100000]"#, training: #""num_epochs": 10, "batch_size": 10000"#), limit: 8e9)?
                        .hasPrefix("training.batch_size: this trial would need about 12.3 GB"), true)
    }

    func testElementSizeOptimizerStateAndData() throws {
        let base = try Self.trial(Self.config(model: #""hidden_dims": [100], "normalization": "batchnorm""#))
        let wide = try Self.trial(Self.config(model: #""hidden_dims": [100], "normalization": "batchnorm""#, top: #""dtype": "float64", "optimizer": {"type": "adam"}"#))
        let shapes = try base.networkShapes()
        let p = Double(shapes.parameterCount)
        XCTAssertEqual(shapes.parameterCount, 19_200 + 100 + 200 + 1_000 + 10)   // W1, b1, γ and β, W2, b2
        let m32 = base.memoryEstimate(shapes), m64 = wide.memoryEstimate(shapes)
        XCTAssertEqual(m32.parameters, (p + 6 * 100) * 4)       // + batchnorm running statistics and scratch
        XCTAssertEqual(m32.bestCopy, (p + 2 * 100) * 4)         // the snapshot holds the running mean and variance too
        XCTAssertEqual(m64.parameters, 2 * m32.parameters)
        XCTAssertEqual(m64.optimizerState, 2 * p * 8)           // adam: m and v
        XCTAssertEqual(m64.data, m32.data)                      // data stays Float
        XCTAssertEqual(m32.data, 3000 * 772 + 8 * 1000)           // rows × (192 Floats + a label), + the permutation
        for (kind, buffers) in [("sgd", 0.0), ("sgd_momentum", 1), ("nesterov", 1), ("rmsprop", 1), ("adagrad", 1), ("adam", 2)] {
            let c = try Self.trial(Self.config(top: #""optimizer": {"type": "\#(kind)"}"#))
            let s = try c.networkShapes()
            XCTAssertEqual(c.memoryEstimate(s).optimizerState, buffers * Double(s.parameterCount) * 4, kind)
        }
        // cifar10 rows come from the files: the sample holds 5,000 training and 1,000 test rows;
        // a folder not there yet counts as the full set (50,000 and 10,000).
        let cifar = try Self.trial(#"{"name": "t", "data": {"dir": "\#(repoRoot)/data/cifar10-sample", "num_train": 49000, "num_test": 1000000}}"#)
        XCTAssertEqual(cifar.dataRows.train, 4000)
        XCTAssertEqual(cifar.dataRows.test, 1000)
        let full = try Self.trial(#"{"name": "t", "data": {"dir": "/nonexistent/cifar", "num_train": 49000, "num_test": 1000000}}"#)
        XCTAssertEqual(full.dataRows.train, 49000)
        XCTAssertEqual(full.dataRows.test, 10000)
        // Bytes, not Floats: 50,000 stored training rows of 3,072 bytes (and the split's labels).
        let shapes32 = try full.networkShapes()
        let pixels: Double = (50_000 + 10_000) * 3072, labels: Double = 60_000 * 4, permutation: Double = 8 * 49_000, readBuffer: Double = 1000 * 3073
        XCTAssertEqual(full.memoryEstimate(shapes32).data, pixels + labels + permutation + readBuffer)
    }

    /// `plan`'s numbers come from the inference and equal those of the built network.
    func testCostEstimateMatchesTheNetwork() throws {
        let plan = try Sweep.plan(try JSON.parse(Self.config(model: #""type": "three_layer_convnet", "num_filters": 4, "hidden_dim": 20"#)), defaultName: "t")
        let t = plan.trials[0]
        let net = try t.config.makeNetwork(Float.self, seed: 0)
        let cost = try estimateCost(t)
        XCTAssertEqual(cost.parameters, net.parameterCount)
        let c = t.config, perSample = Double(net.flopsPerSample)
        let iters = Double(c.training.numEpochs * c.training.iterationsPerEpoch(numTrain: 1000))
        let expected = iters * 100 * perSample + Double(c.training.numEpochs + 1) * Double(1000 + 1000) * perSample / 3 + 1000 * perSample / 3
        XCTAssertEqual(cost.flops, expected)
        XCTAssertEqual(cost.memory, c.memoryEstimate(try c.networkShapes()))
    }

    func testWrongClassCountIsAShapeError() {
        let text = Self.config(model: #""type": "layers", "layers": [{"type": "affine", "units": 7}]"#)
        XCTAssertEqual(try Self.check(text, limit: 64e9),
                       "model.layers: layer shapes do not fit: the last layer gives 7 scores but the data (synthetic) has 10 classes")
    }

    // MARK: - fuzz

    /// Random configs over absurd sizes never trap: planning and checking either succeed or
    /// throw a `ConfigError`, and all of it is a pure computation (fast).
    func testRandomConfigsNeverTrap() {
        var rng = SeededGenerator(seed: 2024)
        func pick<T>(_ xs: [T]) -> T { xs[rng.int(below: xs.count)] }
        let sizes = [1, 2, 3, 7, 10, 64, 100, 1000, 30_000, 100_000, 1_000_000, 1_000_000_000]
        let small = [0, 1, 2, 3, 5, 8, 33, 1000, 1_000_000_000]
        func layer() -> String {
            switch rng.int(below: 9) {
            case 0: return #"{"type": "affine", "units": \#(pick(sizes))}"#
            case 1: return #"{"type": "relu"}"#
            case 2: return #"{"type": "batchnorm"}"#
            case 3: return #"{"type": "spatial_batchnorm"}"#
            case 4: return #"{"type": "layernorm"}"#
            case 5: return #"{"type": "dropout", "p": \#(pick([0, 0.3, 0.99]))}"#
            case 6: return #"{"type": "flatten"}"#
            case 7:
                let pad = pick(["", #", "pad": \#(pick(small))"#])
                let rect = pick(["", #", "height": \#(pick(sizes)), "width": \#(pick(sizes))"#])
                return #"{"type": "conv", "filters": \#(pick(sizes)), "size": \#(pick(Array(sizes.prefix(8)))), "stride": \#(pick([1, 2, 3, 1_000_000_000]))\#(pad)\#(rect)}"#
            default:
                return #"{"type": "maxpool", "size": \#(pick([1, 2, 3, 9, 1_000_000_000])), "stride": \#(pick([1, 2, 5]))}"#
            }
        }
        var outcomes = [0, 0]
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<400 {
                let model: String
                switch rng.int(below: 3) {
                case 0:
                    let dims = (0..<rng.int(below: 5)).map { _ in "\(pick(sizes))" }.joined(separator: ", ")
                    model = #""hidden_dims": [\#(dims)], "normalization": "\#(pick(["none", "batchnorm", "layernorm"]))", "dropout": \#(pick([0, 0.5]))"#
                case 1:
                    model = #""type": "three_layer_convnet", "num_filters": \#(pick(sizes)), "filter_size": \#(pick([1, 3, 7, 9, 33, 999_999_999])), "hidden_dim": \#(pick(sizes))"#
                default:
                    model = #""type": "layers", "layers": [\#((0..<(1 + rng.int(below: 6))).map { _ in layer() }.joined(separator: ", "))]"#
                }
                let source = pick(["synthetic", "cifar10"])
                let numTrain = pick(["null", "1", "1000", "1000000", "1000000000"])
                let data = #""source": "\#(source)", "num_train": \#(numTrain), "num_val": \#(pick([1, 1000, 1_000_000_000])), "num_test": \#(pick([0, 1000, 1_000_000_000]))"#
                let training = #""num_epochs": \#(pick([1, 10, 1_000_000_000])), "batch_size": \#(pick(sizes)), "eval_batch_size": \#(pick(sizes))"#
                let text = #"{"name": "f", "dtype": "\#(pick(["float32", "float64"]))", "optimizer": {"type": "\#(pick(OptimizerKind.allCases).rawValue)"}, "#
                    + #""data": {\#(data)}, "model": {\#(model)}, "training": {\#(training)}}"#
                do {
                    let plan = try Sweep.plan(try JSON.parse(text), defaultName: "f")
                    for t in plan.trials {   // shapes and sizes first, with no memory limit, then the real check
                        try t.config.checkShapes(memoryLimit: UInt64.max)
                        let cost = try estimateCost(t)
                        XCTAssertTrue(cost.flops.isFinite && cost.memory.total.isFinite && cost.parameters >= 0, text)
                    }
                    try plan.checkShapes()
                    outcomes[0] += 1
                } catch is ConfigError {
                    outcomes[1] += 1
                } catch {
                    XCTFail("\(text): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(outcomes[0], 20, "some random configs should be valid")
        XCTAssertGreaterThan(outcomes[1], 20, "some random configs should be rejected")
        XCTAssertLessThan(elapsed, .seconds(5))
    }
}
