@_exported import RunnerNetworks
import Foundation

/// Update rules of SPEC §4 and their hyper-parameters.
public enum OptimizerKind: String, Sendable, CaseIterable {
    case sgd, sgd_momentum, nesterov, rmsprop, adam, adagrad
}

public struct OptimizerSettings: Equatable, Sendable {
    public var kind: OptimizerKind
    public var learningRate: Double
    public var momentum = 0.9
    public var decayRate = 0.99
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    /// Multiplies the learning rate once at the end of each epoch.
    public var lrDecay = 1.0

    public init(kind: OptimizerKind, learningRate: Double? = nil) {
        self.kind = kind
        self.learningRate = learningRate ?? OptimizerSettings.defaultLearningRate(for: kind)
    }

    /// The learning rate used when none is given: 1e-3 for adam, 1e-2 for the others.
    public static func defaultLearningRate(for kind: OptimizerKind) -> Double { kind == .adam ? 1e-3 : 1e-2 }

    /// Every default in one place (the config schema reads its defaults from here).
    public static let defaults = OptimizerSettings(kind: .sgd)
}

/// Per-parameter optimizer state and the in-place update of every parameter.
/// Each update is one fused pass over the parameter (see `OptimizerKernels`).
public final class Optimizer<T: Real> {
    public let settings: OptimizerSettings
    /// Current learning rate (decayed by `decayLearningRate()`).
    public private(set) var learningRate: Double
    /// Adam's step counter, incremented before use.
    public private(set) var step = 0
    private let parameters: [Parameter<T>]
    private var first: [Tensor<T>] = []
    private var second: [Tensor<T>] = []

    public init(settings: OptimizerSettings, parameters: [Parameter<T>]) {
        self.settings = settings
        self.learningRate = settings.learningRate
        self.parameters = parameters
        let shapes = parameters.map { $0.value.shape }
        switch settings.kind {
        case .sgd: break
        case .sgd_momentum, .nesterov, .rmsprop, .adagrad: first = shapes.map { Tensor(shape: $0) }
        case .adam: first = shapes.map { Tensor(shape: $0) }; second = shapes.map { Tensor(shape: $0) }
        }
    }

    /// Applies one update to every parameter from its current gradient.
    public func update() {
        step += 1
        let s = settings
        let lr = T(learningRate)
        for (k, p) in parameters.enumerated() {
            let n = p.value.count, w = p.value.data, dw = UnsafePointer(p.grad.data)
            switch s.kind {
            case .sgd: T.sgdUpdate(count: n, w: w, dw: dw, lr: lr)
            case .sgd_momentum: T.momentumUpdate(count: n, w: w, dw: dw, v: first[k].data, lr: lr, momentum: T(s.momentum))
            case .nesterov: T.nesterovUpdate(count: n, w: w, dw: dw, v: first[k].data, lr: lr, momentum: T(s.momentum))
            case .rmsprop: T.rmspropUpdate(count: n, w: w, dw: dw, s: first[k].data, lr: lr, decay: T(s.decayRate), eps: T(s.epsilon))
            case .adagrad: T.adagradUpdate(count: n, w: w, dw: dw, s: first[k].data, lr: lr, eps: T(s.epsilon))
            case .adam: T.adamUpdate(count: n, w: w, dw: dw, m: first[k].data, v: second[k].data, lr: lr,
                                     beta1: T(s.beta1), beta2: T(s.beta2), eps: T(s.epsilon), t: step)
            }
        }
    }

    /// End of an epoch: `lr ← lr · lr_decay`.
    public func decayLearningRate() { learningRate *= settings.lrDecay }
}
