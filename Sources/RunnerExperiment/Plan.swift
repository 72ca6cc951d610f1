import Foundation

/// Cost estimate of one trial, for `runner plan`.
public struct TrialCost: Sendable {
    public let parameters: Int
    /// Floating-point operations of the whole trial (training + accuracy checks), estimated.
    public let flops: Double
}

public func estimateCost(_ t: TrialPlan) throws(ConfigError) -> TrialCost {
    let net = try t.config.makeNetwork(Float.self, seed: 0)
    let c = t.config
    let numTrain = c.numTrain ?? (c.dataSource == "synthetic" ? 1000 : 49000)
    let iters = Double(c.training.numEpochs * c.training.iterationsPerEpoch(numTrain: numTrain))
    let perSample = Double(net.flopsPerSample)
    let train = iters * Double(c.training.batchSize) * perSample
    let checks = Double(c.training.numEpochs + 1) * Double(min(c.training.trainAccuracySamples, numTrain) + c.numVal) * perSample / 3
    return TrialCost(parameters: net.parameterCount, flops: train + checks + Double(c.numTest) * perSample / 3)
}

/// Human-readable flop count (`12.3 GFLOP`).
public func formatFlops(_ f: Double) -> String {
    let units = [(1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP")]
    for (scale, name) in units where f >= scale { return String(format: "%.1f %@", f / scale, name) }
    return String(format: "%.0f FLOP", f)
}
