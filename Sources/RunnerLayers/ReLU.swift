/// relu: `y = max(x, 0)`, any shape; backward `dx = dout·[x > 0]` (zero at exactly 0). O(N·D).
public final class ReLU<T: Real>: Layer {
    public let kind = "relu"
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
        T.reluForward(count: x.count, x: x.data, y: output.data)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        dx.resize(dout.shape)
        T.reluBackward(count: dout.count, y: output.data, dout: dout.data, dx: dx.data)
        return dx
    }
}
