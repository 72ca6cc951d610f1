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
        leakyReLUForward(count: x.count, x: x.data, slope: slope, y: output.data)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        guard let x = input else { preconditionFailure("leaky_relu: backward before forward") }
        dx.resize(dout.shape)
        leakyReLUBackward(count: dout.count, x: x.data, dout: dout.data, slope: slope, dx: dx.data)
        return dx
    }
}

// The kernels live beside the layer: `@_specialize` compiles each for Float and Double and
// makes the generic entry dispatch to them, so the generic layer reaches specialised loops.

/// `y = x > 0 ? x : slope·x`. O(count).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func leakyReLUForward<T: Real>(count: Int, x: UnsafePointer<T>, slope: T, y: UnsafeMutablePointer<T>) {
    for i in 0..<count { let v = x[i]; y[i] = v > 0 ? v : slope * v }
}

/// `dx = x > 0 ? dout : slope·dout`. O(count).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func leakyReLUBackward<T: Real>(count: Int, x: UnsafePointer<T>, dout: UnsafePointer<T>, slope: T, dx: UnsafeMutablePointer<T>) {
    for i in 0..<count { dx[i] = x[i] > 0 ? dout[i] : slope * dout[i] }
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
