import Foundation

/// Cost estimate of one trial, for `runner plan`.
public struct TrialCost: Sendable {
    public let parameters: Int
    /// Floating-point operations of the whole trial (training + accuracy checks), estimated.
    public let flops: Double
    /// Peak memory of the trial, estimated.
    public let memory: MemoryEstimate
}

/// Work and memory of one trial, from the inferred shapes (no network is built) and the
/// data's sample shape and row counts (read from its headers).
public func estimateCost(_ t: TrialPlan) throws(ConfigError) -> TrialCost {
    let c = t.config
    let shapes = try c.networkShapes()
    let rows = c.dataRows
    let numTrain = rows.train
    let iters = Double(c.training.numEpochs) * Double(c.training.iterationsPerEpoch(numTrain: numTrain))
    let perSample = Double(shapes.flopsPerSample)
    let train = iters * Double(c.training.batchSize) * perSample
    let checks = Double(c.training.numEpochs + 1) * Double(min(c.training.trainAccuracySamples, numTrain) + rows.val) * perSample / 3
    return TrialCost(parameters: shapes.parameterCount, flops: train + checks + Double(rows.test) * perSample / 3,
                     memory: c.memoryEstimate(shapes))
}

/// Human-readable flop count (`12.3 GFLOP`).
public func formatFlops(_ f: Double) -> String {
    let units = [(1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP")]
    for (scale, name) in units where f >= scale { return String(format: "%.1f %@", f / scale, name) }
    return String(format: "%.0f FLOP", f)
}
