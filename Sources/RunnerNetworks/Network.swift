import Foundation

/// A sequential stack of layers with a classification loss on top and L2 regularisation
/// `0.5·reg·Σ‖W‖²` over the weight matrices.
public final class Network<T: Real>: @unchecked Sendable {
    public let inputShape: [Int]
    public let layers: [any Layer<T>]
    public let loss: LossKind
    public let reg: T
    public let parameters: [Parameter<T>]
    public var numClasses: Int { layers.last?.outputShape.reduce(1, *) ?? 0 }
    private let dscores = Tensor<T>(shape: [0])

    /// Builds the layers for `specs`, checking every shape, and initialises the weights
    /// from `seed` (stream 1: weights in layer order; dropout layer k gets its own stream).
    /// An `affine` directly followed by `relu` is fused into one layer when `fuse` is true.
    public init(inputShape: [Int], specs: [LayerSpec], loss: LossKind = .softmax, reg: Double = 0,
                initialization: WeightInit = .scale(1e-3), seed: UInt64 = 0, fuse: Bool = true) throws {
        self.inputShape = inputShape
        self.loss = loss
        self.reg = T(reg)
        var layers: [any Layer<T>] = []
        var shape = inputShape
        var initRNG = SeededGenerator(seed: seed, stream: 1)
        var i = 0
        while i < specs.count {
            let spec = specs[i]
            let where_ = "layer \(i + 1) (\(spec.kind))"
            do {
                let layer: any Layer<T>
                switch spec {
                case .affine(let m):
                    let fused = fuse && i + 1 < specs.count && specs[i + 1] == .relu
                    let a = try Affine<T>(inputShape: shape, outputs: m, fuseReLU: fused)
                    Network.fillNormal(a.weight.value, std: initialization.std(fanIn: a.inFeatures, fanOut: m), rng: &initRNG)
                    layer = a
                    if fused { i += 1 }
                case .relu: layer = ReLU<T>(inputShape: shape)
                case .batchnorm: layer = try BatchNorm<T>(inputShape: shape, spatial: false)
                case .spatialBatchnorm: layer = try BatchNorm<T>(inputShape: shape, spatial: true)
                case .layernorm: layer = try LayerNorm<T>(inputShape: shape)
                case .dropout(let p): layer = try Dropout<T>(inputShape: shape, p: p, seed: mix64(seed ^ UInt64(100 + i)))
                case .flatten: layer = Flatten<T>(inputShape: shape)
                case let .conv(f, hh, ww, stride, pad):
                    let c = try Conv2D<T>(inputShape: shape, filters: f, height: hh, width: ww, stride: stride, pad: pad)
                    Network.fillNormal(c.weight.value, std: initialization.std(fanIn: c.fanIn, fanOut: f * hh * ww), rng: &initRNG)
                    layer = c
                case let .maxpool(ph, pw, stride): layer = try MaxPool<T>(inputShape: shape, height: ph, width: pw, stride: stride)
                }
                shape = layer.outputShape
                layers.append(layer)
            } catch let e as ShapeError {
                throw ShapeError("\(where_): \(e.message)")
            }
            i += 1
        }
        guard let last = layers.last, last.outputShape.count == 1 else {
            throw ShapeError("the last layer must produce class scores (a flat vector), got \(layers.last?.outputShape ?? shape)")
        }
        if let first = layers.first { first.needsInputGradient = false }
        self.layers = layers
        self.parameters = layers.flatMap { $0.parameters }
    }

    static func fillNormal(_ t: Tensor<T>, std: Double, rng: inout SeededGenerator) {
        for i in 0..<t.count { t[i] = T(std * rng.normal()) }
    }

    /// Class scores `(N, classes)` for a batch `x (N, inputShape…)`.
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
                squares += T.sumOfSquares(count: p.value.count, x: p.value.data)
                T.axpy(count: p.value.count, alpha: reg, x: p.value.data, y: p.grad.data)
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
            for p in parameters where p.regularized { squares += T.sumOfSquares(count: p.value.count, x: p.value.data) }
            value += T(0.5 * Double(reg) * squares)
        }
        return value
    }

    /// Predicted class of each row (test mode).
    public func predict(_ x: Tensor<T>, into out: UnsafeMutablePointer<Int32>) {
        let scores = forward(x, mode: .test)
        T.argmaxRows(rows: scores.rows, cols: scores.rowSize, x: scores.data, out: out)
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Forward+backward flops per training sample (an estimate for planning).
    public var flopsPerSample: Int { layers.reduce(0) { $0 + $1.flopsPerSample } }

    /// Copies of every parameter and running statistic (to keep the best model).
    public func snapshot() -> [[T]] {
        var s = parameters.map { $0.value.array }
        for case let bn as BatchNorm<T> in layers { s.append(bn.runningMean.array); s.append(bn.runningVar.array) }
        return s
    }

    public func restore(_ s: [[T]]) {
        var k = 0
        func put(_ t: Tensor<T>) { s[k].withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }; k += 1 }
        for p in parameters { put(p.value) }
        for case let bn as BatchNorm<T> in layers { put(bn.runningMean); put(bn.runningVar) }
    }
}
