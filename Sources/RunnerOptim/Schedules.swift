import Foundation

/// The learning-rate schedule registry: every `optimizer.schedule.type` a config can name.
/// A schedule is a pure function of the iteration index (no state is carried from one
/// iteration to the next), so the rate of any iteration can be recomputed from the
/// iteration count alone, e.g. when a run resumes from a checkpoint.
///
/// Adding a schedule: write its type below (name, the `optimizer.schedule` fields it reads,
/// its rate) and add it to `Schedules.all`.
public enum Schedules: NameRegistry {
    public static let all: [any LearningRateSchedule.Type] = [ExponentialSchedule.self, StepSchedule.self, MultiStepSchedule.self, CosineSchedule.self]
    public static var names: [String] { all.map { $0.name } }
    public static func named(_ name: String) -> (any LearningRateSchedule.Type)? { all.first { $0.name == name } }
    /// "step, multistep": the schedules that read `field`.
    public static func using(_ field: String) -> [String] { all.filter { $0.fieldsUsed.contains(field) }.map { $0.name } }
}

/// A schedule by name (`optimizer.schedule.type`): one of `Schedules.all`.
public typealias ScheduleKind = RegisteredName<Schedules>

extension RegisteredName where R == Schedules {
    public var schedule: any LearningRateSchedule.Type { Schedules.named(rawValue)! }
    public static var exponential: ScheduleKind { ScheduleKind(registered: ExponentialSchedule.name) }
    public static var step: ScheduleKind { ScheduleKind(registered: StepSchedule.name) }
    public static var multistep: ScheduleKind { ScheduleKind(registered: MultiStepSchedule.name) }
    public static var cosine: ScheduleKind { ScheduleKind(registered: CosineSchedule.name) }
}

/// One schedule: the rate of iteration `u` counted from the end of the warm-up (0-based),
/// given the base rate, the iterations per epoch `P` and the iterations after the warm-up `S`.
public protocol LearningRateSchedule: Sendable {
    static var name: String { get }
    /// One line for the docs.
    static var summary: String { get }
    /// The `optimizer.schedule` fields it reads besides `type` and `warmup_epochs`
    /// (`lr_decay` is an `optimizer` field).
    static var fieldsUsed: [String] { get }
    static func rate(base: Double, iteration u: Int, perEpoch P: Int, span S: Int, settings: OptimizerSettings) -> Double
}

/// `optimizer.schedule`: which schedule and its settings (each schedule reads its own).
public struct ScheduleSettings: Equatable, Sendable {
    public var kind = ScheduleKind.exponential
    /// Epochs of linear warm-up in front of the schedule (0: none).
    public var warmupEpochs = 0
    /// step: the rate is multiplied by `gamma` after every `stepEpochs` epochs.
    public var stepEpochs: Int? = nil
    /// step and multistep: the factor.
    public var gamma = 0.1
    /// multistep: the epochs after which the rate is multiplied by `gamma` (increasing).
    public var milestones: [Int] = []
    /// cosine: the rate at the end of training.
    public var minLR = 0.0
    public init() {}
}

extension OptimizerSettings {
    /// The learning rate of iteration `t` (0-based) of a run of `numEpochs` epochs of
    /// `iterationsPerEpoch` iterations: a pure function of its arguments and the settings.
    ///
    /// With `w = warmup_epochs`, `W = w·P` warm-up iterations: for `t < W` the rate is
    /// `lr·(t + 1)/W` (linear, reaching `lr` at the last warm-up iteration); after it the
    /// schedule runs as if training started there: `u = t − W` over `S = numEpochs·P − W`
    /// iterations. Cost: O(epochs) multiplications (the exponential and step schedules
    /// multiply the rate once per epoch or step, as the course does, so that their rates are
    /// bit-identical to repeated `lr ← lr·lr_decay`).
    public func learningRate(at t: Int, iterationsPerEpoch P: Int, numEpochs: Int) -> Double {
        let W = schedule.warmupEpochs * P
        if t < W { return learningRate * Double(t + 1) / Double(W) }
        return schedule.kind.schedule.rate(base: learningRate, iteration: t - W, perEpoch: P, span: max(numEpochs * P - W, 1), settings: self)
    }
}

/// `base · f · f · …` (n factors), multiplied one at a time like an epoch-end decay.
func repeatedlyMultiplied(_ base: Double, by f: Double, times n: Int) -> Double {
    var r = base
    for _ in 0..<max(n, 0) { r *= f }
    return r
}

/// exponential (the course's `lr_decay`, the default): `lr·lr_decay^e` in epoch e+1 (e = u / P).
public enum ExponentialSchedule: LearningRateSchedule {
    public static let name = "exponential"
    public static let summary = "the rate is multiplied by optimizer.lr_decay at the end of every epoch (the course)"
    public static let fieldsUsed: [String] = []
    public static func rate(base: Double, iteration u: Int, perEpoch P: Int, span S: Int, settings: OptimizerSettings) -> Double {
        repeatedlyMultiplied(base, by: settings.lrDecay, times: u / P)
    }
}

/// step: `lr·γ^⌊e/k⌋` in epoch e+1 (epochs 1…k use lr, k+1…2k use lr·γ, …).
public enum StepSchedule: LearningRateSchedule {
    public static let name = "step"
    public static let summary = "the rate is multiplied by gamma after every step_epochs epochs"
    public static let fieldsUsed = ["step_epochs", "gamma"]
    public static func rate(base: Double, iteration u: Int, perEpoch P: Int, span S: Int, settings: OptimizerSettings) -> Double {
        repeatedlyMultiplied(base, by: settings.schedule.gamma, times: (u / P) / max(settings.schedule.stepEpochs ?? 1, 1))
    }
}

/// multistep: `lr·γ^n` where n = the milestones m with m ≤ e in epoch e+1 (multiplied by γ
/// after epoch m1, again after m2, …).
public enum MultiStepSchedule: LearningRateSchedule {
    public static let name = "multistep"
    public static let summary = "the rate is multiplied by gamma after each epoch listed in milestones"
    public static let fieldsUsed = ["milestones", "gamma"]
    public static func rate(base: Double, iteration u: Int, perEpoch P: Int, span S: Int, settings: OptimizerSettings) -> Double {
        repeatedlyMultiplied(base, by: settings.schedule.gamma, times: settings.schedule.milestones.filter { $0 <= u / P }.count)
    }
}

/// cosine, per iteration: `min_lr + (lr − min_lr)·(1 + cos(π·u/S))/2`, from lr at the first
/// iteration after the warm-up towards min_lr at the end of training (PyTorch's
/// `CosineAnnealingLR` with `T_max` = S iterations).
public enum CosineSchedule: LearningRateSchedule {
    public static let name = "cosine"
    public static let summary = "per iteration, from the base rate down to min_lr by a half cosine over the epochs after the warm-up"
    public static let fieldsUsed = ["min_lr"]
    public static func rate(base: Double, iteration u: Int, perEpoch P: Int, span S: Int, settings: OptimizerSettings) -> Double {
        let m = settings.schedule.minLR
        return m + (base - m) * (1 + cos(Double.pi * Double(u) / Double(S))) / 2
    }
}
