/// batchnorm (and spatial batchnorm): statistics per channel over the batch — per feature
/// for `x (N, D)`, per channel over `(N, H, W)` for `x (N, C, H, W)`.
/// Train: `x̂ = (x − μ_B)/√(σ²_B + eps)` (biased variance), `y = γ·x̂ + β`,
/// `running = momentum·running + (1 − momentum)·batch`. Test: running statistics.
/// Backward in closed form (see `batchnormBackward` in RunnerKernels). O(N·D), two passes.
public final class BatchNorm<T: Real>: Layer {
    public let kind: String
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let channels: Int, spatial: Int
    public let gamma: Parameter<T>, beta: Parameter<T>
    public let runningMean: Tensor<T>, runningVar: Tensor<T>
    public let eps: T, momentum: T
    public var needsInputGradient = true
    private let output = Tensor<T>(shape: [0]), xhat = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])
    private let mean: Tensor<T>, invStd: Tensor<T>, scratch: Tensor<T>

    /// `spatial` selects per-channel statistics over `(N, H, W)` for a `(C, H, W)` input.
    public init(inputShape: [Int], spatial: Bool = false, eps: Double = 1e-5, momentum: Double = 0.9) throws {
        (channels, self.spatial) = try BatchNorm.statistics(inputShape: inputShape, spatial: spatial)
        kind = spatial ? SpatialBatchNormKind.name : BatchNormKind.name
        self.inputShape = inputShape
        self.eps = T(eps); self.momentum = T(momentum)
        gamma = Parameter(name: "gamma", shape: [channels], regularized: false)
        beta = Parameter(name: "beta", shape: [channels], regularized: false)
        gamma.value.fill(1)
        runningMean = Tensor(shape: [channels]); runningVar = Tensor(shape: [channels])
        mean = Tensor(shape: [channels]); invStd = Tensor(shape: [channels]); scratch = Tensor(shape: [2 * channels])
    }

    /// The shape rule (shared with `inferShapes`, which allocates nothing): the channels
    /// (features) and the positions per channel that each statistic covers, or a `ShapeError`.
    public static func statistics(inputShape: [Int], spatial: Bool) throws -> (channels: Int, spatial: Int) {
        if spatial {
            guard inputShape.count == 3 else { throw ShapeError("spatial_batchnorm needs a (C, H, W) input, got \(inputShape)") }
            return (inputShape[0], inputShape[1] * inputShape[2])
        }
        guard inputShape.count == 1 else { throw ShapeError("batchnorm needs a flat (D) input, got \(inputShape); use spatial_batchnorm for images") }
        return (inputShape[0], 1)
    }

    public static func flopsPerSample(channels: Int, spatial: Int) -> Int { 16 * channels * spatial }

    public var parameters: [Parameter<T>] { [gamma, beta] }
    public var buffers: [Tensor<T>] { [runningMean, runningVar] }
    public var bufferNames: [String] { ["running_mean", "running_var"] }
    public var flopsPerSample: Int { BatchNorm.flopsPerSample(channels: channels, spatial: spatial) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        let n = x.rows
        output.resize(x.shape)
        switch mode {
        case .train:
            xhat.resize(x.shape)
            batchnormForwardTrain(n: n, c: channels, s: spatial, x: x.data, gamma: gamma.value.data, beta: beta.value.data,
                                    eps: eps, momentum: momentum, runningMean: runningMean.data, runningVar: runningVar.data,
                                    mean: mean.data, invStd: invStd.data, xhat: xhat.data, y: output.data)
        case .test:
            batchnormForwardTest(n: n, c: channels, s: spatial, x: x.data, gamma: gamma.value.data, beta: beta.value.data,
                                   eps: eps, runningMean: runningMean.data, runningVar: runningVar.data,
                                   scratch: scratch.data, y: output.data)
        }
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        let n = dout.rows
        if needsInputGradient { dx.resize(dout.shape) }
        batchnormBackward(n: n, c: channels, s: spatial, dout: dout.data, xhat: xhat.data, invStd: invStd.data,
                            gamma: gamma.value.data, dx: needsInputGradient ? dx.data : nil,
                            dgamma: gamma.grad.data, dbeta: beta.grad.data)
        return needsInputGradient ? dx : nil
    }
}

/// The two batchnorm layer types: statistics per feature (`batchnorm`) or per channel
/// (`spatial_batchnorm`); everything but the name and `spatial` is shared.
public protocol BatchNormLayerKind: LayerKind {
    static var spatial: Bool { get }
    init()
}

extension BatchNormLayerKind {
    public init(_ arguments: LayerArguments) { self.init() }

    public func infer(_ input: LayerInput) throws -> LayerShape {
        let s = try BatchNorm<Float>.statistics(inputShape: input.shape, spatial: Self.spatial)
        return LayerShape(outputShape: input.shape, parameterCount: 2 * s.channels,
                          flopsPerSample: BatchNorm<Float>.flopsPerSample(channels: s.channels, spatial: s.spatial))
    }

    /// Per row: output, x̂ and input gradient. Per layer: the running mean and variance
    /// (buffers) and the batch mean, 1/σ and a 2·C test-mode scratch.
    public func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory {
        let channels = (try? BatchNorm<Float>.statistics(inputShape: input.shape, spatial: Self.spatial).channels) ?? 0
        return LayerMemory(perRow: 2 * input.count + input.gradientCount, buffers: 2 * channels, state: 4 * channels)
    }

    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        try BatchNorm<T>(inputShape: input.shape, spatial: Self.spatial)
    }
}

/// batchnorm in a layer list: `{"type": "batchnorm"}`, statistics per feature of a flat input.
public struct BatchNormKind: BatchNormLayerKind {
    public static let name = "batchnorm", spatial = false
    public static let normalizesHiddenFeatures = true
    public init() {}
}

/// spatial_batchnorm in a layer list: `{"type": "spatial_batchnorm"}`, statistics per channel
/// of a `(C, H, W)` input.
public struct SpatialBatchNormKind: BatchNormLayerKind {
    public static let name = "spatial_batchnorm", spatial = true
    public init() {}
}

extension LayerSpec {
    public static var batchnorm: LayerSpec { LayerSpec(BatchNormKind()) }
    public static var spatialBatchnorm: LayerSpec { LayerSpec(SpatialBatchNormKind()) }
}
