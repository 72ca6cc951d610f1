/// adam, with bias correction for step t:
/// `m = β1·m + (1−β1)·dw; v = β2·v + (1−β2)·dw²; w −= lr·m̂/(√v̂ + eps)`.
public enum Adam: UpdateRule {
    public static let info = UpdateRuleInfo(name: "adam", state: ["m", "v"], uses: ["beta1", "beta2", "epsilon"], defaultLearningRate: 1e-3)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        T.adamUpdate(count: count, w: w, dw: dw, m: state[0], v: state[1], lr: lr,
                     beta1: T(settings.beta1), beta2: T(settings.beta2), eps: T(settings.epsilon), t: t)
    }
}

extension OptimizerKind { public static var adam: OptimizerKind { OptimizerKind(registered: Adam.name) } }
