/// rmsprop: `s = ρ·s + (1 − ρ)·dw²; w −= lr·dw/(√s + eps)` (ρ = `decay_rate`).
public enum RMSProp: UpdateRule {
    public static let info = UpdateRuleInfo(name: "rmsprop", state: ["cache"], uses: ["decay_rate", "epsilon"], defaultLearningRate: 1e-2)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        T.rmspropUpdate(count: count, w: w, dw: dw, s: state[0], lr: lr, decay: T(settings.decayRate), eps: T(settings.epsilon))
    }
}

extension OptimizerKind { public static var rmsprop: OptimizerKind { OptimizerKind(registered: RMSProp.name) } }
