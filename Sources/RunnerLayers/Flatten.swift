/// flatten: `(N, C, H, W) → (N, C·H·W)`. The values and their order do not change (the
/// data is already contiguous); the layer copies them into its own tensor of the new shape,
/// O(N·D). Only needed in explicit layer lists: affine flattens its input itself.
public final class Flatten<T: Real>: Layer {
    public let kind = FlattenKind.name
    public let inputShape: [Int]
    public var outputShape: [Int] { Flatten.outputShape(inputShape: inputShape) }
    public var needsInputGradient = true
    private let output = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])

    public init(inputShape: [Int]) { self.inputShape = inputShape }
    /// The shape rule (shared with `inferShapes`): one flat vector of every input element.
    public static func outputShape(inputShape: [Int]) -> [Int] { [inputShape.reduce(1, *)] }
    public static var flopsPerSample: Int { 0 }
    public var flopsPerSample: Int { Flatten.flopsPerSample }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        output.copy(from: x)
        output.resize([x.rows, outputShape[0]])
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        dx.copy(from: dout)
        dx.resize([dout.rows] + inputShape)
        return dx
    }
}

/// flatten in a layer list: `{"type": "flatten"}`.
public struct FlattenKind: LayerKind {
    public static let name = "flatten"
    public init(_ arguments: LayerArguments = LayerArguments()) {}
    public func infer(_ input: LayerInput) throws -> LayerShape {
        LayerShape(outputShape: Flatten<Float>.outputShape(inputShape: input.shape), flopsPerSample: Flatten<Float>.flopsPerSample)
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        Flatten<T>(inputShape: input.shape)
    }
}

extension LayerSpec {
    public static var flatten: LayerSpec { LayerSpec(FlattenKind()) }
}
