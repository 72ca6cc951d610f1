/// flatten: `(N, C, H, W) → (N, C·H·W)`; no copy of meaning, the data is already contiguous,
/// but the layer owns a view tensor so shapes stay explicit. O(N·D) copy.
public final class Flatten<T: Real>: Layer {
    public let kind = "flatten"
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputShape.reduce(1, *)] }
    public var needsInputGradient = true
    private let output = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])

    public init(inputShape: [Int]) { self.inputShape = inputShape }
    public var flopsPerSample: Int { 0 }

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
