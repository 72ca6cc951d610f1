/// sgd_momentum: `v = μ·v − lr·dw; w += v` (μ = `momentum`).
public enum SGDMomentum: UpdateRule {
    public static let info = UpdateRuleInfo(name: "sgd_momentum", state: ["velocity"], uses: ["momentum", "weight_decay"], defaultLearningRate: 1e-2)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        T.momentumUpdate(count: count, w: w, dw: dw, v: state[0], lr: lr, momentum: T(settings.momentum))
    }
}

extension OptimizerKind { public static var sgd_momentum: OptimizerKind { OptimizerKind(registered: SGDMomentum.name) } }
