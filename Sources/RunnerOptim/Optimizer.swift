@_exported import RunnerNetworks
import Foundation

/// The update-rule registry: every `optimizer.type` a config can name, each an `UpdateRule`
/// declared in its own file (config name, state buffers, default learning rate, the update)
/// together with its `OptimizerKind` constant.
///
/// Adding a rule: write its file and add the type to `UpdateRules.all`. Swift has no
/// load-time hook a file could use to register itself, so that one line is the registration.
public enum UpdateRules: NameRegistry {
    public static let all: [any UpdateRule.Type] = [SGD.self, SGDMomentum.self, Nesterov.self, RMSProp.self, Adam.self, Adagrad.self, AdamW.self]
    public static var names: [String] { all.map { $0.name } }

    public static func named(_ name: String) -> (any UpdateRule.Type)? { all.first { $0.name == name } }

    /// "adam, rmsprop": the rules that read `setting`.
    public static func using(_ setting: String) -> String { all.filter { $0.settingsUsed.contains(setting) }.map { $0.name }.joined(separator: ", ") }

    /// "0.01 for adamw, 0 for the others": the default weight decays of the rules that use it.
    public static var defaultWeightDecays: String {
        let users = all.filter { $0.settingsUsed.contains("weight_decay") }
        let special = users.filter { $0.defaultWeightDecay != 0 }.map { "\($0.defaultWeightDecay) for \($0.name)" }
        return (special + ["0 for the others"]).joined(separator: ", ")
    }

    /// "0.001 for adam, 0.01 for the others": the default learning rates.
    public static var defaultLearningRates: String {
        let common = Dictionary(grouping: all, by: { $0.defaultLearningRate }).max { $0.value.count < $1.value.count }?.key
        let special = all.filter { $0.defaultLearningRate != common }.map { "\($0.defaultLearningRate) for \($0.name)" }
        return (special + (common.map { ["\($0) for the others"] } ?? [])).joined(separator: ", ")
    }
}

/// What a config and the docs know of an update rule.
public struct UpdateRuleInfo: Sendable {
    /// The config name (`optimizer.type`).
    public let name: String
    /// Names of the per-parameter state buffers, each the parameter's size (e.g. Adam's
    /// first and second moments); zero-initialised.
    public let stateNames: [String]
    /// The `optimizer` settings it reads besides the learning rate (for the docs).
    public let settingsUsed: [String]
    /// The learning rate when the config gives none.
    public let defaultLearningRate: Double
    /// The decoupled weight decay when the config gives none (only rules that use
    /// `weight_decay`; 0.01 for adamw as in PyTorch, 0 for the others).
    public let defaultWeightDecay: Double
    public init(name: String, state: [String], uses: [String], defaultLearningRate: Double, defaultWeightDecay: Double = 0) {
        self.name = name; stateNames = state; settingsUsed = uses; self.defaultLearningRate = defaultLearningRate
        self.defaultWeightDecay = defaultWeightDecay
    }
}

/// One update rule of SPEC §4: `step` updates one parameter in place from its gradient.
public protocol UpdateRule: Sendable {
    static var info: UpdateRuleInfo { get }
    /// One update of `count` values: weights `w`, gradient `dw`, state buffers `state`
    /// (as many as `info.stateNames`); `t` is the step number, from 1.
    static func step<T: Real>(count: Int, w: UnsafeMutablePointer<T>, dw: UnsafePointer<T>, state: [UnsafeMutablePointer<T>],
                              lr: T, settings: OptimizerSettings, t: Int)
}

extension UpdateRule {
    public static var name: String { info.name }
    public static var stateNames: [String] { info.stateNames }
    public static var settingsUsed: [String] { info.settingsUsed }
    public static var defaultLearningRate: Double { info.defaultLearningRate }
    public static var defaultWeightDecay: Double { info.defaultWeightDecay }
}

/// An update rule by name (`optimizer.type`): one of `UpdateRules.all`.
public typealias OptimizerKind = RegisteredName<UpdateRules>

extension RegisteredName where R == UpdateRules {
    public var rule: any UpdateRule.Type { UpdateRules.named(rawValue)! }
}

public struct OptimizerSettings: Equatable, Sendable {
    public var kind: OptimizerKind
    public var learningRate: Double
    public var momentum = 0.9
    public var decayRate = 0.99
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    /// Multiplies the learning rate once at the end of each epoch (the `exponential` schedule).
    public var lrDecay = 1.0
    /// Decoupled weight decay `wd`: every step first does `w ← w·(1 − lr·wd)` on every
    /// parameter (weights, biases, γ and β alike, as PyTorch's `weight_decay`), then the rule's
    /// update. Unlike the L2 `reg` it is not part of the loss or the gradient, so it does not
    /// pass through momentum or Adam's moments. 0: none.
    public var weightDecay: Double
    /// How the learning rate changes over training (see `learningRate(at:iterationsPerEpoch:numEpochs:)`).
    public var schedule = ScheduleSettings()

    public init(kind: OptimizerKind, learningRate: Double? = nil) {
        self.kind = kind
        self.learningRate = learningRate ?? OptimizerSettings.defaultLearningRate(for: kind)
        weightDecay = kind.rule.defaultWeightDecay
    }

    /// The learning rate used when none is given (the rule's own: 1e-3 for adam, 1e-2 for the others).
    public static func defaultLearningRate(for kind: OptimizerKind) -> Double { kind.rule.defaultLearningRate }

    /// Every default in one place (the config schema reads its defaults from here).
    public static let defaults = OptimizerSettings(kind: .sgd)
}

/// Per-parameter optimizer state and the in-place update of every parameter.
/// Each update is one fused pass over the parameter (see `OptimizerKernels`).
public final class Optimizer<T: Real> {
    public let settings: OptimizerSettings
    /// The learning rate of the next `update()` (the Solver sets it every iteration from the schedule).
    public var learningRate: Double
    /// Steps taken so far (Adam's bias correction uses it); may be set to resume.
    public var step = 0
    public let parameters: [Parameter<T>]
    /// The rule's state buffers of each parameter (`state[k][i]` is buffer `stateNames[i]` of
    /// parameter `k`), read and written in place (e.g. to save or restore a run).
    public let state: [[Tensor<T>]]
    private let rule: any UpdateRule.Type
    private let statePointers: [[UnsafeMutablePointer<T>]]
    /// The run's thread budget (nil: one thread). A large parameter's update is split into
    /// chunks on that many threads; every rule is elementwise, and chunks start at multiples
    /// of 64 values, so each value goes through the same operations as on one thread (the
    /// result is bit-identical whatever the budget).
    public var context: ComputeContext? = nil
    /// Parameters smaller than this are updated on one thread (the split would cost more).
    static var parallelMinimum: Int { 1 << 15 }

    public init(settings: OptimizerSettings, parameters: [Parameter<T>]) {
        self.settings = settings
        self.learningRate = settings.learningRate
        self.parameters = parameters
        rule = settings.kind.rule
        let names = rule.stateNames
        state = parameters.map { p in names.map { _ in Tensor<T>(shape: p.value.shape) } }
        statePointers = state.map { $0.map(\.data) }
    }

    /// Names of the state buffers of each parameter (see `state`).
    public var stateNames: [String] { rule.stateNames }

    /// Applies one update to every parameter from its current gradient: the decoupled
    /// weight decay `w ← w·(1 − lr·wd)` when `weightDecay` is not 0, then the rule's step.
    /// Cost: one or two passes over every parameter.
    public func update() {
        step += 1
        let lr = T(learningRate)
        let keep = settings.weightDecay == 0 ? nil : Optional(T(1 - learningRate * settings.weightDecay))
        let threads = context?.productThreads ?? 1
        for (k, p) in parameters.enumerated() {
            let n = p.value.count
            let tasks = threads > 1 && n >= Self.parallelMinimum ? threads : 1
            let chunk = ((n + tasks - 1) / tasks + 63) / 64 * 64
            forEachTask(tasks) { t in
                let start = t * chunk, count = min(chunk, n - start)
                guard count > 0 else { return }
                if let keep { scaleInPlace(p.value.data + start, count: count, by: keep) }
                // one thread: the stored pointers as they are (no array made per step)
                let state = start == 0 ? statePointers[k] : statePointers[k].map { $0 + start }
                rule.step(count: count, w: p.value.data + start, dw: UnsafePointer(p.grad.data + start),
                          state: state, lr: lr, settings: settings, t: step)
            }
        }
    }

    /// `lr ← lr · lr_decay` (the exponential schedule done by hand; the Solver instead sets
    /// `learningRate` from `settings.learningRate(at:iterationsPerEpoch:numEpochs:)` every iteration).
    public func decayLearningRate() { learningRate *= settings.lrDecay }
}

/// `x[i] *= s` for `count` values.
@_specialize(where T == Float)
@_specialize(where T == Double)
func scaleInPlace<T: Real>(_ x: UnsafeMutablePointer<T>, count: Int, by s: T) {
    for i in 0..<count { x[i] *= s }
}
