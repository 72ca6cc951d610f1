/// nesterov: `v' = μ·v − lr·dw; w += v' + μ·(v' − v)` (μ = `momentum`).
public enum Nesterov: UpdateRule {
    public static let info = UpdateRuleInfo(name: "nesterov", state: ["velocity"], uses: ["momentum", "weight_decay"], defaultLearningRate: 1e-2)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        T.nesterovUpdate(count: count, w: w, dw: dw, v: state[0], lr: lr, momentum: T(settings.momentum))
    }
}

extension OptimizerKind { public static var nesterov: OptimizerKind { OptimizerKind(registered: Nesterov.name) } }
