/// adamw (Loshchilov & Hutter's decoupled weight decay, as PyTorch's `AdamW`): first
/// `w ← w·(1 − lr·wd)` (see `Optimizer.update`), then the adam step with bias correction:
/// `m = β1·m + (1−β1)·dw; v = β2·v + (1−β2)·dw²; w −= lr·m̂/(√v̂ + eps)`.
/// The decay is not part of the gradient, so it never enters m or v (unlike the L2 `reg`).
public enum AdamW: UpdateRule {
    public static let info = UpdateRuleInfo(name: "adamw", state: ["m", "v"], uses: ["beta1", "beta2", "epsilon", "weight_decay"],
                                            defaultLearningRate: 1e-3, defaultWeightDecay: 1e-2)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        Adam.step(count: count, w: w, dw: dw, state: state, lr: lr, settings: settings, t: t)
    }
}

extension OptimizerKind { public static var adamw: OptimizerKind { OptimizerKind(registered: AdamW.name) } }
