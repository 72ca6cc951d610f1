import Foundation

/// A finished trial's best parameters as saved in its folder:
///
/// - `model.safetensors`: every parameter (`W1`, `b1`, `gamma1`, `beta1`, …, as
///   `Network.namedParameters`), every buffer under its own name (`running_mean1`,
///   `running_var1`), in the trial's dtype (F32 or F64), and the input preprocessing fitted
///   on the training split: `preprocess.mean` (F32, the input shape: subtracted from each raw
///   row, e.g. the mean image) and `preprocess.scale` (F32: then multiplied, `standardize`
///   and `scale`), each when the data's preprocessing has it;
/// - `model.json`: what rebuilds the network without the sweep: input shape, class names,
///   dtype, the layer list (type, shapes and the tensors of each layer) and the trial's full
///   config (`config`: the same as its config.json; its `model` section is the recipe).
public struct SavedModel: Sendable {
    public static let weightsFile = "model.safetensors"
    public static let descriptionFile = "model.json"
    /// The input preprocessing tensor: the value subtracted from each raw input feature.
    public static let meanTensor = "preprocess.mean"
    /// The input preprocessing tensor: the factor each shifted raw input feature is multiplied by.
    public static let scaleTensor = "preprocess.scale"
    public static let format = "runner model 1"

    public var tensors: [SafeTensor]
    public var description: JSON

    /// The network's current parameters and buffers (call it once the best ones are restored).
    public init<T: Real>(network: Network<T>, trial: TrialPlan, data: Dataset) {
        let named = network.namedTensors
        tensors = named.map { SafeTensor(name: $0.name, shape: $0.tensor.shape, values: $0.tensor.array) }
        let d = network.inputShape.reduce(1, *)
        let mean = data.train.transform.shift.flatMap { $0.count == d ? $0 : nil }
        let scale = data.train.transform.scale.flatMap { $0.count == d ? $0 : nil }
        if let mean { tensors.append(SafeTensor(name: SavedModel.meanTensor, shape: network.inputShape, values: mean)) }
        if let scale { tensors.append(SafeTensor(name: SavedModel.scaleTensor, shape: network.inputShape, values: scale)) }
        // One entry per spec of the layer list, with the tensors of the layer built for it
        // (a relu fused into the affine before it has none).
        var layers: [JSON] = []
        var next = 0
        var built = network.layers.makeIterator()
        if let shapes = try? inferShapes(inputShape: network.inputShape, specs: trial.config.layers) {
            for l in shapes.layers {
                var count = 0
                if !l.fusedIntoPrevious, let layer = built.next() { count = layer.parameters.count + layer.buffers.count }
                let names = named[next..<min(next + count, named.count)].map { JSON.string($0.name) }
                next += count
                var fields: [(key: String, value: JSON)] = [
                    ("type", .string(l.spec.kind)), ("input_shape", intArray(l.inputShape)), ("output_shape", intArray(l.outputShape)),
                    ("tensors", .array(names)),
                ]
                if l.fusedIntoPrevious { fields.append(("applied_by_previous_layer", .bool(true))) }
                layers.append(.object(fields))
            }
        }
        let classes = data.classNames.count == network.numClasses ? data.classNames : (0..<network.numClasses).map(String.init)
        description = .object([
            ("format", .string(SavedModel.format)),
            ("weights", .string(SavedModel.weightsFile)),
            ("dtype", .string(trial.config.dtype)),
            ("input_shape", intArray(network.inputShape)),
            ("classes", .array(classes.map { .string($0) })),
            ("input_mean", mean == nil ? .null : .string(SavedModel.meanTensor)),
            ("input_scale", scale == nil ? .null : .string(SavedModel.scaleTensor)),
            ("parameters", .array(named.filter { !$0.isBuffer }.map { .string($0.name) })),
            ("buffers", .array(named.filter(\.isBuffer).map { .string($0.name) })),
            ("layers", .array(layers)),
            ("trial", .object([("experiment", .string(trial.config.name)), ("index", .number(Double(trial.index))), ("id", .string(trial.id))])),
            ("config", trial.reproducingConfig),
        ])
    }

    /// The bytes of `model.safetensors` (metadata: format, dtype).
    public var safetensors: Data {
        var dtype = "float32"
        if case .string(let d)? = description["dtype"] { dtype = d }
        return SafeTensors.encode(tensors, metadata: [("format", "runner"), ("dtype", dtype)])
    }
}

func intArray(_ xs: [Int]) -> JSON { .array(xs.map { .number(Double($0)) }) }

/// A saved model that does not load: the file and what is wrong with it.
public struct ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let problem: String
    public init(file: String, _ problem: String) { self.file = file; self.problem = problem }
    public var description: String { "\(file): \(problem)" }
}

/// A saved model loaded back (`model.json` + `model.safetensors` of a trial folder): the
/// network rebuilt from the description with the saved tensors, ready to classify rows.
public final class LoadedModel: @unchecked Sendable {
    public let dtype: String
    public let inputShape: [Int]
    public let classNames: [String]
    /// Subtracted from each raw input row (`preprocess.mean`), when the model has it.
    public let inputMean: [Float]?
    /// Then multiplied with it (`preprocess.scale`), when the model has it.
    public let inputScale: [Float]?
    /// The trial's config (from model.json): data section, eval batch size.
    public let config: ExperimentConfig
    private let run: @Sendable ([Float], Int, Bool) -> (predicted: [Int32], probabilities: [Double])

    /// Loads the model of the trial folder `directory` (`shown` is how messages name it).
    /// Every problem is a `ModelError` or `SafeTensorsError` naming the file.
    public init(directory: String, shown: String? = nil) throws {
        let shownDir = shown ?? directory
        func path(_ f: String) -> String { (directory as NSString).appendingPathComponent(f) }
        func display(_ f: String) -> String { (shownDir as NSString).appendingPathComponent(f) }
        let descFile = display(SavedModel.descriptionFile)
        for f in [SavedModel.descriptionFile, SavedModel.weightsFile] where pathKind(path(f)) == .missing {
            throw ModelError(file: display(f), "no such file (a trial folder has a saved model once the trial has finished)")
        }
        guard let text = try? String(contentsOfFile: path(SavedModel.descriptionFile), encoding: .utf8) else {
            throw ModelError(file: descFile, "cannot be read as UTF-8 text")
        }
        let d: JSON
        do { d = try JSON.parse(text) } catch { throw ModelError(file: descFile, "not JSON (line \(error.line), column \(error.column): \(error.message))") }
        guard case .string(SavedModel.format)? = d["format"] else {
            throw ModelError(file: descFile, "not a model description written by runner (expected \"format\": \"\(SavedModel.format)\")")
        }
        func ints(_ key: String) throws -> [Int] {
            guard case .array(let xs)? = d[key], !xs.isEmpty else { throw ModelError(file: descFile, "\(key) is missing or not a list of sizes") }
            return try xs.map { x in
                guard case .number(let v) = x, v >= 1, v == v.rounded(), v <= Double(maxTensorElements) else {
                    throw ModelError(file: descFile, "\(key) holds \(x.compact), not a positive size")
                }
                return Int(v)
            }
        }
        let shape = try ints("input_shape")
        guard case .string(let dtype)? = d["dtype"], dtype == "float32" || dtype == "float64" else {
            throw ModelError(file: descFile, "dtype must be \"float32\" or \"float64\"")
        }
        guard case .array(let names)? = d["classes"] else { throw ModelError(file: descFile, "classes is missing or not a list") }
        let classNames = try names.map { n in
            guard case .string(let s) = n else { throw ModelError(file: descFile, "classes holds \(n.compact), not a name") }
            return s
        }
        guard let configJSON = d["config"] else { throw ModelError(file: descFile, "config is missing") }
        let config: ExperimentConfig
        do { config = try ExperimentConfig.resolve(configJSON, defaultName: "model") }
        catch { throw ModelError(file: descFile, "its config is not valid: \(error)") }

        let (tensors, _) = try SafeTensors.read(path(SavedModel.weightsFile), shownAs: display(SavedModel.weightsFile))
        let weightsFile = display(SavedModel.weightsFile)
        var byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func preprocessing(_ name: String) throws -> [Float]? {
            guard let m = byName.removeValue(forKey: name) else { return nil }
            guard m.shape == shape, m.dtype == .F32 else {
                throw ModelError(file: weightsFile, "\(name) must be F32 of the input shape \(shape), got \(m.dtype.rawValue) \(m.shape)")
            }
            return m.values(as: Float.self)
        }
        let mean = try preprocessing(SavedModel.meanTensor), scale = try preprocessing(SavedModel.scaleTensor)
        let expected = SafeTensorDType(configName: dtype)
        let specs = config.layers, loss = config.loss, classCount = classNames.count, batch = config.training.evalBatchSize

        func build<T: Real>(_: T.Type) throws -> @Sendable ([Float], Int, Bool) -> (predicted: [Int32], probabilities: [Double]) {
            let net: Network<T>
            do { net = try Network<T>(inputShape: shape, specs: specs, loss: loss) }
            catch { throw ModelError(file: descFile, "the network does not build: \(error)") }
            guard net.numClasses == classCount else {
                throw ModelError(file: descFile, "the network gives \(net.numClasses) class scores but classes names \(classCount)")
            }
            for (name, t, _) in net.namedTensors {
                guard let saved = byName.removeValue(forKey: name) else { throw ModelError(file: weightsFile, "has no tensor \(name), which the network needs") }
                guard saved.shape == t.shape else { throw ModelError(file: weightsFile, "tensor \(name) has shape \(saved.shape) but the network's is \(t.shape)") }
                guard saved.dtype == expected else { throw ModelError(file: weightsFile, "tensor \(name) is \(saved.dtype.rawValue) but the model is \(dtype) (\(expected.rawValue))") }
                let values = saved.values(as: T.self)
                values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }
            }
            if let extra = byName.keys.sorted().first { throw ModelError(file: weightsFile, "has a tensor \(displayString(extra)) that the network does not have") }
            return { x, rows, probabilities in classifyRows(net, x: x, rows: rows, batch: batch, probabilities: probabilities) }
        }
        run = dtype == "float64" ? try build(Double.self) : try build(Float.self)
        self.dtype = dtype; self.inputShape = shape; self.classNames = classNames; self.inputMean = mean; self.inputScale = scale; self.config = config
    }

    /// Predicted classes (and softmax probabilities, `rows × classes`, when asked) of `rows`
    /// prepared rows `x` (`rows × inputShape`, preprocessing applied).
    public func classify(_ x: [Float], rows: Int, probabilities: Bool = false) -> (predicted: [Int32], probabilities: [Double]) {
        run(x, rows, probabilities)
    }

    /// The confusion matrix on `split` (whose rows are prepared as the model's training rows were).
    public func confusion(on split: Split) -> ConfusionMatrix {
        ConfusionMatrix(labels: split.y, predicted: classify(split.x, rows: split.count).predicted, classes: classNames.count)
    }

    /// Raw input rows (e.g. pixel bytes) made into model inputs as they were in training:
    /// minus `inputMean`, times `inputScale`, each when the model has it.
    public func prepare(raw: [UInt8], rows: Int) -> [Float] {
        let d = inputShape.reduce(1, *)
        var x = [Float](repeating: 0, count: rows * d)
        for r in 0..<rows {
            for j in 0..<d { x[r * d + j] = (Float(raw[r * d + j]) - (inputMean?[j] ?? 0)) * (inputScale?[j] ?? 1) }
        }
        return x
    }
}
