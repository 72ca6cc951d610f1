/// affine: `x (N, D) → y = x·W + b (N, M)`, `W (D, M)`, `b (M)`.
/// Backward: `dx = dout·Wᵀ`, `dW = xᵀ·dout`, `db = Σ_N dout`. Cost 2·N·D·M flops each way
/// (×2 backward). Inputs of any shape `(N, …)` are flattened to `D` features.
/// With `fuseReLU` the layer also applies relu (one pass instead of two).
public final class Affine<T: Real>: Layer {
    public let kind = AffineKind.name
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter<T>, bias: Parameter<T>
    public var needsInputGradient = true
    public let fuseReLU: Bool
    private var input: Tensor<T>?
    private let output = Tensor<T>(shape: [0])
    private let dx = Tensor<T>(shape: [0])
    private let dpre = Tensor<T>(shape: [0])
    /// Where the matrix products get their thread budget.
    public let context: ComputeContext

    public init(inputShape: [Int], outputs: Int, fuseReLU: Bool = false, context: ComputeContext = ComputeContext()) throws {
        self.context = context
        self.outputShape = try Affine.outputShape(inputShape: inputShape, outputs: outputs)
        self.inputShape = inputShape
        self.inFeatures = inputShape.reduce(1, *)
        self.outFeatures = outputs
        self.fuseReLU = fuseReLU
        weight = Parameter(name: "W", shape: [inFeatures, outputs], regularized: true)
        bias = Parameter(name: "b", shape: [outputs], regularized: false)
    }

    /// The shape rule (shared with `inferShapes`, which allocates nothing): `[outputs]`, or a
    /// `ShapeError` when `outputs` is not positive or the `D × outputs` weight is too large.
    public static func outputShape(inputShape: [Int], outputs: Int) throws -> [Int] {
        guard outputs > 0 else { throw ShapeError("affine needs a positive number of outputs, got \(outputs)") }
        _ = try checkedElementCount([inputShape.reduce(1, *), outputs], what: "affine weight")
        return [outputs]
    }

    /// `2·D·M` forward + `4·D·M` backward.
    public static func flopsPerSample(inFeatures: Int, outFeatures: Int) -> Int { 6 * inFeatures * outFeatures }

    public var parameters: [Parameter<T>] { [weight, bias] }
    public var flopsPerSample: Int { Affine.flopsPerSample(inFeatures: inFeatures, outFeatures: outFeatures) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        let n = x.rows
        input = x
        output.resize([n, outFeatures])
        matmul(transA: false, transB: false, m: n, n: outFeatures, k: inFeatures,
               a: x.data, lda: inFeatures, b: weight.value.data, ldb: outFeatures,
               c: output.data, ldc: outFeatures, accumulate: false, threads: context.productThreads)
        addBias(rows: n, cols: outFeatures, bias: bias.value.data, y: output.data, relu: fuseReLU)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard let x = input else { preconditionFailure("affine: backward before forward") }
        let n = x.rows
        var g = dout
        if fuseReLU {
            dpre.resize(dout.shape)
            reluBackward(count: dout.count, y: output.data, dout: dout.data, dx: dpre.data)
            g = dpre
        }
        matmul(transA: true, transB: false, m: inFeatures, n: outFeatures, k: n,
               a: x.data, lda: inFeatures, b: g.data, ldb: outFeatures,
               c: weight.grad.data, ldc: outFeatures, accumulate: false, threads: context.productThreads)
        columnSum(rows: n, cols: outFeatures, x: g.data, out: bias.grad.data, accumulate: false)
        guard needsInputGradient else { return nil }
        dx.resize(x.shape)
        matmul(transA: false, transB: true, m: n, n: inFeatures, k: outFeatures,
               a: g.data, lda: outFeatures, b: weight.value.data, ldb: outFeatures,
               c: dx.data, ldc: inFeatures, accumulate: false, threads: context.productThreads)
        return dx
    }
}

/// affine in a layer list: `{"type": "affine", "units": 100}`. Directly followed by relu it
/// is built as one layer that applies both (`fuses(with:)`).
public struct AffineKind: LayerKind {
    public static let name = "affine"
    public static let fields = [LayerField("units", .int(min: 1), nil, "outputs")]
    public let outputs: Int
    public init(outputs: Int) { self.outputs = outputs }
    public init(_ arguments: LayerArguments) { outputs = arguments.int("units") }
    public func fuses(with next: LayerSpec) -> Bool { next.definition is ReLUKind }
    public func infer(_ input: LayerInput) throws -> LayerShape {
        let output = try Affine<Float>.outputShape(inputShape: input.shape, outputs: outputs)
        let d = input.count
        return LayerShape(outputShape: output, parameterCount: d * outputs + outputs,
                          flopsPerSample: Affine<Float>.flopsPerSample(inFeatures: d, outFeatures: outputs))
    }
    /// Output and input gradient, plus the pre-relu gradient when it applies the relu.
    public func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory {
        LayerMemory(perRow: outputs + input.gradientCount + (input.fusesNext ? outputs : 0))
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        let a = try Affine<T>(inputShape: input.shape, outputs: outputs, fuseReLU: input.fusesNext, context: builder.context)
        builder.fillWeights(a.weight.value, fanIn: a.inFeatures, fanOut: outputs)
        return a
    }
}

extension LayerSpec {
    public static func affine(outputs: Int) -> LayerSpec { LayerSpec(AffineKind(outputs: outputs)) }
}
