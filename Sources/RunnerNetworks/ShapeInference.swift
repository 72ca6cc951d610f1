/// Shapes, parameter counts and flops of a layer stack, worked out without allocating a
/// single tensor: what `Network.init` would build for the same specs, in microseconds
/// whatever the sizes (building a 20 × 30000-unit network just to check it needs ~144 GB).
///
/// The per-layer rules are the registered kinds' `LayerKind.infer`, which call the layers' own
/// static functions (`Affine.outputShape`, `Conv2D.geometry`, …, the ones their initialisers
/// call), so the shapes, the `ShapeError` messages and the flops cannot drift from what a
/// real network reports.

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
    /// A spec that `Network` fuses into the layer before it (a relu after an affine): it has
    /// no layer (and no tensors) of its own.
    public let fusedIntoPrevious: Bool
    /// A layer that also applies the spec after it, e.g. an affine applying the relu after
    /// it (see `fusedIntoPrevious`, `LayerKind.fuses(with:)`).
    public let fusesReLU: Bool
    /// The network's first layer, which computes no gradient for its input.
    public let isFirst: Bool

    public var outputCount: Int { outputShape.reduce(1, *) }
    public var inputCount: Int { inputShape.reduce(1, *) }

    /// Elements the built layer keeps for batches of up to `batch` rows (`LayerKind.memory`).
    public func memory(batch: Int) -> LayerMemory {
        spec.definition.memory(LayerInput(shape: inputShape, isFirst: isFirst, fusesNext: fusesReLU),
                               outputShape: outputShape, batch: batch)
    }
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
        let fused = fuse && i + 1 < specs.count && spec.definition.fuses(with: specs[i + 1])
        var output = shape, params = 0, layerFlops = 0, size = 0
        do {
            let s = try spec.definition.infer(LayerInput(shape: shape, isFirst: first, fusesNext: fused))
            (output, params, layerFlops) = (s.outputShape, s.parameterCount, s.flopsPerSample)
            size = try checkedElementCount(output, what: "the output")
        } catch let e as ShapeError {
            throw ShapeError("layer \(i + 1) (\(spec.kind)): \(e.message)")
        }
        layers.append(InferredLayer(spec: spec, inputShape: shape, outputShape: output, parameterCount: params,
                                    flopsPerSample: layerFlops, fusedIntoPrevious: false, fusesReLU: fused, isFirst: first))
        if fused {
            i += 1
            layers.append(InferredLayer(spec: specs[i], inputShape: output, outputShape: output, parameterCount: 0,
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
