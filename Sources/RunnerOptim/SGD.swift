/// sgd: `w −= lr·dw`. No state.
public enum SGD: UpdateRule {
    public static let info = UpdateRuleInfo(name: "sgd", state: [], uses: ["weight_decay"], defaultLearningRate: 1e-2)
    public static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                                     lr: T, settings: OptimizerSettings, t: Int) {
        T.sgdUpdate(count: count, w: w, dw: dw, lr: lr)
    }
}

extension OptimizerKind { public static var sgd: OptimizerKind { OptimizerKind(registered: SGD.name) } }
