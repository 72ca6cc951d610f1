/// leaky_relu: `y = x > 0 ? x : slope·x`, any shape; backward `dx = dout · (x > 0 ? 1 : slope)`
/// (the `slope` side at exactly 0). No parameters. O(N·D) each way; the input is kept (not
/// copied) for the backward pass.
public final class LeakyReLU<T: Real>: Layer {
    public let slope: T
    public let kind = LeakyReLUKind.name, inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = true
    /// The last forward's input (the previous layer's output, not a copy).
    private var input: Tensor<T>?
    private let output = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])

    public init(inputShape: [Int], slope: Double) {
        self.inputShape = inputShape
        self.slope = T(slope)
    }

    /// A compare and a multiply each way.
    public static func flopsPerSample(inputShape: [Int]) -> Int { 4 * inputShape.reduce(1, *) }
    public var flopsPerSample: Int { LeakyReLU.flopsPerSample(inputShape: inputShape) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        input = x
        output.resize(x.shape)
        let (src, dst, a) = (x.data, output.data, slope)
        for i in 0..<x.count { let v = src[i]; dst[i] = v > 0 ? v : a * v }
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        guard let x = input else { preconditionFailure("leaky_relu: backward before forward") }
        dx.resize(dout.shape)
        let (src, g, dst, a) = (x.data, dout.data, dx.data, slope)
        for i in 0..<dout.count { dst[i] = src[i] > 0 ? g[i] : a * g[i] }
        return dx
    }
}

/// leaky_relu in a layer list: `{"type": "leaky_relu", "slope": 0.01}`.
public struct LeakyReLUKind: LayerKind {
    public static let name = "leaky_relu"
    public static let fields = [
        LayerField("slope", .number(min: 0, minOpen: false, max: 1, maxOpen: false), 0.01, "y = slope·x for x ≤ 0"),
    ]
    public let slope: Double
    public init(slope: Double = 0.01) { self.slope = slope }
    public init(_ arguments: LayerArguments) { slope = arguments.number("slope") }
    public func infer(_ input: LayerInput) throws -> LayerShape {
        LayerShape(outputShape: input.shape, flopsPerSample: LeakyReLU<Float>.flopsPerSample(inputShape: input.shape))
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        LeakyReLU<T>(inputShape: input.shape, slope: slope)
    }
}

extension LayerSpec {
    public static func leakyReLU(slope: Double = 0.01) -> LayerSpec { LayerSpec(LeakyReLUKind(slope: slope)) }
}
