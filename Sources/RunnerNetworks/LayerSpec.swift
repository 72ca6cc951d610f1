@_exported import RunnerLayers

/// One entry of a network's layer list, as a config describes it (before shapes are known).
public enum LayerSpec: Equatable, Sendable {
    case affine(outputs: Int)
    case relu
    case batchnorm
    case spatialBatchnorm
    case layernorm
    case dropout(p: Double)
    case conv(filters: Int, height: Int, width: Int, stride: Int, pad: Int)
    case maxpool(height: Int, width: Int, stride: Int)
    case flatten

    /// Config name of the layer type.
    public var kind: String {
        switch self {
        case .affine: "affine"
        case .relu: "relu"
        case .batchnorm: "batchnorm"
        case .spatialBatchnorm: "spatial_batchnorm"
        case .layernorm: "layernorm"
        case .dropout: "dropout"
        case .conv: "conv"
        case .maxpool: "maxpool"
        case .flatten: "flatten"
        }
    }
}

/// How weight matrices are initialised (biases 0, γ 1, β 0 always).
public enum WeightInit: Equatable, Sendable {
    /// `W = scale · N(0, 1)` (the course's `weight_scale`).
    case scale(Double)
    /// `W = √(2/fan_in) · N(0, 1)`.
    case kaiming
    /// `W = √(2/(fan_in + fan_out)) · N(0, 1)`.
    case xavier

    func std(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .scale(let s): s
        case .kaiming: (2.0 / Double(fanIn)).squareRoot()
        case .xavier: (2.0 / Double(fanIn + fanOut)).squareRoot()
        }
    }
}

/// The fc preset of SPEC §3: `{affine → [norm] → relu → [dropout]} × k → affine`.
public func fullyConnectedSpecs(hiddenDims: [Int], numClasses: Int, normalization: String, dropout: Double) -> [LayerSpec] {
    var specs: [LayerSpec] = []
    for h in hiddenDims {
        specs.append(.affine(outputs: h))
        if normalization == "batchnorm" { specs.append(.batchnorm) }
        if normalization == "layernorm" { specs.append(.layernorm) }
        specs.append(.relu)
        if dropout > 0 { specs.append(.dropout(p: dropout)) }
    }
    specs.append(.affine(outputs: numClasses))
    return specs
}

/// The three-layer convnet preset of SPEC §3:
/// `conv (same padding) → relu → 2×2 max pool → affine → relu → affine`.
public func threeLayerConvnetSpecs(numFilters: Int, filterSize: Int, hiddenDim: Int, numClasses: Int) -> [LayerSpec] {
    [.conv(filters: numFilters, height: filterSize, width: filterSize, stride: 1, pad: (filterSize - 1) / 2),
     .relu, .maxpool(height: 2, width: 2, stride: 2), .affine(outputs: hiddenDim), .relu, .affine(outputs: numClasses)]
}
