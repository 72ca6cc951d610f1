/// Shapes, parameter counts and flops of a layer stack, worked out without allocating a
/// single tensor: what `Network.init` would build for the same specs, in microseconds
/// whatever the sizes (building a 20 × 30000-unit network just to check it needs ~144 GB).
///
/// The per-layer rules are the layers' own static functions (`Affine.outputShape`,
/// `Conv2D.geometry`, …, the ones their initialisers call), so the shapes, the `ShapeError`
/// messages and the flops cannot drift from what a real network reports. The rules do not
/// depend on the element type; `Float` only names the generic classes.

/// What the layer built for one spec would report.
public struct InferredLayer: Equatable, Sendable {
    public let spec: LayerSpec
    /// Per-sample shapes.
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let parameterCount: Int
    /// As the layer's `flopsPerSample` reports it inside a `Network` (a first conv layer
    /// computes no input gradient). 0 for a relu fused into the affine before it.
    public let flopsPerSample: Int
    /// A relu that `Network` fuses into the affine before it: it has no layer (and no
    /// tensors) of its own.
    public let fusedIntoPrevious: Bool
    /// An affine that also applies the relu after it (see `fusedIntoPrevious`).
    public let fusesReLU: Bool
    /// The network's first layer, which computes no gradient for its input.
    public let isFirst: Bool

    public var outputCount: Int { outputShape.reduce(1, *) }
    public var inputCount: Int { inputShape.reduce(1, *) }
}

/// The inferred network: one entry per spec, and totals that equal `Network`'s.
public struct NetworkShapes: Equatable, Sendable {
    public let inputShape: [Int]
    public let layers: [InferredLayer]
    /// `Network.parameterCount`.
    public let parameterCount: Int
    /// `Network.flopsPerSample`.
    public let flopsPerSample: Int
    /// Elements of the largest layer output, per sample (the input not included).
    public let largestActivation: Int
    /// Elements of every layer's output tensor, per sample (a fused relu shares its affine's).
    public let activationElements: Int
    /// `Network.numClasses`.
    public var numClasses: Int { layers.last?.outputCount ?? 0 }
}

/// Walks `specs` from `inputShape` as `Network.init(inputShape:specs:…fuse:)` does and
/// throws the `ShapeError` it would throw, with the same text (`layer N (kind): …`, and
/// "the last layer must produce class scores …"). Sizes are bounded before they are
/// multiplied: each layer's own checks keep its tensors within `maxTensorElements` (2³⁰),
/// so its flop formula fits `Int` (the largest, conv's `6·F·K·P`, is below 6·2⁶⁰); the input
/// and every sum over layers are checked here, so absurd sizes are a `ShapeError`, not a trap.
public func inferShapes(inputShape: [Int], specs: [LayerSpec], fuse: Bool = true) throws -> NetworkShapes {
    _ = try checkedElementCount(inputShape, what: "the input")
    var layers: [InferredLayer] = []
    var shape = inputShape
    var parameters = 0, flops = 0, largest = 0, activations = 0
    func add(_ total: inout Int, _ x: Int, _ what: String) throws {
        let (sum, overflow) = total.addingReportingOverflow(x)
        guard !overflow else { throw ShapeError("the network's \(what) do not fit in a 64-bit integer") }
        total = sum
    }
    var i = 0
    while i < specs.count {
        let spec = specs[i]
        let first = layers.isEmpty
        var output = shape, params = 0, layerFlops = 0, fused = false, size = 0
        do {
            switch spec {
            case .affine(let m):
                output = try Affine<Float>.outputShape(inputShape: shape, outputs: m)
                let d = shape.reduce(1, *)
                params = d * m + m
                layerFlops = Affine<Float>.flopsPerSample(inFeatures: d, outFeatures: m)
                fused = fuse && i + 1 < specs.count && specs[i + 1] == .relu
            case .relu:
                layerFlops = ReLU<Float>.flopsPerSample(inputShape: shape)
            case .batchnorm, .spatialBatchnorm:
                let s = try BatchNorm<Float>.statistics(inputShape: shape, spatial: spec == .spatialBatchnorm)
                params = 2 * s.channels
                layerFlops = BatchNorm<Float>.flopsPerSample(channels: s.channels, spatial: s.spatial)
            case .layernorm:
                let d = try LayerNorm<Float>.features(inputShape: shape)
                params = 2 * d
                layerFlops = LayerNorm<Float>.flopsPerSample(features: d)
            case .dropout(let p):
                try Dropout<Float>.check(p: p)
                layerFlops = Dropout<Float>.flopsPerSample(inputShape: shape)
            case .flatten:
                output = Flatten<Float>.outputShape(inputShape: shape)
                layerFlops = Flatten<Float>.flopsPerSample
            case let .conv(f, hh, ww, stride, pad):
                let g = try Conv2D<Float>.geometry(inputShape: shape, filters: f, height: hh, width: ww, stride: stride, pad: pad)
                output = [f, g.outHeight, g.outWidth]
                params = f * g.patchSize + f
                layerFlops = Conv2D<Float>.flopsPerSample(g, inputGradient: !first)
            case let .maxpool(ph, pw, stride):
                let g = try MaxPool<Float>.geometry(inputShape: shape, height: ph, width: pw, stride: stride)
                output = [shape[0], g.outHeight, g.outWidth]
                layerFlops = MaxPool<Float>.flopsPerSample(outputShape: output, g)
            }
            size = try checkedElementCount(output, what: "the output")
        } catch let e as ShapeError {
            throw ShapeError("layer \(i + 1) (\(spec.kind)): \(e.message)")
        }
        layers.append(InferredLayer(spec: spec, inputShape: shape, outputShape: output, parameterCount: params,
                                    flopsPerSample: layerFlops, fusedIntoPrevious: false, fusesReLU: fused, isFirst: first))
        if fused {
            i += 1
            layers.append(InferredLayer(spec: .relu, inputShape: output, outputShape: output, parameterCount: 0,
                                        flopsPerSample: 0, fusedIntoPrevious: true, fusesReLU: false, isFirst: false))
        }
        try add(&parameters, params, "parameters")
        try add(&flops, layerFlops, "flops per sample")
        try add(&activations, size, "activation sizes")
        largest = max(largest, size)
        shape = output
        i += 1
    }
    guard let last = layers.last, last.outputShape.count == 1 else {
        throw ShapeError("the last layer must produce class scores (a flat vector), got \(layers.last?.outputShape ?? shape)")
    }
    return NetworkShapes(inputShape: inputShape, layers: layers, parameterCount: parameters, flopsPerSample: flops,
                         largestActivation: largest, activationElements: activations)
}
