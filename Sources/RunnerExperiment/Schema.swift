import Foundation

/// The single source of truth for every config field: its type, default and meaning.
/// Validation, the resolved config written beside each trial, `runner init` and
/// `runner help config` are all generated from these tables.
public indirect enum FieldType: Sendable {
    case int(min: Int)
    /// An integer ≥ min, or null meaning "all" / "automatic".
    case optionalInt(min: Int)
    /// A number in a range; bounds are exclusive when the flag is set.
    case number(min: Double?, minOpen: Bool, max: Double?, maxOpen: Bool)
    /// A positive number or null ("automatic").
    case optionalPositive
    /// A number ≥ 0 or null ("automatic").
    case optionalNonNegative
    case string
    /// Free text: any characters but control characters other than newline and tab.
    case text
    /// An experiment name: it names the results folder (see `Schema.checkName`).
    case name
    /// A file or folder path: non-empty, no control characters.
    case path
    /// The sweep point a trial config records: `{"dotted.path": value, …}` (see `Sweep`).
    case sweepPoint
    /// The files of a data split: a path, or an object of named paths (see `DataFileForm`).
    case dataFiles
    case choice([String])
    /// One of the choices, or null ("the default of the context").
    case optionalChoice([String])
    case bool
    case intList(min: Int)
    case layerList
    case section([Field])
    case sweep

    var expectation: String {
        switch self {
        case .int(let m): m == 0 ? "a non-negative integer" : m == 1 ? "a positive integer" : "an integer ≥ \(m)"
        case .optionalInt(let m): (m == 1 ? "a positive integer" : "an integer ≥ \(m)") + " or null"
        case .number: "a number"
        case .optionalPositive: "a positive number or null"
        case .optionalNonNegative: "a non-negative number or null"
        case .string, .text: "a string"
        case .name: "a name of letters, digits, '.', '_' and '-'"
        case .path: "a path"
        case .sweepPoint: "an object of \"path\": value"
        case .dataFiles: "a path or an object of paths"
        case .choice(let cs): "one of " + cs.map { "\"\($0)\"" }.joined(separator: ", ")
        case .optionalChoice(let cs): "one of " + cs.map { "\"\($0)\"" }.joined(separator: ", ") + " or null"
        case .bool: "true or false"
        case .intList(let m): m == 1 ? "a list of positive integers" : "a list of integers"
        case .layerList: "a list of layer objects"
        case .section: "an object"
        case .sweep: "an object with grid, zip, random, arms, repeats or scheduler"
        }
    }
}

public struct Field: Sendable {
    public let name: String
    public let type: FieldType
    public let defaultValue: JSON
    public let doc: String
    /// Model types the field applies to (nil: always).
    public let models: [String]?
    /// Data sources the field applies to (nil: always).
    public let sources: [String]?

    public init(_ name: String, _ type: FieldType, _ defaultValue: JSON, _ doc: String, models: [String]? = nil, sources: [String]? = nil) {
        self.name = name; self.type = type; self.defaultValue = defaultValue; self.doc = doc; self.models = models; self.sources = sources
    }

    /// "(model type fc)", "(data.source idx, npy, csv)" or "".
    public var applicability: String {
        if let models { return "model type " + models.joined(separator: ", ") }
        if let sources { return "data.source " + sources.joined(separator: ", ") }
        return ""
    }
}

public enum Schema {
    static let unit = FieldType.number(min: 0, minOpen: false, max: 1, maxOpen: true)
    static let positive = FieldType.number(min: 0, minOpen: true, max: nil, maxOpen: false)
    static let nonNegative = FieldType.number(min: 0, minOpen: false, max: nil, maxOpen: false)
    public static let modelTypes = ["fc", "three_layer_convnet", "layers"]
    /// The update rules: the optimizer's own cases, in its order.
    public static let optimizerTypes = OptimizerKind.allCases.map(\.rawValue)

    /// Sources that read files named in `data.train` / `data.test` / `data.val`.
    public static let fileSources = DataSources.all.filter { $0.fileForm != nil }.map { $0.name }
    static func sourcesReading(_ option: String) -> [String] { DataSources.all.filter { $0.options.contains(option) }.map { $0.name } }

    public static let data: [Field] = [
        Field("source", .choice(DataSources.names), .string(CIFAR10Source.name), DataSources.all.map { $0.summary }.joined(separator: "; ")),
        Field("dir", .path, .string("data/cifar10-sample"), "folder of cifar10 (data_batch_*.bin, test_batch.bin) or cifar100 (train.bin, test.bin); --data overrides it"),
        Field("train", .dataFiles, .null, "training file(s): csv: \"train.csv\"; npy: \"train.npz\" or {\"X\": PATH, \"y\": PATH}; idx: {\"images\": PATH, \"labels\": PATH}", sources: fileSources),
        Field("test", .dataFiles, .null, "test file(s), written as data.train; needed unless num_test is 0", sources: fileSources),
        Field("val", .dataFiles, .null, "validation file(s), written as data.train (null: the last num_val training rows)", sources: fileSources),
        Field("label", .choice(["fine", "coarse"]), .string("fine"), "CIFAR-100 labels: fine (100 classes) or coarse (20)", sources: sourcesReading("label")),
        Field("label_column", .string, .string("label"), "the CSV column holding the class (integers 0, 1, … or names)", sources: sourcesReading("label_column")),
        Field("preprocess", .optionalChoice(Preprocess.allCases.map(\.rawValue)), .null, "fitted on the training split: subtract_mean (mean image), standardize (per channel / feature), scale (to [0, 1]), none; null: the source's default (" + DataSources.all.map { "\($0.name) \($0.defaultPreprocess.rawValue)" }.joined(separator: ", ") + ")"),
        Field("num_train", .optionalInt(min: 1), .null, "training rows to use, taken from the start of the training split (null: all)"),
        Field("num_val", .int(min: 1), .number(1000), "validation rows: the last rows of the training data (or the first rows of data.val)"),
        Field("num_test", .optionalInt(min: 0), .number(1000), "test rows (the first rows of the test data); 0 skips the test accuracy; null: all"),
        Field("augment", .section(augment), sectionDefault(augment), "random changes to each training minibatch (images only), drawn from the trial's seed and the epoch: the arms of a sweep point see the same ones"),
    ]

    public static let augment: [Field] = [
        Field("flip", .bool, .bool(Augmentation().flip), "mirror each training image left-right with probability 1/2"),
        Field("crop_padding", .int(min: 0), .number(Double(Augmentation().cropPadding)), "pad each training image with this many zeros (the mean image, after mean subtraction) on every side and cut a random window of the original size from it (0: no crop; 4 is the usual CIFAR recipe)"),
    ]

    public static let model: [Field] = [
        Field("type", .choice(modelTypes), .string("fc"), "fc: fully connected preset; three_layer_convnet: conv-relu-pool-affine-relu-affine; layers: an explicit layer list"),
        Field("hidden_dims", .intList(min: 1), .array([.number(100), .number(100)]), "sizes of the hidden layers", models: ["fc"]),
        Field("normalization", .choice(["none"] + LayerRegistry.hiddenNormalizations), .string("none"), "normalisation after each hidden affine layer", models: ["fc"]),
        Field("dropout", unit, .number(0), "probability of dropping a hidden unit (0: no dropout)", models: ["fc"]),
        Field("num_filters", .int(min: 1), .number(32), "convolution filters", models: ["three_layer_convnet"]),
        Field("filter_size", .int(min: 1), .number(7), "odd filter size; padding keeps the image size", models: ["three_layer_convnet"]),
        Field("hidden_dim", .int(min: 1), .number(100), "units of the hidden affine layer", models: ["three_layer_convnet"]),
        Field("layers", .layerList, .array([]), "the layer stack, e.g. [{\"type\": \"affine\", \"units\": 100}, {\"type\": \"relu\"}, …]; the last layer must give num_classes scores", models: ["layers"]),
        Field("weight_scale", positive, .number(1e-2), "std of the normal initial weights (init weight_scale)"),
        Field("init", .choice(["weight_scale", "kaiming", "xavier"]), .string("weight_scale"), "weight initialisation"),
        Field("reg", nonNegative, .number(0), "L2 strength: loss += 0.5·reg·Σ‖W‖²"),
        Field("loss", .choice(LossKind.allCases.map(\.rawValue)), .string(LossKind.softmax.rawValue), "classification loss"),
    ]

    // Defaults of the optimizer and training sections come from the library's settings
    // types (`OptimizerSettings.defaults`, `TrainingSettings.defaults`): one place each.
    static let opt = OptimizerSettings.defaults
    static let train = TrainingSettings.defaults

    public static let optimizer: [Field] = [
        Field("type", .choice(optimizerTypes), .string(opt.kind.rawValue), "update rule"),
        Field("learning_rate", .optionalPositive, .null, "initial learning rate (null: \(UpdateRules.defaultLearningRates))"),
        Field("momentum", unit, .number(opt.momentum), "momentum μ; used by \(UpdateRules.using("momentum"))"),
        Field("decay_rate", unit, .number(opt.decayRate), "moving-average decay ρ of the squared gradient; used by \(UpdateRules.using("decay_rate"))"),
        Field("beta1", unit, .number(opt.beta1), "decay of the first moment; used by \(UpdateRules.using("beta1"))"),
        Field("beta2", unit, .number(opt.beta2), "decay of the second moment; used by \(UpdateRules.using("beta2"))"),
        Field("epsilon", positive, .number(opt.epsilon), "added to the denominator; used by \(UpdateRules.using("epsilon"))"),
        Field("lr_decay", .number(min: 0, minOpen: true, max: 1, maxOpen: false), .number(opt.lrDecay), "learning rate multiplier applied at the end of every epoch (the exponential schedule)"),
        Field("weight_decay", .optionalNonNegative, .null, "decoupled weight decay wd: each step first does w ← w·(1 − lr·wd) on every parameter (weights, biases, gamma, beta), then the update; unlike reg it is not added to the loss or the gradient, so momentum and Adam's moments never see it (null: \(UpdateRules.defaultWeightDecays)); used by \(UpdateRules.using("weight_decay"))"),
        Field("schedule", .section(schedule), sectionDefault(schedule), "how the learning rate changes during training"),
    ]

    public static let schedule: [Field] = [
        Field("type", .choice(Schedules.names), .string(opt.schedule.kind.rawValue), Schedules.all.map { "\($0.name): \($0.summary)" }.joined(separator: "; ")),
        Field("warmup_epochs", .int(min: 0), .number(Double(opt.schedule.warmupEpochs)), "epochs of linear warm-up in front of the schedule: the rate rises per iteration from lr/(w·iterations per epoch) to lr; the schedule then starts, counting its epochs from the end of the warm-up"),
        Field("step_epochs", .optionalInt(min: 1), .null, "epochs between two multiplications by gamma (epochs 1…k use the base rate)", models: Schedules.using("step_epochs")),
        Field("gamma", .number(min: 0, minOpen: true, max: 1, maxOpen: false), .number(opt.schedule.gamma), "factor applied at each step or milestone", models: Schedules.using("gamma")),
        Field("milestones", .intList(min: 1), .array([]), "increasing epochs after which the rate is multiplied by gamma", models: Schedules.using("milestones")),
        Field("min_lr", nonNegative, .number(opt.schedule.minLR), "the rate the cosine reaches at the end of training", models: Schedules.using("min_lr")),
    ]

    public static let training: [Field] = [
        Field("num_epochs", .int(min: 1), .number(Double(train.numEpochs)), "epochs; an epoch is max(num_train / batch_size, 1) iterations"),
        Field("batch_size", .int(min: 1), .number(Double(train.batchSize)), "rows per minibatch"),
        Field("shuffle", .bool, .bool(train.shuffle), "false: minibatches drawn with replacement (the course); true: a new permutation each epoch"),
        Field("train_acc_samples", .int(min: 1), .number(Double(train.trainAccuracySamples)), "training rows sampled for the train accuracy"),
        Field("eval_batch_size", .int(min: 1), .number(Double(train.evalBatchSize)), "rows per forward pass when measuring accuracy"),
        Field("early_stopping", .section(earlyStopping), sectionDefault(earlyStopping), "end training when a metric stops improving; the trial ends finished, the best parameters restored, the stop epoch in its record and summary message"),
        Field("checkpoint_every", .int(min: 0), .number(Double(train.checkpointEvery)), "epochs between checkpoints of the full training state in the trial folder (0: none); a rerun after a kill resumes from the last one, to the same numbers bit for bit"),
    ]

    public static let earlyStopping: [Field] = [
        Field("metric", .choice(EarlyStopping.metrics), .string("val_acc"), "the accuracy watched (higher is better)"),
        Field("patience", .optionalInt(min: 1), .null, "epochs in a row without improvement before training stops (null: no early stopping)"),
        Field("min_delta", nonNegative, .number(0), "an improvement is a value above the best so far plus min_delta"),
    ]

    /// The resolved default of a nested section (its fields' defaults, those of the first
    /// variant when fields depend on `type`): an untouched section equals its default, so it
    /// stays out of trial ids.
    static func sectionDefault(_ fields: [Field]) -> JSON {
        let variant: String? = if case .string(let t)? = fields.first(where: { $0.name == "type" })?.defaultValue { t } else { nil }
        return .object(fields.filter { f in f.models.map { m in variant.map { m.contains($0) } ?? true } ?? true }.map { ($0.name, $0.defaultValue) })
    }

    public static let output: [Field] = [
        Field("dir", .path, .string("results"), "results go to <dir>/<name>/ (relative to the working directory)"),
    ]

    public static let top: [Field] = [
        Field("name", .name, .null, "experiment name (default: the config file name): 1–100 letters, digits, '.', '_' or '-', starting with a letter, digit or '_'; results go to results/<name>/"),
        Field("description", .text, .string(""), "free text, shown by plan"),
        Field("seed", .int(min: 0), .number(0), "experiment seed; each trial's generators derive from it and the trial's sweep point"),
        Field("dtype", .choice(["float32", "float64"]), .string("float32"), "element type for training"),
        Field("data", .section(data), .object([]), "where the samples come from (paths relative to the working directory)"),
        Field("model", .section(model), .object([]), "the network"),
        Field("optimizer", .section(optimizer), .object([]), "the update rule"),
        Field("training", .section(training), .object([]), "the training loop"),
        Field("sweep", .sweep, .null, "trials to run: grid, zip, random, arms, repeats; scheduler stops bad trials early"),
        Field("output", .section(output), .object([]), "where results go"),
        Field("sweep_point", .sweepPoint, .object([]), "set by the runner in each trial's config.json: the trial's values of the swept paths, which seed its generators (with seed and repeat) so the file reproduces the trial"),
        Field("repeat", .optionalInt(min: 0), .null, "set by the runner in each trial's config.json: which repeat of its sweep point the trial is (null without repeats)"),
    ]

    /// Fields the runner writes into trial configs; `runner init` leaves them out.
    public static let trialFields: Set<String> = ["sweep_point", "repeat"]

    /// The experiment-name rule: it becomes a folder name, so it is a plain slug.
    public static func checkName(_ name: String, path: String) throws(ConfigError) {
        let ok = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
        guard !name.isEmpty, name.count <= 100, ok, let first = name.unicodeScalars.first, first != ".", first != "-" else {
            throw .invalidValue(path: path, message: "\(displayString(name)) is not a valid experiment name: use 1–100 letters, digits, '.', '_' or '-', starting with a letter, digit or '_' (it names the folder results/<name>/)")
        }
    }

    /// Parameters of each layer type in a `layers` list: the registered kinds' fields
    /// (`LayerRegistry`, each declared in its layer's file) as schema fields.
    public static let layerFields: [String: [Field]] = Dictionary(uniqueKeysWithValues: LayerRegistry.kinds.map { kind in
        (kind.name, kind.fields.map { f in
            let type: FieldType = switch f.type {
            case .int(let m): .int(min: m)
            case .optionalInt(let m): .optionalInt(min: m)
            case let .number(lo, loOpen, hi, hiOpen): .number(min: lo, minOpen: loOpen, max: hi, maxOpen: hiOpen)
            }
            return Field(f.name, type, f.defaultValue.map { .number($0) } ?? .null, f.doc)
        })
    })

    /// Every valid dotted path of a scalar field (for sweep paths and suggestions).
    public static var allPaths: [String] {
        func paths(_ fs: [Field], _ prefix: String) -> [String] {
            fs.flatMap { f -> [String] in
                if case .section(let inner) = f.type { return paths(inner, prefix + f.name + ".") }
                return f.name == "sweep" ? [] : [prefix + f.name]
            }
        }
        return paths(top, "")
    }

    public static func field(at path: String) -> Field? {
        var fields = top, found: Field? = nil
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            if found != nil { guard case .section(let fs) = found!.type else { return nil }; fields = fs }
            guard let f = fields.first(where: { $0.name == part }) else { return nil }
            found = f
        }
        return found
    }
}

// MARK: - validation and resolution

/// Checks `json` against `fields` and returns it with every applicable default filled in,
/// keys in schema order. `//` keys (notes) are accepted anywhere and dropped.
func resolveSection(_ json: JSON, fields: [Field], path: String, modelType: String? = nil, dataSource: String? = nil) throws(ConfigError) -> JSON {
    guard case .object(let pairs) = json else {
        throw .wrongType(path: path.isEmpty ? "config" : path, expected: "an object", found: json.typeName)
    }
    let applicable = fields.filter { f in
        (f.models.map { m in modelType.map { m.contains($0) } ?? true } ?? true) && (f.sources.map { s in dataSource.map { s.contains($0) } ?? true } ?? true)
    }
    for (k, _) in pairs where k != "//" && !applicable.contains(where: { $0.name == k }) {
        if let f = fields.first(where: { $0.name == k }), let models = f.models {
            let section = path.split(separator: ".").last.map(String.init) ?? path
            throw .invalidValue(path: join(path, k), message: "applies to \(section) type \(models.map { "\"\($0)\"" }.joined(separator: " or ")), not \"\(modelType ?? "")\"")
        }
        if let f = fields.first(where: { $0.name == k }), let sources = f.sources {
            throw .invalidValue(path: join(path, k), message: "applies to data.source \(sources.map { "\"\($0)\"" }.joined(separator: " or ")), not \"\(dataSource ?? "")\"")
        }
        throw .unknownKey(path: path, key: k, suggestion: nearest(k, in: applicable.map(\.name)))
    }
    var out: [(key: String, value: JSON)] = []
    for f in applicable {
        let p = join(path, f.name)
        let given = json[f.name]
        let v = try checkValue(given ?? f.defaultValue, type: f.type, path: p, isDefault: given == nil)
        if case .null = v, f.name == "name" || f.name == "sweep" { continue }
        if f.name == "name", case .string(let n) = v { try Schema.checkName(n, path: p) }
        out.append((f.name, v))
    }
    return .object(out)
}

func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a).\(b)" }

func checkValue(_ v: JSON, type: FieldType, path: String, isDefault: Bool) throws(ConfigError) -> JSON {
    func wrong() -> ConfigError {
        var found = v.typeName
        if case .string(let s) = v { found += " (\(displayString(s)))" }
        if case .number(let x) = v { found += " (\(JSON.format(x)))" }
        return .wrongType(path: path, expected: type.expectation, found: found)
    }
    switch type {
    case .int(let m):
        guard case .number(let x) = v, x == x.rounded() else { throw wrong() }
        try checkIntegerRange(x, path: path)
        guard x >= Double(m) else { throw .invalidValue(path: path, message: "must be \(type.expectation.replacingOccurrences(of: "a ", with: "")), got \(JSON.format(x))") }
        return v
    case .optionalInt(let m):
        if case .null = v { return v }
        if case .string("same") = v, path.hasSuffix(".pad") { return v }
        guard case .number(let x) = v, x == x.rounded() else { throw wrong() }
        try checkIntegerRange(x, path: path)
        guard x >= Double(m) else { throw .invalidValue(path: path, message: "must be \(m == 1 ? "positive" : "≥ \(m)"), got \(JSON.format(x))") }
        return v
    case let .number(lo, loOpen, hi, hiOpen):
        guard case .number(let x) = v else { throw wrong() }
        let tooLow = lo.map { loOpen ? x <= $0 : x < $0 } ?? false
        let tooHigh = hi.map { hiOpen ? x >= $0 : x > $0 } ?? false
        if tooLow || tooHigh {
            let range: String
            switch (lo, hi) {
            case let (l?, h?): range = "in \(loOpen ? "(" : "[")\(JSON.format(l)), \(JSON.format(h))\(hiOpen ? ")" : "]")"
            case let (l?, nil): range = l == 0 ? (loOpen ? "positive" : "non-negative") : "\(loOpen ? ">" : "≥") \(JSON.format(l))"
            default: range = "in range"
            }
            throw .invalidValue(path: path, message: "must be \(range), got \(JSON.format(x))")
        }
        return v
    case .optionalPositive, .optionalNonNegative:
        if case .null = v { return v }
        guard case .number(let x) = v else { throw wrong() }
        if case .optionalPositive = type, x <= 0 { throw .invalidValue(path: path, message: "must be positive, got \(JSON.format(x))") }
        if x < 0 { throw .invalidValue(path: path, message: "must be non-negative, got \(JSON.format(x))") }
        return v
    case .string, .name:
        if case .null = v, isDefault { return v }
        guard case .string(let s) = v else { throw wrong() }
        try checkNoControls(s, path: path, allowing: [])
        return v
    case .text:
        guard case .string(let s) = v else { throw wrong() }
        try checkNoControls(s, path: path, allowing: ["\n", "\t"])
        return v
    case .path:
        guard case .string(let s) = v else { throw wrong() }
        guard !s.isEmpty else { throw .invalidValue(path: path, message: "is empty; give a \(path.hasSuffix("dir") ? "folder" : "path")") }
        try checkNoControls(s, path: path, allowing: [])
        return v
    case .sweepPoint:
        guard case .object = v else { throw wrong() }
        return v
    case .dataFiles:
        if case .null = v { return v }
        if case .string = v { return try checkValue(v, type: .path, path: path, isDefault: false) }
        guard case .object(let parts) = v, !parts.isEmpty else { throw wrong() }
        for (k, p) in parts where k != "//" { _ = try checkValue(p, type: .path, path: join(path, k), isDefault: false) }
        return .object(parts.filter { $0.key != "//" })
    case .optionalChoice(let cs):
        if case .null = v { return v }
        return try checkValue(v, type: .choice(cs), path: path, isDefault: isDefault)
    case .choice(let cs):
        guard case .string(let s) = v else { throw wrong() }
        guard cs.contains(s) else {
            let hint = nearest(s, in: cs).map { " (did you mean \"\($0)\"?)" } ?? ""
            throw .invalidValue(path: path, message: "\(displayString(s)) is not one of \(cs.map { "\"\($0)\"" }.joined(separator: ", "))\(hint)")
        }
        return v
    case .bool:
        guard case .bool = v else { throw wrong() }
        return v
    case .intList(let m):
        guard case .array(let xs) = v else { throw wrong() }
        for (i, x) in xs.enumerated() {
            if case .number(let d) = x, d == d.rounded() { try checkIntegerRange(d, path: "\(path)[\(i)]") }
            guard case .number(let d) = x, d == d.rounded(), d >= Double(m) else {
                throw .wrongType(path: "\(path)[\(i)]", expected: m == 1 ? "a positive integer" : "an integer", found: x.typeName + { if case .number(let d) = x { return " (\(JSON.format(d)))" }; return "" }())
            }
        }
        return v
    case .layerList:
        guard case .array(let xs) = v else { throw wrong() }
        var out: [JSON] = []
        for (i, layer) in xs.enumerated() {
            let lp = "\(path)[\(i)]"
            guard case .object = layer else { throw .wrongType(path: lp, expected: "a layer object like {\"type\": \"\(ReLUKind.name)\"}", found: layer.typeName) }
            guard case .string(let t)? = layer["type"] else {
                throw .wrongType(path: "\(lp).type", expected: "a layer type (" + Schema.layerFields.keys.sorted().joined(separator: ", ") + ")", found: layer["type"]?.typeName ?? "nothing")
            }
            guard let fs = Schema.layerFields[t] else {
                let hint = nearest(t, in: Array(Schema.layerFields.keys)).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw .invalidValue(path: "\(lp).type", message: "unknown layer type \(displayString(t))\(hint)")
            }
            for f in fs where f.defaultValue == .null && !isOptional(f.type) && layer[f.name] == nil {
                throw .invalidValue(path: "\(lp).\(f.name)", message: "\(t) needs \"\(f.name)\" (\(f.doc))")
            }
            let typeField = Field("type", .string, .null, "")
            let r = try resolveSection(layer, fields: [typeField] + fs, path: lp)
            out.append(r)
        }
        return .array(out)
    case .section(let fs):
        let object: JSON = if case .null = v { .object([]) } else { v }
        // Sections whose fields depend on their "type" (optimizer.schedule): check the type first.
        var variant: String? = nil
        if fs.contains(where: { $0.models != nil }), let t = fs.first(where: { $0.name == "type" }), case .object = object {
            let checked = try checkValue(object["type"] ?? t.defaultValue, type: t.type, path: join(path, "type"), isDefault: object["type"] == nil)
            if case .string(let s) = checked { variant = s }
        }
        return try resolveSection(object, fields: fs, path: path, modelType: variant)
    case .sweep:
        return v   // checked by Sweep
    }
}

/// Strings in a config end up in file names, CSV cells and generated scripts: control
/// characters (newline, NUL, escape, …) are refused there.
func checkNoControls(_ s: String, path: String, allowing: Set<Unicode.Scalar>) throws(ConfigError) {
    guard let c = s.unicodeScalars.first(where: { isControl($0) && !allowing.contains($0) }) else { return }
    throw .invalidValue(path: path, message: "\(displayString(s)) contains the control character U+\(String(c.value, radix: 16, uppercase: true).leftPadded(to: 4)); remove it")
}

/// A string as a JSON literal (quotes, escapes), cut to 80 characters: safe to print.
public func displayString(_ s: String) -> String {
    s.count > 80 ? JSON.quote(String(s.prefix(77))).dropLast() + "…\"" : JSON.quote(s)
}

/// Integers in a config are counts and sizes: anything beyond a billion is a typo (and
/// would not fit the machine), and beyond 2⁶³ it would not even convert to `Int`.
func checkIntegerRange(_ x: Double, path: String) throws(ConfigError) {
    guard abs(x) <= 1e9 else { throw .invalidValue(path: path, message: "\(JSON.format(x)) is too large (at most 1000000000)") }
}

func isOptional(_ t: FieldType) -> Bool {
    switch t { case .optionalInt, .optionalPositive, .optionalNonNegative: return true; default: return false }
}
