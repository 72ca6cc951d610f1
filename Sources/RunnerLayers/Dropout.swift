/// dropout (inverted): `p` is the probability of dropping a unit. Train:
/// `mask = [u < 1 − p]/(1 − p)`, `y = x·mask`; test: identity. Backward `dx = dout·mask`. O(N·D).
/// Masks come from the layer's own seeded generator (`reseed`), so a trial's masks do not
/// depend on anything else that draws random numbers.
public final class Dropout<T: Real>: Layer {
    public let kind = "dropout"
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

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        lastMode = mode
        guard mode == .train, p > 0 else { return x }
        output.resize(x.shape); mask.resize(x.shape)
        T.dropoutMask(count: x.count, p: p, rng: &rng, mask: mask.data)
        T.multiply(count: x.count, x: x.data, y: mask.data, z: output.data)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        guard lastMode == .train, p > 0 else { return dout }
        dx.resize(dout.shape)
        T.multiply(count: dout.count, x: dout.data, y: mask.data, z: dx.data)
        return dx
    }
}
