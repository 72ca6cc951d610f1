/// The layer registry: every layer type a config can name, each described by one `LayerKind`
/// declared in the layer's own file (config name, config fields, spec parsing, shape rule,
/// parameter count, flops, memory kept, construction). `LayerSpec`, the fc and convnet
/// presets, `Network.init`, `inferShapes`, the memory estimate and the config schema all go
/// through here, so no other code lists or switches over layer names.
///
/// Adding a layer: write its file (the `Layer` class and its `LayerKind`) and add the kind to
/// `LayerRegistry.kinds` below. Swift has no load-time hook (static initialiser) a file could
/// use to register itself, so that one line is the registration.

/// A parameter of a layer type in a config's `layers` list. RunnerExperiment's
/// `Schema.layerFields` turns these into schema `Field`s (type, default, doc), so validation,
/// `runner help config` and the resolved config come from the same declaration.
public struct LayerField: Sendable {
    public enum ValueType: Sendable, Equatable {
        /// An integer ≥ min.
        case int(min: Int)
        /// An integer ≥ min, or null (the layer derives a value; see the field's doc).
        case optionalInt(min: Int)
        /// A number in a range; bounds are exclusive when the flag is set.
        case number(min: Double?, minOpen: Bool, max: Double?, maxOpen: Bool)
    }
    public let name: String
    public let type: ValueType
    /// nil: null — the field is required unless its type is optional.
    public let defaultValue: Double?
    public let doc: String

    public init(_ name: String, _ type: ValueType, _ defaultValue: Double?, _ doc: String) {
        self.name = name; self.type = type; self.defaultValue = defaultValue; self.doc = doc
    }

    /// A probability-like number in [0, 1).
    public static let unitInterval = ValueType.number(min: 0, minOpen: false, max: 1, maxOpen: true)
}

/// The numeric fields of one validated layer object (defaults filled in), by name; null,
/// absent and string values (conv's `"pad": "same"`) read as nil.
public struct LayerArguments: Sendable, Equatable {
    public var values: [String: Double]
    public init(_ values: [String: Double] = [:]) { self.values = values }
    public func number(_ name: String) -> Double { values[name] ?? 0 }
    public func int(_ name: String) -> Int { Int(number(name)) }
    public func optionalInt(_ name: String) -> Int? { values[name].map { Int($0) } }
}

/// Where a layer sits in a network, as its rules see it (per-sample shapes).
public struct LayerInput: Sendable, Equatable {
    public let shape: [Int]
    /// The network's first layer computes no gradient for its input.
    public let isFirst: Bool
    /// The layer also applies the next spec (see `LayerKind.fuses(with:)`).
    public let fusesNext: Bool

    public init(shape: [Int], isFirst: Bool, fusesNext: Bool = false) {
        self.shape = shape; self.isFirst = isFirst; self.fusesNext = fusesNext
    }

    /// Input elements per sample.
    public var count: Int { shape.reduce(1, *) }
    /// Elements per sample of the input gradient the layer keeps (0 for the first layer).
    public var gradientCount: Int { isFirst ? 0 : count }
}

/// What the layer built for a `LayerInput` would report, worked out without allocating.
public struct LayerShape: Sendable, Equatable {
    public let outputShape: [Int]
    public let parameterCount: Int
    /// As the built layer's `flopsPerSample` reports it.
    public let flopsPerSample: Int

    public init(outputShape: [Int], parameterCount: Int = 0, flopsPerSample: Int) {
        self.outputShape = outputShape; self.parameterCount = parameterCount; self.flopsPerSample = flopsPerSample
    }
}

/// Elements (not bytes) a built layer holds, for the memory estimate.
public struct LayerMemory: Sendable, Equatable {
    /// Per batch row: outputs, saved intermediates, masks and the input gradient.
    public var perRow = 0
    /// Whole-batch scratch that is not per row (conv's im2col buffers).
    public var scratch = 0
    /// Non-trainable tensors saved with the parameters (`Layer.buffers`: running statistics);
    /// the best-model copy holds them too.
    public var buffers = 0
    /// Other fixed per-layer state (per-channel statistics of the last batch, scratch).
    public var state = 0

    public init(perRow: Int = 0, scratch: Int = 0, buffers: Int = 0, state: Int = 0) {
        self.perRow = perRow; self.scratch = scratch; self.buffers = buffers; self.state = state
    }
}

/// How weight matrices are initialised (biases 0, γ 1, β 0 always).
public enum WeightInit: Equatable, Sendable {
    /// `W = scale · N(0, 1)` (the course's `weight_scale`).
    case scale(Double)
    /// `W = √(2/fan_in) · N(0, 1)`.
    case kaiming
    /// `W = √(2/(fan_in + fan_out)) · N(0, 1)`.
    case xavier

    func std(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .scale(let s): s
        case .kaiming: (2.0 / Double(fanIn)).squareRoot()
        case .xavier: (2.0 / Double(fanIn + fanOut)).squareRoot()
        }
    }
}

/// What `Network.init` hands each `LayerKind.makeLayer`: the weight generator shared by all
/// layers (stream 1 of the seed, drawn in layer order) and the spec's position, from which
/// layers with their own generator (dropout) derive its seed.
public struct LayerBuilder {
    public let seed: UInt64
    public let initialization: WeightInit
    /// 0-based index of the spec being built in the spec list.
    public var index = 0
    /// The run's compute context, handed to layers whose kernels use it.
    public let context: ComputeContext
    private var rng: SeededGenerator

    public init(seed: UInt64, initialization: WeightInit, context: ComputeContext = ComputeContext()) {
        self.seed = seed
        self.initialization = initialization
        self.context = context
        rng = SeededGenerator(seed: seed, stream: 1)
    }

    /// `t[i] = std · N(0, 1)` in order, with `std` from the initialisation and the fans.
    public mutating func fillWeights<T: Real>(_ t: Tensor<T>, fanIn: Int, fanOut: Int) {
        let std = initialization.std(fanIn: fanIn, fanOut: fanOut)
        for i in 0..<t.count { t[i] = T(std * rng.normal()) }
    }
}

/// One layer type: its config name and fields, and its parsed parameters (an instance is
/// one entry of a layer list). Shape rules throw a `ShapeError` without the `layer N (kind): `
/// prefix, which the network adds.
public protocol LayerKind: Sendable, Equatable {
    /// Config name (`"type"` in a layer object); unique in the registry.
    static var name: String { get }
    /// Config fields besides `type` (default none).
    static var fields: [LayerField] { get }
    /// Whether the fc preset offers it as `model.normalization` (default false).
    static var normalizesHiddenFeatures: Bool { get }
    /// The spec of a validated layer object (every field of `fields` present or defaulted).
    init(_ arguments: LayerArguments)
    /// True when the layer built for this spec also applies `next` (affine + relu), so
    /// `next` gets no layer of its own. Default false.
    func fuses(with next: LayerSpec) -> Bool
    /// Output shape, parameters and flops for `input`, or the `ShapeError` the layer's
    /// initialiser would throw.
    func infer(_ input: LayerInput) throws -> LayerShape
    /// Elements the built layer keeps; `batch` is the largest batch it will see. Default:
    /// its output and its input gradient per row.
    func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory
    /// The layer object, its weights drawn from `builder`.
    func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T>
}

extension LayerKind {
    public static var fields: [LayerField] { [] }
    /// Whether the fc preset offers it as `model.normalization` (after each hidden affine layer).
    public static var normalizesHiddenFeatures: Bool { false }
    public func fuses(with next: LayerSpec) -> Bool { false }
    public func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory {
        LayerMemory(perRow: outputShape.reduce(1, *) + input.gradientCount)
    }
    fileprivate func isEqual(to other: any LayerKind) -> Bool { (other as? Self) == self }
}

/// One entry of a network's layer list, as a config describes it (before shapes are known):
/// a registered kind with its parameters. Each layer file adds a factory
/// (`.affine(outputs:)`, `.relu`, …).
public struct LayerSpec: Equatable, Sendable, CustomStringConvertible {
    public let definition: any LayerKind

    public init(_ definition: some LayerKind) { self.definition = definition }

    /// Config name of the layer type.
    public var kind: String { type(of: definition).name }
    /// The kind's parameters, e.g. `AffineKind(outputs: 100)` (distinct specs print differently).
    public var description: String { String(describing: definition) }

    public static func == (a: LayerSpec, b: LayerSpec) -> Bool { a.definition.isEqual(to: b.definition) }
}

public enum LayerRegistry {
    /// Every layer type, in the order `runner help config` lists them. THE registration list.
    public static let kinds: [any LayerKind.Type] = [
        AffineKind.self, ReLUKind.self, LeakyReLUKind.self, BatchNormKind.self, SpatialBatchNormKind.self,
        LayerNormKind.self, DropoutKind.self, FlattenKind.self, ConvKind.self, MaxPoolKind.self,
    ]

    /// The layer types the fc preset can normalise with (`model.normalization`), in order.
    public static var hiddenNormalizations: [String] { kinds.filter { $0.normalizesHiddenFeatures }.map { $0.name } }

    private static let byName: [String: any LayerKind.Type] = {
        var d: [String: any LayerKind.Type] = [:]
        for k in kinds {
            precondition(d[k.name] == nil, "two layer kinds are registered as \"\(k.name)\"")
            d[k.name] = k
        }
        return d
    }()

    /// Config names of every registered layer type.
    public static var names: [String] { kinds.map { $0.name } }

    /// The kind registered under `name`, or nil.
    public static func kind(named name: String) -> (any LayerKind.Type)? { byName[name] }

    /// The spec of a validated layer object of type `name`, or nil when no layer has that name.
    public static func spec(named name: String, _ arguments: LayerArguments = LayerArguments()) -> LayerSpec? {
        guard let k = byName[name] else { return nil }
        return LayerSpec(k.init(arguments))
    }
}
