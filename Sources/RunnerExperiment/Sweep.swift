import Foundation

/// One trial of an experiment: a resolved config plus where it sits in the sweep.
public struct TrialPlan: Sendable {
    /// Position in the fixed expansion order (0-based).
    public let index: Int
    /// Arm name, nil without arms.
    public let arm: String?
    /// Values of the swept paths (grid and zip axes, then the arm's overrides), in column order.
    public let parameters: [(path: String, value: JSON)]
    public let config: ExperimentConfig
    /// Stable id: a hash of the resolved config (same trial ⇒ same id on every run and machine).
    public let id: String
    /// Seed of the trial's generators: experiment seed + sweep point (not the arm), so the
    /// arms at a point share minibatches and, where shapes agree, initial weights.
    public let seed: UInt64
    /// The sweep point (grid and zip values, in order) and repeat the seed derives from.
    public let point: [(path: String, value: JSON)]
    public let repeatIndex: Int?
    /// Readable label (`t03 batchnorm ws=1.6e-4`) and folder name under `trials/`
    /// (`t03-batchnorm-ws1.6e-4-2e505db045`), given by `TrialNames` for the whole plan.
    public internal(set) var label = ""
    public internal(set) var folderName = ""

    /// The config written into the trial's folder: the resolved config plus the sweep point
    /// and repeat (so it reproduces the trial's seed) under its own name `<name>.t<index>`,
    /// so that running it writes a new results folder and leaves the sweep's alone.
    public var reproducingConfig: JSON {
        let suffix = ".t\(index)"
        let name = String(config.name.prefix(100 - suffix.count)) + suffix
        var about = "trial \(index) of experiment \(config.name)"
        if let arm { about += " (arm \(arm))" }
        if !config.description.isEmpty { about += ": " + config.description }
        return config.resolved
            .setting(path: ["name"], to: .string(name))
            .setting(path: ["description"], to: .string(about))
            .setting(path: ["sweep_point"], to: .object(point.map { ($0.path, $0.value) }))
            .setting(path: ["repeat"], to: repeatIndex.map { .number(Double($0)) } ?? .null)
    }
}

/// The expanded experiment: base config, sweep columns and trials in order.
public struct ExperimentPlan: Sendable {
    public let name: String
    public let trials: [TrialPlan]
    /// Swept paths, each a column of summary.csv.
    public let sweptPaths: [String]
    public let outputDir: String
    public var directory: String { (outputDir as NSString).appendingPathComponent(name) }
    /// The config as written (with its sweep), recorded so `runner merge` can re-plan.
    public let source: JSON
    public let dataOverride: String?
    /// Path of the config file, for the rerun commands `merge` prints.
    public var configPath: String? = nil
    /// Early termination (`sweep.scheduler`), nil: every trial trains to the end.
    public var halving: Halving? = nil
}

extension ExperimentPlan {
    /// Checks every trial's layer shapes (see `ExperimentConfig.checkShapes`), once per
    /// distinct network and batch size: trials that differ only in, say, the weight scale
    /// or the learning rate share one check. The first failure names its trial.
    public func checkShapes() throws(ConfigError) {
        var checked = Set<String>()
        for t in trials {
            let c = t.config
            let key = c.shapeCheckKey
            guard checked.insert(key).inserted else { continue }
            do { try c.checkShapes() } catch { throw .inTrial(index: t.index, arm: t.arm, underlying: ConfigErrorBox(error)) }
        }
    }
}

/// Expansion order (documented in the README): grid axes in the order written (the first
/// varies slowest), then each zip group as one axis, then the random samples (see `SweepKinds`),
/// then repeats, then arms innermost, so
/// the arms of one sweep point are adjacent.
public enum Sweep {
    public static func plan(_ json: JSON, defaultName: String, dataOverride: String? = nil) throws(ConfigError) -> ExperimentPlan {
        guard case .object(var pairs) = json else { throw .wrongType(path: "config", expected: "an object", found: json.typeName) }
        let sweep = json["sweep"]
        if let sweep, sweep != .null, json["sweep_point"] != nil || json["repeat"] != nil {
            throw .invalidValue(path: json["sweep_point"] != nil ? "sweep_point" : "repeat",
                                message: "is written by the runner into a trial's config.json; a config with a sweep cannot set it")
        }
        pairs.removeAll { $0.key == "sweep" }
        var base = JSON.object(pairs)
        if let d = dataOverride { base = base.setting(path: ["data", "dir"], to: .string(d)) }
        // Validate the base alone first so its errors carry plain paths.
        let baseConfig = try ExperimentConfig.resolve(base, defaultName: defaultName)

        var builder = SweepBuilder(base: baseConfig.resolved)
        var arms: [(name: String, overrides: [(path: String, value: JSON)])] = []
        var repeats = 1
        var halving: Halving? = nil
        if let sweep, sweep != .null {
            guard case .object(let sp) = sweep else { throw .wrongType(path: "sweep", expected: FieldType.sweep.expectation, found: sweep.typeName) }
            let keys = SweepKinds.all.map { $0.name } + ["arms", "repeats", "scheduler"]
            for (k, _) in sp where !(keys + ["//"]).contains(k) {
                throw .unknownKey(path: "sweep", key: k, suggestion: nearest(k, in: keys))
            }
            // The axis kinds (see `SweepKinds`), in registry order.
            for kind in SweepKinds.all {
                if let spec = sweep[kind.name] { try kind.expand(spec, into: &builder) }
            }
            if let h = sweep["scheduler"], h != .null {
                halving = try Halving.parse(h, numEpochs: baseConfig.training.numEpochs)
            }
            if let r = sweep["repeats"] {
                guard case .number(let x) = r, x == x.rounded(), x >= 1, x <= 100_000 else { throw .wrongType(path: "sweep.repeats", expected: "a positive integer (at most 100000)", found: r.typeName) }
                repeats = Int(x)
            }
            if let a = sweep["arms"] {
                guard case .object(let ap) = a, !ap.isEmpty else { throw .wrongType(path: "sweep.arms", expected: "an object of \"arm name\": {\"path\": value, …}", found: a.typeName) }
                for (name, overrides) in ap where name != "//" {
                    guard name.range(of: "^[A-Za-z0-9_.-]{1,64}$", options: .regularExpression) != nil else {
                        throw .invalidValue(path: "sweep.arms", message: "arm name \(displayString(name)) may only use letters, digits, '_', '-' and '.' (at most 64)")
                    }
                    guard case .object(let op) = overrides else { throw .wrongType(path: "sweep.arms.\(name)", expected: "an object of \"path\": value", found: overrides.typeName) }
                    var list: [(path: String, value: JSON)] = []
                    for (path, v) in op where path != "//" {
                        try checkPath(path, at: "sweep.arms.\(name)", base: baseConfig.resolved)
                        if let other = builder.sweptBy[path] {
                            throw .invalidValue(path: "sweep.arms.\(name)", message: "\"\(path)\" is also swept in \(other); an arm setting it would replace every swept value (sweep it in one place only)")
                        }
                        list.append((path, v))
                        if !builder.columns.contains(path) { builder.columns.append(path) }
                    }
                    arms.append((name, list))
                }
            }
        }

        let axes = builder.axes, columns = builder.columns
        if let halving {
            // Every trial is the one trained for max_epochs; the scheduler only pauses it.
            if columns.contains("training.num_epochs") {
                throw .invalidValue(path: "sweep.scheduler", message: "decides how many epochs each trial trains; \"training.num_epochs\" cannot also be swept (set sweep.scheduler.max_epochs)")
            }
            base = base.setting(path: ["training", "num_epochs"], to: .number(Double(halving.maxEpochs)))
        }
        // Cartesian product of the axes, first axis slowest.
        let count = axes.reduce(Double(repeats) * Double(max(arms.count, 1))) { $0 * Double($1.count) }
        guard count <= 100_000 else {
            throw .invalidValue(path: "sweep", message: "expands to \(JSON.format(count)) trials; at most 100000 per experiment (split it into several configs)")
        }
        var points: [[(path: String, value: JSON)]] = [[]]
        for axis in axes { points = points.flatMap { p in axis.map { p + $0 } } }
        // A trial's config.json (no sweep) carries the point and repeat it came from.
        // (It only seeds the generators: the config's own values are used as written.)
        var recordedPoint: [(path: String, value: JSON)]? = nil, fixedRepeat: Int? = nil
        if axes.isEmpty, repeats == 1 {
            if case .object(let recorded)? = baseConfig.resolved["sweep_point"] { recordedPoint = recorded.map { ($0.key, $0.value) } }
            if case .number(let r)? = baseConfig.resolved["repeat"] { fixedRepeat = Int(r) }
        }
        var trials: [TrialPlan] = []
        var seenIDs: [String: Int] = [:]
        for point in points {
            for rep in 0..<repeats {
                let repeatIndex = repeats > 1 ? rep : fixedRepeat
                let seedPoint = recordedPoint ?? point
                let seed = trialSeed(experimentSeed: baseConfig.seed, point: seedPoint, repeatIndex: repeatIndex)
                for arm in arms.isEmpty ? [nil] : arms.map({ Optional($0) }) {
                    var j = base
                    for (p, v) in point + (arm?.overrides ?? []) {
                        if let path = ConfigPath(p) { j = j.setting(path, to: v) }
                    }
                    let index = trials.count
                    let config: ExperimentConfig
                    do { config = try ExperimentConfig.resolve(j, defaultName: defaultName) }
                    catch { throw .inTrial(index: index, arm: arm?.name, underlying: ConfigErrorBox(error)) }
                    var params = columns.map { c in (path: c, value: lookup(config.resolved, c) ?? .null) }
                    if repeats > 1 { params.append((path: "repeat", value: .number(Double(rep)))) }
                    let id = trialID(config.resolved, seed: seed)
                    if let other = seenIDs[id] {
                        throw .invalidValue(path: "sweep", message: "trials \(other) and \(index) resolve to the same config; remove the duplicate values or add \"repeats\"")
                    }
                    seenIDs[id] = index
                    trials.append(TrialPlan(index: index, arm: arm?.name, parameters: params, config: config, id: id, seed: seed,
                                            point: seedPoint, repeatIndex: repeatIndex))
                }
            }
        }
        TrialNames.assign(&trials)
        var plan = ExperimentPlan(name: baseConfig.name, trials: trials, sweptPaths: columns + (repeats > 1 ? ["repeat"] : []), outputDir: baseConfig.outputDir,
                                  source: json, dataOverride: dataOverride)
        plan.halving = halving
        return plan
    }

    /// Checks that `path` names a sweepable field. Paths into the layer list
    /// (`model.layers[i].field`) are checked against `base`: the layer must exist and have
    /// that field.
    static func checkPath(_ path: String, at where_: String, base: JSON) throws(ConfigError) {
        if path.contains("[") { return try checkLayerPath(path, at: where_, base: base) }
        guard let f = Schema.field(at: path), path.contains(".") || !["data", "model", "optimizer", "training", "output", "sweep"].contains(path) else {
            throw .unknownKey(path: where_, key: path, suggestion: nearest(path, in: Schema.allPaths))
        }
        if case .section = f.type { throw .invalidValue(path: where_, message: "\"\(path)\" is a section; sweep one of its fields, e.g. \"\(path).\((Schema.field(at: path).flatMap { if case .section(let fs) = $0.type { return fs.first?.name }; return nil }) ?? "")\"") }
        if ["name", "output.dir", "description", "sweep_point", "repeat"].contains(path) { throw .invalidValue(path: where_, message: "\"\(path)\" cannot be swept") }
    }

    static func checkLayerPath(_ text: String, at where_: String, base: JSON) throws(ConfigError) {
        guard let path = ConfigPath(text), path.segments.count == 4, path.segments[0] == .key("model"), path.segments[1] == .key("layers"),
              case .index(let i) = path.segments[2], case .key(let field) = path.segments[3] else {
            throw .invalidValue(path: where_, message: "\(displayString(text)) is not a path this config has; list indices go only in \"model.layers[i].field\"")
        }
        guard case .string("layers")? = base["model"]?["type"] else {
            throw .invalidValue(path: where_, message: "\(displayString(text)) needs model.type \"layers\" (an explicit layer list)")
        }
        guard case .array(let layers)? = base["model"]?["layers"], i < layers.count else {
            let n = { if case .array(let xs)? = base["model"]?["layers"] { return xs.count }; return 0 }()
            throw .invalidValue(path: where_, message: "\(displayString(text)): model.layers has \(n) layer\(n == 1 ? "" : "s") (indices 0–\(max(n - 1, 0)))")
        }
        guard case .string(let type)? = layers[i]["type"], let kind = LayerRegistry.kind(named: type) else {
            throw .invalidValue(path: where_, message: "\(displayString(text)): model.layers[\(i)] has no known type")
        }
        let fields = kind.fields.map(\.name)
        if field == "type" { throw .invalidValue(path: where_, message: "\(displayString(text)) cannot be swept (a layer's type decides its fields); sweep model.layers instead") }
        guard fields.contains(field) else {
            let hint = nearest(field, in: fields).map { " (did you mean \"\($0)\"?)" } ?? ""
            let has = fields.isEmpty ? "has no fields" : "has " + fields.map { "\"\($0)\"" }.joined(separator: ", ")
            throw .invalidValue(path: where_, message: "\(displayString(text)): model.layers[\(i)] is a \(type), which \(has)\(hint)")
        }
    }

    /// A list of values, or `{"logspace": [a, b, n]}` (numpy's logspace: 10^linspace(a, b, n)),
    /// or `{"linspace": [a, b, n]}`.
    static func expandValues(_ spec: JSON, path: String) throws(ConfigError) -> [JSON] {
        switch spec {
        case .array(let xs):
            guard !xs.isEmpty else { throw .invalidValue(path: path, message: "the list of values is empty") }
            return xs
        case .object(let pairs):
            guard pairs.count == 1, let (kind, arg) = pairs.first, kind == "logspace" || kind == "linspace" else {
                throw .wrongType(path: path, expected: "a list of values, {\"logspace\": [start, stop, count]} or {\"linspace\": [start, stop, count]}", found: "an object with keys \(pairs.map { "\"\($0.key)\"" }.joined(separator: ", "))")
            }
            guard case .array(let a) = arg, a.count == 3, case .number(let lo) = a[0], case .number(let hi) = a[1],
                  case .number(let n) = a[2], n == n.rounded(), n >= 1 else {
                throw .wrongType(path: "\(path).\(kind)", expected: "[start, stop, count] with a positive integer count", found: arg.typeName)
            }
            guard n <= 100_000 else { throw .invalidValue(path: "\(path).\(kind)", message: "count \(JSON.format(n)) is too large (at most 100000)") }
            let xs = linspace(lo, hi, Int(n))
            return (kind == "logspace" ? xs.map { pow(10, $0) } : xs).map { .number($0) }
        default:
            throw .wrongType(path: path, expected: "a list of values", found: spec.typeName)
        }
    }

    /// numpy.linspace: `start + i·step`, the last value exactly `stop`.
    public static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        if n == 1 { return [start] }
        let step = (stop - start) / Double(n - 1)
        return (0..<n).map { i in i == n - 1 ? stop : Double(i) * step + start }
    }

    /// Seed of a trial's generators: the experiment seed mixed with its sweep point (and
    /// repeat), so arms at one point share minibatches and initial weights.
    static func trialSeed(experimentSeed: UInt64, point: [(path: String, value: JSON)], repeatIndex: Int?) -> UInt64 {
        let key = JSON.array(point.map { .array([.string($0.path), $0.value]) } + (repeatIndex.map { [.number(Double($0))] } ?? [])).compact
        return mix64(experimentSeed ^ stableHash(key))
    }

    /// Stable id of a trial: a hash of what determines its numbers (`identity`) and its seed.
    static func trialID(_ resolved: JSON, seed: UInt64) -> String {
        let h = stableHash(identity(resolved).compact + "#seed=\(seed)")
        return String(String(h, radix: 16).leftPadded(to: 16).prefix(10))
    }

    /// The part of a resolved config that determines a trial's numbers, in a canonical form:
    /// no name, description, output or sweep point (the seed covers it); no field that equals
    /// its default (so adding a field with a default keeps every id); the data folder
    /// spelled one way (see `canonicalDataDirectory`) and left out for sources that do not read it.
    static func identity(_ resolved: JSON) -> JSON {
        func strip(_ j: JSON, _ fields: [Field]) -> JSON {
            guard case .object(let pairs) = j else { return j }
            return .object(pairs.compactMap { (k, v) in
                guard let f = fields.first(where: { $0.name == k }) else { return (k, v) }
                if v == f.defaultValue { return nil }
                if case .section(let fs) = f.type { return (k, strip(v, fs)) }
                if case .layerList = f.type, case .array(let layers) = v {
                    return (k, .array(layers.map { l in
                        guard case .string(let t)? = l["type"] else { return l }
                        return strip(l, Schema.layerFields[t] ?? [])
                    }))
                }
                return (k, v)
            })
        }
        var j = resolved
        if case .object(let pairs) = j {
            j = .object(pairs.filter { !["name", "description", "output", "sweep_point", "repeat"].contains($0.key) })
        }
        // A preprocessing spelled out that is the source's default is the default.
        if case .string(let source)? = j["data"]?["source"] ?? .string(CIFAR10Source.name), let reader = DataSources.named(source),
           case .string(let p)? = j["data"]?["preprocess"], p == reader.defaultPreprocess.rawValue {
            j = j.setting(path: ["data", "preprocess"], to: .null)
        }
        if case .string(let source)? = j["data"]?["source"], let reader = DataSources.named(source), !reader.usesDirectory {
            if case .object(let d)? = j["data"] { j = j.setting(path: ["data"], to: .object(d.filter { $0.key != "dir" })) }
        } else if case .string(let dir)? = j["data"]?["dir"] {
            j = j.setting(path: ["data", "dir"], to: .string(canonicalDataDirectory(dir)))
        }
        if case .object(let t)? = j["training"] {   // how often state is saved changes no number
            j = j.setting(path: ["training"], to: .object(t.filter { $0.key != "checkpoint_every" }))
        }
        return strip(j, Schema.top)
    }

    /// One spelling per data folder, from the text alone (never from the working directory
    /// or the disk, so the same config gives the same ids wherever it runs): "." parts,
    /// repeated and trailing "/" are dropped and "a/.." folds away; "./data/x", "data/x/" and
    /// "data//x" are one folder. A relative path stays relative, an absolute one absolute.
    static func canonicalDataDirectory(_ dir: String) -> String {
        let absolute = dir.hasPrefix("/")
        var parts: [Substring] = []
        for p in dir.split(separator: "/") where p != "." {
            if p == "..", let last = parts.last, last != ".." { parts.removeLast() }
            else if p == "..", absolute { continue }
            else { parts.append(p) }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

/// The value at a dotted path of a JSON object.
public func lookup(_ json: JSON, _ path: String) -> JSON? {
    guard let p = ConfigPath(path) else { return nil }
    return json[path: p]
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String { count >= n ? self : String(repeating: c, count: n - count) + self }
}
