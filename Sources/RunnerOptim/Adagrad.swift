/// adagrad: `s += dw²; w −= lr·dw/(√s + eps)`.
public enum Adagrad: UpdateRule {
    public static let info = UpdateRuleInfo(name: "adagrad", state: ["cache"], uses: ["epsilon"], defaultLearningRate: 1e-2)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        T.adagradUpdate(count: count, w: w, dw: dw, s: state[0], lr: lr, eps: T(settings.epsilon))
    }
}

extension OptimizerKind { public static var adagrad: OptimizerKind { OptimizerKind(registered: Adagrad.name) } }
