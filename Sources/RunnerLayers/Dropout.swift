/// dropout (inverted): `p` is the probability of dropping a unit. Train:
/// `mask = [u < 1 − p]/(1 − p)`, `y = x·mask`; test: identity. Backward `dx = dout·mask`. O(N·D).
/// Masks come from the layer's own seeded generator (`reseed`), so a trial's masks do not
/// depend on anything else that draws random numbers.
public final class Dropout<T: Real>: Layer {
    public let kind = DropoutKind.name
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let p: Double
    public var needsInputGradient = true
    public var rng: SeededGenerator
    private let output = Tensor<T>(shape: [0]), mask = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])
    private var lastMode = Mode.test

    public init(inputShape: [Int], p: Double, seed: UInt64 = 0) throws {
        try Dropout.check(p: p)
        self.inputShape = inputShape
        self.p = p
        rng = SeededGenerator(seed: seed)
    }

    /// The layer's rule (shared with `inferShapes`): `p` must be in [0, 1).
    public static func check(p: Double) throws {
        guard p >= 0, p < 1 else { throw ShapeError("dropout p must be in [0, 1), got \(p)") }
    }

    public static func flopsPerSample(inputShape: [Int]) -> Int { 3 * inputShape.reduce(1, *) }

    public var flopsPerSample: Int { Dropout.flopsPerSample(inputShape: inputShape) }

    public var randomState: SeededGenerator? {
        get { rng }
        set { if let r = newValue { rng = r } }
    }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        lastMode = mode
        guard mode == .train, p > 0 else { return x }
        output.resize(x.shape); mask.resize(x.shape)
        dropoutMask(count: x.count, p: p, rng: &rng, mask: mask.data)
        multiply(count: x.count, x: x.data, y: mask.data, z: output.data)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        guard lastMode == .train, p > 0 else { return dout }
        dx.resize(dout.shape)
        multiply(count: dout.count, x: dout.data, y: mask.data, z: dx.data)
        return dx
    }
}

/// dropout in a layer list: `{"type": "dropout", "p": 0.5}`. Layer k of the list (0-based)
/// draws its masks from `mix64(seed ^ (100 + k))`.
public struct DropoutKind: LayerKind {
    public static let name = "dropout"
    public static let fields = [LayerField("p", LayerField.unitInterval, nil, "drop probability")]
    public let p: Double
    public init(p: Double) { self.p = p }
    public init(_ arguments: LayerArguments) { p = arguments.number("p") }
    public func infer(_ input: LayerInput) throws -> LayerShape {
        try Dropout<Float>.check(p: p)
        return LayerShape(outputShape: input.shape, flopsPerSample: Dropout<Float>.flopsPerSample(inputShape: input.shape))
    }
    /// Output, mask and input gradient when p > 0; p = 0 passes its input through.
    public func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory {
        LayerMemory(perRow: p > 0 ? 2 * input.count + input.gradientCount : 0)
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        try Dropout<T>(inputShape: input.shape, p: p, seed: mix64(builder.seed ^ UInt64(100 + builder.index)))
    }
}

extension LayerSpec {
    public static func dropout(p: Double) -> LayerSpec { LayerSpec(DropoutKind(p: p)) }
}
