/// layernorm: per row of `x (N, D)` over its features, `y = γ·(x − μ_row)/√(σ²_row + eps) + β`.
/// No running statistics; train and test are identical. O(N·D), two passes.
public final class LayerNorm<T: Real>: Layer {
    public let kind = LayerNormKind.name
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let features: Int
    public let gamma: Parameter<T>, beta: Parameter<T>
    public let eps: T
    public var needsInputGradient = true
    private let output = Tensor<T>(shape: [0]), xhat = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0]), invStd = Tensor<T>(shape: [0])

    public init(inputShape: [Int], eps: Double = 1e-5) throws {
        features = try LayerNorm.features(inputShape: inputShape)
        self.inputShape = inputShape
        self.eps = T(eps)
        gamma = Parameter(name: "gamma", shape: [features], regularized: false)
        beta = Parameter(name: "beta", shape: [features], regularized: false)
        gamma.value.fill(1)
    }

    /// The shape rule (shared with `inferShapes`): the features of a flat input, or a `ShapeError`.
    public static func features(inputShape: [Int]) throws -> Int {
        guard inputShape.count == 1 else { throw ShapeError("layernorm needs a flat (D) input, got \(inputShape)") }
        return inputShape[0]
    }

    public static func flopsPerSample(features: Int) -> Int { 16 * features }

    public var parameters: [Parameter<T>] { [gamma, beta] }
    public var flopsPerSample: Int { LayerNorm.flopsPerSample(features: features) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        let n = x.rows
        output.resize(x.shape); xhat.resize(x.shape); invStd.resize([n])
        layernormForward(n: n, d: features, x: x.data, gamma: gamma.value.data, beta: beta.value.data, eps: eps,
                           invStd: invStd.data, xhat: xhat.data, y: output.data)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        if needsInputGradient { dx.resize(dout.shape) }
        layernormBackward(n: dout.rows, d: features, dout: dout.data, xhat: xhat.data, invStd: invStd.data,
                            gamma: gamma.value.data, dx: needsInputGradient ? dx.data : nil,
                            dgamma: gamma.grad.data, dbeta: beta.grad.data)
        return needsInputGradient ? dx : nil
    }
}

/// layernorm in a layer list: `{"type": "layernorm"}`.
public struct LayerNormKind: LayerKind {
    public static let name = "layernorm"
    public static let normalizesHiddenFeatures = true
    public init(_ arguments: LayerArguments = LayerArguments()) {}
    public func infer(_ input: LayerInput) throws -> LayerShape {
        let d = try LayerNorm<Float>.features(inputShape: input.shape)
        return LayerShape(outputShape: input.shape, parameterCount: 2 * d, flopsPerSample: LayerNorm<Float>.flopsPerSample(features: d))
    }
    /// Output, x̂, input gradient and one 1/σ per row.
    public func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory {
        LayerMemory(perRow: 2 * input.count + input.gradientCount + 1)
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        try LayerNorm<T>(inputShape: input.shape)
    }
}

extension LayerSpec {
    public static var layernorm: LayerSpec { LayerSpec(LayerNormKind()) }
}
