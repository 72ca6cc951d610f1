import Foundation
@_exported import RunnerTraining

/// A fully resolved single-trial config: every field present, defaults filled in.
public struct ExperimentConfig: Sendable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var dtype: String
    public var dataSource: String
    public var dataDir: String
    public var numTrain: Int?
    public var numVal: Int
    /// nil: every row of the test data.
    public var numTest: Int?
    /// `data.train` / `data.test` / `data.val` as written (relative paths unresolved).
    public var dataFiles: [String: DataFiles] = [:]
    public var dataLabel = "fine"
    public var labelColumn = "label"
    public var preprocess: Preprocess?
    /// What the data is (shape, classes, rows), read from its headers when the config was
    /// resolved; the error (a missing or malformed file) is kept and thrown where the shape
    /// is needed (`dataShape()`), so commands that never touch the data still work.
    public var dataShapeResult: Result<DataShape, DataError> = .failure(.missingFile("(not inspected)"))
    public var modelType: String
    public var layers: [LayerSpec]
    public var weightInit: WeightInit
    public var reg: Double
    public var loss: LossKind
    public var optimizer: OptimizerSettings
    public var training: TrainingSettings
    public var outputDir: String
    /// The resolved config as JSON (written beside each trial's results).
    public var resolved: JSON

    /// Validates `json` and fills in defaults. `defaultName` is used when `name` is absent.
    public static func resolve(_ json: JSON, defaultName: String) throws(ConfigError) -> ExperimentConfig {
        guard case .object = json else { throw .wrongType(path: "config", expected: "an object", found: json.typeName) }
        // The model section's valid keys depend on its type: check that first.
        var modelType = "fc"
        if let m = json["model"] {
            guard case .object = m else { throw .wrongType(path: "model", expected: "an object", found: m.typeName) }
            if let t = m["type"] {
                let checked = try checkValue(t, type: Schema.model[0].type, path: "model.type", isDefault: false)
                if case .string(let s) = checked { modelType = s }
            }
        }
        // So do the data section's: they depend on its source.
        var source = CIFAR10Source.name
        if let d = json["data"], d != .null {
            guard case .object = d else { throw .wrongType(path: "data", expected: "an object", found: d.typeName) }
            if let s = d["source"] {
                if case .string(let name) = try checkValue(s, type: Schema.data[0].type, path: "data.source", isDefault: false) { source = name }
            }
        }
        var resolved = try resolveSection(json, fields: Schema.top.map { f in
            f.name == "model" || f.name == "data" ? Field(f.name, .sweep, .object([]), f.doc) : f
        }, path: "")
        let model = try resolveSection(json["model"] ?? .object([]), fields: Schema.model, path: "model", modelType: modelType)
        resolved = resolved.setting(path: ["model"], to: model)
        let data = try resolveSection(json["data"].flatMap { $0 == .null ? nil : $0 } ?? .object([]), fields: Schema.data, path: "data", dataSource: source)
        try checkDataFiles(data, source: DataSources.named(source)!)
        resolved = resolved.setting(path: ["data"], to: data)
        if resolved["name"] == nil {
            do { try Schema.checkName(defaultName, path: "name") } catch {
                throw .invalidValue(path: "name", message: "is not set and the config file name \(displayString(defaultName)) is not a valid experiment name; add \"name\": \"…\" with 1–100 letters, digits, '.', '_' or '-'")
            }
            resolved = .object([("name", .string(defaultName))] + { if case .object(let p) = resolved { return p }; return [] }())
        }
        // Optimizer default learning rate depends on the type.
        let opt = resolved["optimizer"]!
        let optType = opt["type"].flatMap { if case .string(let s) = $0 { return OptimizerKind(rawValue: s) }; return nil } ?? OptimizerSettings.defaults.kind
        if case .null? = opt["learning_rate"] {
            resolved = resolved.setting(path: ["optimizer", "learning_rate"], to: .number(OptimizerSettings.defaultLearningRate(for: optType)))
        }
        return try ExperimentConfig(resolved: resolved)
    }

    init(resolved r: JSON) throws(ConfigError) {
        func str(_ j: JSON?) -> String { if case .string(let s)? = j { return s }; return "" }
        func num(_ j: JSON?) -> Double { if case .number(let x)? = j { return x }; return 0 }
        func int(_ j: JSON?) -> Int { Int(num(j)) }
        func optInt(_ j: JSON?) -> Int? { if case .number(let x)? = j { return Int(x) }; return nil }
        resolved = r
        name = str(r["name"])
        description = str(r["description"])
        seed = UInt64(num(r["seed"]))
        dtype = str(r["dtype"])
        let d = r["data"]!
        dataSource = str(d["source"]); dataDir = str(d["dir"])
        numTrain = optInt(d["num_train"]); numVal = int(d["num_val"]); numTest = optInt(d["num_test"])
        for key in ["train", "test", "val"] {
            switch d[key] {
            case .string(let p)?: dataFiles[key] = DataFiles(single: p)
            case .object(let parts)?: dataFiles[key] = DataFiles(Dictionary(uniqueKeysWithValues: parts.map { ($0.key, str($0.value)) }))
            default: break
            }
        }
        if d["label"] != nil { dataLabel = str(d["label"]) }
        if d["label_column"] != nil { labelColumn = str(d["label_column"]) }
        preprocess = Preprocess(rawValue: str(d["preprocess"]))
        let m = r["model"]!
        modelType = str(m["type"])
        let initName = str(m["init"])
        weightInit = initName == "kaiming" ? .kaiming : initName == "xavier" ? .xavier : .scale(num(m["weight_scale"]))
        reg = num(m["reg"])
        loss = try decodeChoice(m["loss"], path: "model.loss")
        let request = Self.request(dataDir, numTrain, numVal, numTest, dataFiles, dataLabel, labelColumn, preprocess)
        let sourceType = DataSources.named(dataSource) ?? CIFAR10Source.self
        dataShapeResult = Result { () throws(DataError) -> DataShape in try DataSources.inspect(sourceType, request.resolvingPaths()) }
        // The presets end in the data's class count (10 when the data cannot be read: the
        // error is reported before these layers are used).
        let numClasses = (try? dataShapeResult.get())?.numClasses ?? 10
        switch modelType {
        case "fc":
            var dims: [Int] = []
            if case .array(let xs)? = m["hidden_dims"] { dims = xs.map { int($0) } }
            layers = fullyConnectedSpecs(hiddenDims: dims, numClasses: numClasses, normalization: str(m["normalization"]), dropout: num(m["dropout"]))
        case "three_layer_convnet":
            let size = int(m["filter_size"])
            guard size % 2 == 1 else { throw .invalidValue(path: "model.filter_size", message: "must be odd so that \"same\" padding keeps the image size, got \(size)") }
            layers = threeLayerConvnetSpecs(numFilters: int(m["num_filters"]), filterSize: size, hiddenDim: int(m["hidden_dim"]), numClasses: numClasses)
        default:
            var specs: [LayerSpec] = []
            if case .array(let xs)? = m["layers"] {
                for (i, l) in xs.enumerated() {
                    // Each layer object becomes its registered kind's spec (`LayerRegistry`).
                    var arguments = LayerArguments()
                    if case .object(let pairs) = l {
                        for (k, v) in pairs { if case .number(let x) = v { arguments.values[k] = x } }
                    }
                    guard let spec = LayerRegistry.spec(named: str(l["type"]), arguments) else {
                        throw .invalidValue(path: "model.layers[\(i)].type", message: "unknown layer type \(displayString(str(l["type"])))")
                    }
                    specs.append(spec)
                }
            }
            guard !specs.isEmpty else { throw .invalidValue(path: "model.layers", message: "needs at least one layer") }
            layers = specs
        }
        let o = r["optimizer"]!
        var opt = OptimizerSettings(kind: try decodeChoice(o["type"], path: "optimizer.type"), learningRate: num(o["learning_rate"]))
        opt.momentum = num(o["momentum"]); opt.decayRate = num(o["decay_rate"])
        opt.beta1 = num(o["beta1"]); opt.beta2 = num(o["beta2"]); opt.epsilon = num(o["epsilon"])
        opt.lrDecay = num(o["lr_decay"])
        if case .number(let wd)? = o["weight_decay"] { opt.weightDecay = wd }
        let sch = o["schedule"]!
        opt.schedule.kind = try decodeChoice(sch["type"], path: "optimizer.schedule.type")
        opt.schedule.warmupEpochs = int(sch["warmup_epochs"])
        opt.schedule.stepEpochs = optInt(sch["step_epochs"])
        if case .number(let g)? = sch["gamma"] { opt.schedule.gamma = g }
        if case .array(let ms)? = sch["milestones"] { opt.schedule.milestones = ms.map { int($0) } }
        if case .number(let m)? = sch["min_lr"] { opt.schedule.minLR = m }
        optimizer = opt
        let t = r["training"]!
        var ts = TrainingSettings(numEpochs: int(t["num_epochs"]), batchSize: int(t["batch_size"]))
        if case .bool(let b)? = t["shuffle"] { ts.shuffle = b }
        ts.trainAccuracySamples = int(t["train_acc_samples"])
        ts.evalBatchSize = int(t["eval_batch_size"])
        ts.checkpointEvery = int(t["checkpoint_every"])
        let es = t["early_stopping"]!
        if let patience = optInt(es["patience"]) { ts.earlyStopping = EarlyStopping(metric: str(es["metric"]), patience: patience, minDelta: num(es["min_delta"])) }
        let aug = d["augment"]!
        if case .bool(let b)? = aug["flip"] { ts.augmentation.flip = b }
        ts.augmentation.cropPadding = int(aug["crop_padding"])
        training = ts
        outputDir = str(r["output"]?["dir"])
        try checkTrainingExtras(o)
    }

    /// Checks that involve more than one field: weight decay only for the rules that apply
    /// it, each schedule's own settings, the warm-up within training, augmentation of images.
    private func checkTrainingExtras(_ o: JSON) throws(ConfigError) {
        let rule = optimizer.kind.rule
        if case .number(let wd)? = o["weight_decay"], wd != 0, !rule.settingsUsed.contains("weight_decay") {
            let hint = rule.name == Adam.name ? "; for Adam with decoupled weight decay use \"type\": \"\(AdamW.name)\"" : "; the L2 penalty model.reg works with every rule"
            throw .invalidValue(path: "optimizer.weight_decay", message: "\(rule.name) does not apply weight_decay (\(UpdateRules.using("weight_decay")) do)\(hint)")
        }
        let s = optimizer.schedule
        if optimizer.lrDecay != 1, s.kind != .exponential {
            throw .invalidValue(path: "optimizer.lr_decay", message: "is the exponential schedule's factor; the \(s.kind) schedule does not use it (leave it at 1)")
        }
        switch s.kind {
        case .step where s.stepEpochs == nil:
            throw .invalidValue(path: "optimizer.schedule.step_epochs", message: "the step schedule needs step_epochs (epochs between two multiplications by gamma)")
        case .multistep where s.milestones.isEmpty:
            throw .invalidValue(path: "optimizer.schedule.milestones", message: "the multistep schedule needs milestones, e.g. [30, 60]")
        case .multistep where zip(s.milestones, s.milestones.dropFirst()).contains { $0 >= $1 }:
            throw .invalidValue(path: "optimizer.schedule.milestones", message: "must be increasing, got \(s.milestones)")
        case .cosine where s.minLR > optimizer.learningRate:
            throw .invalidValue(path: "optimizer.schedule.min_lr", message: "\(JSON.format(s.minLR)) is above the learning rate \(JSON.format(optimizer.learningRate)); the cosine goes from the learning rate down to min_lr")
        default: break
        }
        if s.warmupEpochs >= training.numEpochs, s.warmupEpochs > 0 {
            throw .invalidValue(path: "optimizer.schedule.warmup_epochs", message: "\(s.warmupEpochs) leaves no epoch for the schedule: training.num_epochs is \(training.numEpochs)")
        }
        let a = training.augmentation
        if a.isActive {
            let shape = inputShape
            guard shape.count == 3 else {
                throw .invalidValue(path: "data.augment", message: "flips and crops need images, but data.source \"\(dataSource)\" gives samples of shape \(shape)")
            }
            if a.cropPadding >= min(shape[1], shape[2]) {
                throw .invalidValue(path: "data.augment.crop_padding", message: "must be less than the image size \(shape[1])×\(shape[2]), got \(a.cropPadding)")
            }
        }
    }

    /// What the data is (see `dataShapeResult`); a `.data` error when it cannot be read.
    public func dataShape() throws(ConfigError) -> DataShape {
        switch dataShapeResult {
        case .success(let s): return s
        case .failure(let e): throw .data(e)
        }
    }

    /// Per-sample input shape of the data (CIFAR's 3×32×32 when the data cannot be read).
    public var inputShape: [Int] { (try? dataShapeResult.get())?.sampleShape ?? CIFAR10.imageShape }

    /// The registered reader of `data.source` (validated against `DataSources.names`).
    public var dataSourceType: any DataSource.Type { DataSources.named(dataSource) ?? CIFAR10Source.self }

    /// What this config asks of its data source (relative paths as written).
    public var dataRequest: DataRequest { Self.request(dataDir, numTrain, numVal, numTest, dataFiles, dataLabel, labelColumn, preprocess) }

    static func request(_ dir: String, _ numTrain: Int?, _ numVal: Int, _ numTest: Int?, _ files: [String: DataFiles],
                        _ label: String, _ labelColumn: String, _ preprocess: Preprocess?) -> DataRequest {
        var r = DataRequest(directory: dir, numTrain: numTrain, numVal: numVal, numTest: numTest)
        r.files = files; r.label = label; r.labelColumn = labelColumn; r.preprocess = preprocess
        return r
    }

    /// Builds the network with weights drawn from `seed`, after checking its shapes without
    /// allocating anything (`networkShapes`).
    public func makeNetwork<T: Real>(_: T.Type, seed: UInt64, context: ComputeContext = ComputeContext()) throws(ConfigError) -> Network<T> {
        _ = try networkShapes()
        do { return try Network<T>(inputShape: inputShape, specs: layers, loss: loss, reg: reg, initialization: weightInit, seed: seed, context: context) }
        catch { throw shapeError(error, try dataShape()) }
    }

    /// The network's layer shapes, parameter count and flops, inferred without building it
    /// (`inferShapes`) for the data's sample shape: a `.shape` error naming the model and the
    /// data when the layers do not fit the samples or do not end in the data's class count.
    public func networkShapes() throws(ConfigError) -> NetworkShapes {
        let data = try dataShape()
        do {
            let shapes = try inferShapes(inputShape: data.sampleShape, specs: layers)
            guard shapes.numClasses == data.numClasses else {
                throw ShapeError("the last layer gives \(shapes.numClasses) scores but the data (\(data.origin)) has \(data.numClasses) classes")
            }
            return shapes
        } catch {
            throw shapeError(error, data)
        }
    }

    private func shapeError(_ error: any Error, _ data: DataShape) -> ConfigError {
        let path = modelType == "layers" ? "model.layers" : "model"
        guard let e = error as? ShapeError else { return .shape(path: path, message: "\(error)") }
        if e.message.contains(" classes") { return .shape(path: path, message: e.message) }
        return .shape(path: path, message: e.message + "; the data (\(data.origin)) has samples of \(data.shapeText)")
    }

    /// Checks, without allocating anything, that the layer shapes fit, that a batch's
    /// activations stay within `maxTensorElements` per tensor, and that one trial (see
    /// `memoryEstimate`) fits in `memoryLimit` bytes, by default the machine's physical memory.
    public func checkShapes(memoryLimit: UInt64 = ProcessInfo.processInfo.physicalMemory) throws(ConfigError) {
        let shapes = try networkShapes()
        let rows = max(training.batchSize, training.evalBatchSize)
        do { _ = try checkedElementCount([rows, max(shapes.largestActivation, inputShape.reduce(1, *))], what: "a batch of activations") }
        catch { throw .shape(path: "training.batch_size", message: "\(error)") }
        try checkMemory(shapes, limit: memoryLimit)
    }

    /// Loads (or synthesises) the data this config asks for; relative paths resolve
    /// against the working directory.
    public func loadData(directoryOverride: String? = nil) throws -> Dataset {
        var request = dataRequest
        if let directoryOverride { request.directory = directoryOverride }
        return try DataSources.load(dataSourceType, request.resolvingPaths())
    }
}

/// Checks `data.train` / `data.test` / `data.val` against the form `source` reads (see
/// `DataFileForm`): the parts it needs, no others; `train` always, `test` unless num_test is 0.
func checkDataFiles(_ data: JSON, source: any DataSource.Type) throws(ConfigError) {
    guard let form = source.fileForm else { return }
    for key in ["train", "test", "val"] {
        let path = "data.\(key)"
        guard let v = data[key], v != .null else {
            if key == "train" || (key == "test" && data["num_test"] != .number(0)) {
                throw .invalidValue(path: path, message: "\(source.name) needs data.\(key)" + (key == "test" ? " (or num_test: 0 to run without a test split)" : "") + ": " + form.example(key))
            }
            continue
        }
        switch (form, v) {
        case (.single, .string), (.singleOrParts, .string): continue
        case (.parts(let keys), .object(let parts)), (.singleOrParts(let keys), .object(let parts)):
            for (k, _) in parts where !keys.contains(k) { throw .unknownKey(path: path, key: k, suggestion: nearest(k, in: keys)) }
            for k in keys where !parts.contains(where: { $0.key == k }) { throw .invalidValue(path: path, message: "needs \"\(k)\": " + form.example(key)) }
        default:
            throw .wrongType(path: path, expected: form.example(key), found: v.typeName)
        }
    }
}

extension DataFileForm {
    /// How a split's files are written, e.g. `{"images": "train-images.idx", "labels": …}`.
    func example(_ split: String) -> String {
        switch self {
        case .single: return "a path such as \"\(split).csv\""
        case .parts(let keys): return "an object {" + keys.map { "\"\($0)\": PATH" }.joined(separator: ", ") + "}"
        case .singleOrParts(let keys): return "a path such as \"\(split).npz\" or an object {" + keys.map { "\"\($0)\": PATH" }.joined(separator: ", ") + "}"
        }
    }
}

/// A validated choice as its enum case. Validation already checked the value against the
/// enum's cases, so failing here is a bug in the schema, reported rather than defaulted.
func decodeChoice<E: RawRepresentable>(_ j: JSON?, path: String) throws(ConfigError) -> E where E.RawValue == String {
    guard case .string(let s)? = j, let e = E(rawValue: s) else {
        throw .invalidValue(path: path, message: "internal error: \(j?.compact ?? "nothing") passed validation but is not a known \(E.self)")
    }
    return e
}

/// Reads and parses a config file (JSON with optional comments).
public func readConfigFile(_ path: String) throws(ConfigError) -> JSON {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) }
    catch {
        let reason = FileManager.default.fileExists(atPath: path) ? "not UTF-8 text" : "no such file"
        throw .unreadable(file: path, reason: reason)
    }
    do { return try JSON.parse(text) }
    catch { throw .syntax(file: path, line: error.line, column: error.column, message: error.message) }
}
