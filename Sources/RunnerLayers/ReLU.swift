/// relu: `y = max(x, 0)`, any shape; backward `dx = dout·[x > 0]` (zero at exactly 0). O(N·D).
public final class ReLU<T: Real>: Layer {
    public let kind = ReLUKind.name
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    private let output = Tensor<T>(shape: [0])
    private let dx = Tensor<T>(shape: [0])

    public init(inputShape: [Int]) { self.inputShape = inputShape }
    public static func flopsPerSample(inputShape: [Int]) -> Int { 2 * inputShape.reduce(1, *) }
    public var flopsPerSample: Int { ReLU.flopsPerSample(inputShape: inputShape) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        output.resize(x.shape)
        reluForward(count: x.count, x: x.data, y: output.data)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        dx.resize(dout.shape)
        reluBackward(count: dout.count, y: output.data, dout: dout.data, dx: dx.data)
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
        ReLU<T>(inputShape: input.shape)
    }
}

extension LayerSpec {
    public static var relu: LayerSpec { LayerSpec(ReLUKind()) }
}
