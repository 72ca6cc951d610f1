@_exported import RunnerKernels

/// Train mode uses batch statistics and dropout; test mode uses running statistics and no dropout.
public enum Mode: Sendable { case train, test }

/// A learnable array and its gradient. `regularized` is true for weight matrices
/// (they get `0.5·reg·‖W‖²`), false for biases, γ and β.
public final class Parameter<T: Real>: @unchecked Sendable {
    public let name: String
    public let value: Tensor<T>
    public let grad: Tensor<T>
    public let regularized: Bool

    public init(name: String, shape: [Int], regularized: Bool) {
        self.name = name
        self.value = Tensor(shape: shape)
        self.grad = Tensor(shape: shape)
        self.regularized = regularized
    }
}

/// Why a layer cannot accept its input shape; thrown while a network is built, so a bad
/// stack is a config error before training starts rather than a crash mid-run.
public struct ShapeError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One forward/backward pair over flat buffers (llm.c style). Shapes are per batch:
/// `forward` takes `x (N, inputShape…)` and returns the layer's own output tensor (reused
/// across calls); `backward` takes `dout` of the output's shape, writes the parameter
/// gradients (overwriting, not accumulating) and returns `dx` (or nil when
/// `needsInputGradient` is false, e.g. for the first layer).
public protocol Layer<T>: AnyObject {
    associatedtype T: Real
    /// Config name (`affine`, `relu`, …).
    var kind: String { get }
    /// Per-sample input shape given at construction; `outputShape` is derived from it.
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// Trainable arrays (the optimizer updates them from their gradients).
    var parameters: [Parameter<T>] { get }
    /// Non-trainable state saved with the model (batchnorm's running mean and variance):
    /// `Network.snapshot/restore` copy it alongside the parameters. Default none.
    var buffers: [Tensor<T>] { get }
    /// A name for each of `buffers`, saved models store them under (default `buffer0`, `buffer1`, …).
    var bufferNames: [String] { get }
    /// The layer's own random generator (dropout's masks), nil when it has none. Saved and
    /// restored by whoever must replay the same draws (`compareNetworkGradients`).
    var randomState: SeededGenerator? { get set }
    var needsInputGradient: Bool { get set }
    func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T>
    func backward(_ dout: Tensor<T>) -> Tensor<T>?
    /// Floating-point operations of forward+backward per sample (for planning).
    var flopsPerSample: Int { get }
}

extension Layer {
    public var parameters: [Parameter<T>] { [] }
    public var buffers: [Tensor<T>] { [] }
    public var bufferNames: [String] { buffers.indices.map { "buffer\($0)" } }
    public var randomState: SeededGenerator? {
        get { nil }
        set { precondition(newValue == nil, "\(kind) has no random generator") }
    }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// Shape `[N] + per-sample shape`.
@inline(__always) func batched(_ n: Int, _ shape: [Int]) -> [Int] { [n] + shape }

/// Largest tensor a layer may allocate (2³⁰ elements: 4 GB in float32). A config asking for
/// more is rejected as a shape error before anything is allocated, never a crash.
public let maxTensorElements = 1 << 30

/// The product of `dims`, or a `ShapeError` when it overflows or exceeds `maxTensorElements`.
public func checkedElementCount(_ dims: [Int], what: String) throws -> Int {
    var n = 1
    for d in dims {
        let (p, overflow) = n.multipliedReportingOverflow(by: max(d, 0))
        guard !overflow, p <= maxTensorElements else {
            throw ShapeError("\(what) \(dims.map(String.init).joined(separator: "×")) is too large (at most \(maxTensorElements) elements)")
        }
        n = p
    }
    return n
}
