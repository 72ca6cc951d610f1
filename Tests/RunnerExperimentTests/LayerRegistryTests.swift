import XCTest
import Runner

/// The layer registry: every layer type comes from one `LayerKind`, and the schema, the config
/// parser, the shape inference and the network all see the same set; leaky_relu (added as
/// one file) is validated, defaulted and trained like the built-in layers.
final class LayerRegistryTests: XCTestCase {
    static func config(layers: String, epochs: Int = 1) -> String {
        """
        {"name": "t", "seed": 3, "data": {"source": "synthetic", "num_train": 200, "num_val": 50, "num_test": 50},
         "model": {"type": "layers", "layers": [\(layers)], "init": "kaiming"},
         "optimizer": {"type": "adam", "learning_rate": 1e-2},
         "training": {"num_epochs": \(epochs), "batch_size": 20}}
        """
    }

    static func plan(_ text: String) throws -> ExperimentPlan {
        let plan = try Sweep.plan(try JSON.parse(text), defaultName: "t")
        try plan.checkShapes()
        return plan
    }

    static func message(_ text: String) -> String? {
        do { _ = try plan(text); return nil } catch let e as ConfigError { return e.description } catch { return "unexpected \(error)" }
    }

    func testLeakyReLUValidatesAndTrains() throws {
        let text = Self.config(layers: #"{"type": "affine", "units": 32}, {"type": "leaky_relu", "slope": 0.1}, {"type": "affine", "units": 10}"#, epochs: 5)
        let plan = try Self.plan(text)
        let trial = try XCTUnwrap(plan.trials.first)
        XCTAssertEqual(trial.config.layers, [.affine(outputs: 32), .leakyReLU(slope: 0.1), .affine(outputs: 10)])
        XCTAssertEqual(trial.config.layers.map(\.kind), ["affine", "leaky_relu", "affine"])
        let resolved = try XCTUnwrap(trial.config.resolved["model"]?["layers"])
        guard case .array(let ls) = resolved else { return XCTFail("layers: \(resolved)") }
        XCTAssertEqual(ls[1]["slope"], .number(0.1))

        let shapes = try trial.config.networkShapes()
        XCTAssertEqual(shapes.layers.map(\.fusedIntoPrevious), [false, false, false], "only relu fuses into an affine")
        XCTAssertEqual(shapes.layers[1].outputShape, [32])
        XCTAssertEqual(shapes.layers[1].parameterCount, 0)
        XCTAssertEqual(shapes.layers[1].memory(batch: 20).perRow, 64, "output and input gradient")
        let net = try trial.config.makeNetwork(Float.self, seed: trial.seed)
        XCTAssertEqual(net.layers.map(\.kind), ["affine", "leaky_relu", "affine"])
        XCTAssertEqual(shapes.flopsPerSample, net.flopsPerSample)
        XCTAssertEqual(shapes.parameterCount, net.parameterCount)

        let result = runTrial(trial, data: try trial.config.loadData())
        XCTAssertEqual(result.status, .finished, result.message)
        XCTAssertTrue(result.losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(result.losses.last!, result.losses.first!)
        XCTAssertGreaterThan(result.bestValAccuracy, 0.3, "synthetic blobs are easy")
    }

    func testLeakyReLUSlopeDefaultAndRange() throws {
        let plan = try Self.plan(Self.config(layers: #"{"type": "affine", "units": 16}, {"type": "leaky_relu"}, {"type": "affine", "units": 10}"#))
        XCTAssertEqual(plan.trials[0].config.layers[1], .leakyReLU(slope: 0.01))
        XCTAssertEqual(Self.message(Self.config(layers: #"{"type": "leaky_relu", "slope": 2}, {"type": "affine", "units": 10}"#)),
                       "model.layers[0].slope: must be in [0, 1], got 2")
        XCTAssertEqual(Self.message(Self.config(layers: #"{"type": "leaky_relu", "p": 0.5}, {"type": "affine", "units": 10}"#)),
                       "model.layers[0]: unknown key \"p\"")
    }

    func testUnknownLayerIsAConfigError() {
        XCTAssertEqual(Self.message(Self.config(layers: #"{"type": "leaky", "slope": 0.1}, {"type": "affine", "units": 10}"#)),
                       #"model.layers[0].type: unknown layer type "leaky" (did you mean "leaky_relu"?)"#)
        XCTAssertNil(LayerRegistry.spec(named: "leaky"))
        XCTAssertNil(LayerRegistry.kind(named: ""))
    }

    /// One registry: unique names, the schema's layer fields are exactly the kinds' fields,
    /// and each kind's defaults parse into a spec of that kind.
    func testSchemaAndSpecsComeFromTheRegistry() throws {
        let names = LayerRegistry.names
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(Set(Schema.layerFields.keys), Set(names))
        XCTAssertTrue(names.contains("leaky_relu"))
        for kind in LayerRegistry.kinds {
            let fields = try XCTUnwrap(Schema.layerFields[kind.name])
            XCTAssertEqual(fields.map(\.name), kind.fields.map(\.name), kind.name)
            XCTAssertEqual(fields.map(\.doc), kind.fields.map(\.doc), kind.name)
            var defaults: [String: Double] = [:]
            for f in kind.fields { defaults[f.name] = f.defaultValue ?? 1 }
            let spec = try XCTUnwrap(LayerRegistry.spec(named: kind.name, LayerArguments(defaults)))
            XCTAssertEqual(spec.kind, kind.name)
        }
        XCTAssertTrue(configReference().contains("  leaky_relu: slope=0.01"))
    }

    /// Running statistics are buffers: snapshot/restore carry them after the parameters,
    /// found through `Layer.buffers`, not by layer type.
    func testSnapshotCarriesBuffers() throws {
        let net = try Network<Double>(inputShape: [3, 4, 4], specs: [.conv(filters: 2, height: 3, width: 3, stride: 1, pad: 1), .spatialBatchnorm,
                                                                     .leakyReLU(), .flatten, .affine(outputs: 6), .batchnorm, .affine(outputs: 3)],
                                      initialization: .kaiming, seed: 1)
        XCTAssertEqual(net.buffers.count, 4)
        XCTAssertEqual(net.buffers.map(\.count), [2, 2, 6, 6])
        let s = net.snapshot()
        XCTAssertEqual(s.count, net.parameters.count + 4)
        let x = Tensor<Double>(shape: [5, 3, 4, 4], values: (0..<240).map { Double($0 % 7) - 3 })
        _ = net.forward(x, mode: .train)
        XCTAssertNotEqual(net.snapshot(), s, "training mode updates the running statistics")
        net.restore(s)
        XCTAssertEqual(net.snapshot(), s)
    }
}
