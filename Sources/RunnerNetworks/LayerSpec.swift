@_exported import RunnerLayers

// `LayerSpec`, `WeightInit` and the layer registry live in RunnerLayers (`LayerRegistry.swift`),
// next to the layers whose files declare their kinds; the presets below build their specs
// through those kinds.

/// The fc preset of SPEC §3: `{affine → [norm] → relu → [dropout]} × k → affine`.
/// `normalization` is "none" or the config name of a registered layer (batchnorm, layernorm).
public func fullyConnectedSpecs(hiddenDims: [Int], numClasses: Int, normalization: String, dropout: Double) -> [LayerSpec] {
    let norm: LayerSpec? = normalization == "none" ? nil : LayerRegistry.spec(named: normalization)
    precondition(normalization == "none" || norm != nil, "fc preset: no layer type \"\(normalization)\" to normalise with")
    var specs: [LayerSpec] = []
    for h in hiddenDims {
        specs.append(.affine(outputs: h))
        if let norm { specs.append(norm) }
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
