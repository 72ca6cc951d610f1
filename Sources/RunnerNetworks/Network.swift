import Foundation

/// A sequential stack of layers with a classification loss on top and L2 regularisation
/// `0.5·reg·Σ‖W‖²` over the weight matrices.
public final class Network<T: Real>: @unchecked Sendable {
    public let inputShape: [Int]
    public let layers: [any Layer<T>]
    public let loss: LossKind
    /// L2 strength; may be changed between steps.
    public var reg: T
    public let parameters: [Parameter<T>]
    public var numClasses: Int { layers.last?.outputShape.reduce(1, *) ?? 0 }
    private let dscores = Tensor<T>(shape: [0])

    /// Builds the layers for `specs` through their registered kinds (`LayerKind.makeLayer`),
    /// checking every shape, and initialises the weights from `seed` (stream 1: weights in
    /// layer order; dropout layer k gets its own stream). A spec whose kind fuses the next one
    /// (`affine` directly followed by `relu`) becomes one layer when `fuse` is true.
    public init(inputShape: [Int], specs: [LayerSpec], loss: LossKind = .softmax, reg: Double = 0,
                initialization: WeightInit = .scale(1e-3), seed: UInt64 = 0, fuse: Bool = true,
                context: ComputeContext = ComputeContext()) throws {
        self.inputShape = inputShape
        self.loss = loss
        self.reg = T(reg)
        var layers: [any Layer<T>] = []
        var shape = inputShape
        var builder = LayerBuilder(seed: seed, initialization: initialization, context: context)
        var i = 0
        while i < specs.count {
            let spec = specs[i]
            let fused = fuse && i + 1 < specs.count && spec.definition.fuses(with: specs[i + 1])
            builder.index = i
            do {
                let layer: any Layer<T> = try spec.definition.makeLayer(
                    LayerInput(shape: shape, isFirst: layers.isEmpty, fusesNext: fused), &builder)
                shape = layer.outputShape
                layers.append(layer)
            } catch let e as ShapeError {
                throw ShapeError("layer \(i + 1) (\(spec.kind)): \(e.message)")
            }
            i += fused ? 2 : 1
        }
        guard let last = layers.last, last.outputShape.count == 1 else {
            throw ShapeError("the last layer must produce class scores (a flat vector), got \(layers.last?.outputShape ?? shape)")
        }
        if let first = layers.first { first.needsInputGradient = false }
        self.layers = layers
        self.parameters = layers.flatMap { $0.parameters }
    }

    /// Class scores `(N, classes)` for a batch `x (N, inputShape…)`. The result is the last
    /// layer's output buffer: the next call overwrites it (copy it with `.array`, or use
    /// `scores(_:rows:)`, which returns an array of its own).
    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        var h = x
        for layer in layers { h = layer.forward(h, mode: mode) }
        return h
    }

    /// One training pass: forward in train mode, loss + regularisation, backward.
    /// Leaves every parameter's gradient in `grad`; returns the total loss.
    public func lossAndGradients(_ x: Tensor<T>, labels: UnsafePointer<Int32>) -> T {
        let scores = forward(x, mode: .train)
        var value = loss.evaluate(scores: scores, labels: labels, dscores: dscores)
        var g: Tensor<T>? = dscores
        for layer in layers.reversed() {
            guard let d = g else { break }
            g = layer.backward(d)
        }
        if reg != 0 {
            var squares = 0.0
            for p in parameters where p.regularized {
                squares += sumOfSquares(count: p.value.count, x: p.value.data)
                axpy(count: p.value.count, alpha: reg, x: p.value.data, y: p.grad.data)
            }
            value += T(0.5 * Double(reg) * squares)
        }
        return value
    }

    /// Loss only (test-mode forward is *not* used: the loss is the training objective).
    public func lossValue(_ x: Tensor<T>, labels: UnsafePointer<Int32>, mode: Mode = .train) -> T {
        let scores = forward(x, mode: mode)
        var value = loss.evaluate(scores: scores, labels: labels, dscores: dscores)
        if reg != 0 {
            var squares = 0.0
            for p in parameters where p.regularized { squares += sumOfSquares(count: p.value.count, x: p.value.data) }
            value += T(0.5 * Double(reg) * squares)
        }
        return value
    }

    /// Predicted class of each row (test mode).
    public func predict(_ x: Tensor<T>, into out: UnsafeMutablePointer<Int32>) {
        let scores = forward(x, mode: .test)
        argmaxRows(rows: scores.rows, cols: scores.rowSize, x: scores.data, out: out)
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Forward+backward flops per training sample (an estimate for planning).
    public var flopsPerSample: Int { layers.reduce(0) { $0 + $1.flopsPerSample } }

    /// Every layer's `buffers` (non-trainable state such as batchnorm's running statistics), in layer order.
    public var buffers: [Tensor<T>] { layers.flatMap { $0.buffers } }

    /// Copies of every parameter, then every buffer (to keep the best model).
    public func snapshot() -> [[T]] {
        parameters.map { $0.value.array } + buffers.map { $0.array }
    }

    public func restore(_ s: [[T]]) {
        var k = 0
        func put(_ t: Tensor<T>) { s[k].withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }; k += 1 }
        for p in parameters { put(p.value) }
        for b in buffers { put(b) }
    }
}
