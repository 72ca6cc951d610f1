// Placeholder until the convolution layer lands: construction fails with a clear message.
public final class Conv2D<T: Real>: Layer {
    public let kind = "conv"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter<T>, bias: Parameter<T>
    public let fanIn: Int
    public var needsInputGradient = true
    public init(inputShape: [Int], filters: Int, height: Int, width: Int, stride: Int, pad: Int) throws {
        throw ShapeError("conv is not implemented yet")
    }
    public var parameters: [Parameter<T>] { [weight, bias] }
    public var flopsPerSample: Int { 0 }
    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> { x }
    public func backward(_ dout: Tensor<T>) -> Tensor<T>? { nil }
}
