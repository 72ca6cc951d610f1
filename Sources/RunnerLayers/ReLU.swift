/// relu: `y = max(x, 0)`, any shape; backward `dx = dout·[x > 0]` (zero at exactly 0). O(N·D).
public final class ReLU<T: Real>: Layer {
    public let kind = ReLUKind.name
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    private let output = Tensor<T>(shape: [0])
    private let dx = Tensor<T>(shape: [0])
    /// Its thread budget: a large batch is split over `productThreads` (the same result).
    public let context: ComputeContext

    public init(inputShape: [Int], context: ComputeContext = ComputeContext()) {
        self.inputShape = inputShape
        self.context = context
    }
    public static func flopsPerSample(inputShape: [Int]) -> Int { 2 * inputShape.reduce(1, *) }
    public var flopsPerSample: Int { ReLU.flopsPerSample(inputShape: inputShape) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        output.resize(x.shape)
        let (xp, yp) = (x.data, output.data)
        forEachRange(x.count, threads: context.productThreads) { r in
            reluForward(count: r.count, x: xp + r.lowerBound, y: yp + r.lowerBound)
        }
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        dx.resize(dout.shape)
        let (yp, gp, dp) = (output.data, dout.data, dx.data)
        forEachRange(dout.count, threads: context.productThreads) { r in
            reluBackward(count: r.count, y: yp + r.lowerBound, dout: gp + r.lowerBound, dx: dp + r.lowerBound)
        }
        return dx
    }
}

/// relu in a layer list: `{"type": "relu"}`.
public struct ReLUKind: LayerKind {
    public static let name = "relu"
    public init(_ arguments: LayerArguments = LayerArguments()) {}
    public func infer(_ input: LayerInput) throws -> LayerShape {
        LayerShape(outputShape: input.shape, flopsPerSample: ReLU<Float>.flopsPerSample(inputShape: input.shape))
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        ReLU<T>(inputShape: input.shape, context: builder.context)
    }
}

extension LayerSpec {
    public static var relu: LayerSpec { LayerSpec(ReLUKind()) }
}
