// Placeholder until the max-pool layer lands.
public final class MaxPool<T: Real>: Layer {
    public let kind = "maxpool"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    public init(inputShape: [Int], height: Int, width: Int, stride: Int) throws {
        throw ShapeError("maxpool is not implemented yet")
    }
    public var flopsPerSample: Int { 0 }
    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> { x }
    public func backward(_ dout: Tensor<T>) -> Tensor<T>? { nil }
}
