import Foundation

/// `sweep.scheduler`: early termination of bad trials by successive halving, as ASHA's rungs
/// but decided synchronously, so that which trials go on never depends on timing:
/// `{"type": "asha", "metric": "val_acc", "grace_epochs": 1, "reduction_factor": 3, "max_epochs": 27}`.
///
/// Rungs are at `grace_epochs · reduction_factor^k` epochs below `max_epochs`, and
/// `max_epochs` itself. Every trial trains to the first rung; at each rung, once every trial
/// that was sent there has reached it, the top `max(1, ⌊n / reduction_factor⌋)` of the `n`
/// trials that reached it (by `metric` at that epoch, ties by trial index) go on to the next
/// rung from their checkpoint, and the others end with status `stopped` at that rung.
/// A trial that goes through every rung is exactly the trial trained for `max_epochs`
/// without the scheduler: `max_epochs` is each trial's `training.num_epochs`, and a pause at a
/// rung continues bit for bit. Decisions use only rung results, so they are the same with any
/// `--jobs` and after an interruption.
///
/// Cost: with n trials, at most n·r₀ + (n/η)·(r₁−r₀) + … epochs instead of n·max_epochs.
public struct Halving: Sendable, Equatable {
    public enum Metric: String, Sendable, CaseIterable { case val_acc, train_acc }
    public var metric: Metric
    public var graceEpochs: Int
    public var reductionFactor: Int
    public var maxEpochs: Int

    public init(metric: Metric = .val_acc, graceEpochs: Int = 1, reductionFactor: Int = 3, maxEpochs: Int) {
        self.metric = metric; self.graceEpochs = graceEpochs; self.reductionFactor = reductionFactor; self.maxEpochs = maxEpochs
    }

    public static let types = ["asha"]
    static let keys = ["type", "metric", "grace_epochs", "reduction_factor", "max_epochs"]
    public static let syntax = "scheduler: {\"type\": \"asha\", \"metric\": \"val_acc\"|\"train_acc\", \"grace_epochs\": 1, \"reduction_factor\": 3, \"max_epochs\": num_epochs}  stop bad trials at rungs (successive halving, deterministic)"

    /// Epochs at which trials are compared: grace·η^k below max_epochs, then max_epochs.
    public var rungs: [Int] {
        var out: [Int] = [], r = graceEpochs
        while r < maxEpochs { out.append(r); r *= reductionFactor }
        return out + [maxEpochs]
    }

    /// How many of `n` trials that reached a rung go on.
    public func promotions(of n: Int) -> Int { n == 0 ? 0 : max(1, n / reductionFactor) }

    /// The trials (by index) that go on from a rung: the best `promotions(of:)` by value,
    /// higher first, ties by lower index.
    public func promoted(_ reached: [(index: Int, value: Double)]) -> [Int] {
        let ranked = reached.sorted { a, b in a.value != b.value ? a.value > b.value : a.index < b.index }
        return ranked.prefix(promotions(of: reached.count)).map(\.index).sorted()
    }

    /// The trial's metric at `epoch`, when its history has that check.
    public func value(_ record: TrialRecord, at epoch: Int) -> Double? {
        guard let e = record.epochs.first(where: { $0.epoch == epoch }) else { return nil }
        let v = metric == .val_acc ? e.valAccuracy : e.trainAccuracy
        return v.isNaN ? nil : v
    }

    /// Whether `record` already holds what training to `rung` would give.
    func reached(_ record: TrialRecord, rung: Int) -> Bool {
        switch record.status {
        case .finished, .diverged: return true
        case .stopped: return (record.epochs.last?.epoch ?? 0) >= rung
        case .failed, .interrupted: return false
        }
    }

    static func quotedList(_ xs: [String]) -> String { xs.map { "\"\($0)\"" }.joined(separator: ", ") }

    /// Reads `sweep.scheduler`; `numEpochs` is the base config's `training.num_epochs`.
    static func parse(_ spec: JSON, numEpochs: Int) throws(ConfigError) -> Halving {
        let at = "sweep.scheduler"
        guard case .object(let pairs) = spec else { throw .wrongType(path: at, expected: "an object with \"type\": \"asha\"", found: spec.typeName) }
        for (k, _) in pairs where !(keys + ["//"]).contains(k) { throw .unknownKey(path: at, key: k, suggestion: nearest(k, in: keys)) }
        guard case .string(let type)? = spec["type"] else { throw .wrongType(path: "\(at).type", expected: "\"asha\"", found: spec["type"]?.typeName ?? "nothing") }
        guard types.contains(type) else { throw .invalidValue(path: "\(at).type", message: "\(displayString(type)) is not one of \(quotedList(types))") }
        func int(_ key: String, min: Int, default d: Int) throws(ConfigError) -> Int {
            guard let v = spec[key] else { return d }
            guard case .number(let x) = v, x == x.rounded(), x >= Double(min), x <= 1_000_000 else {
                throw .wrongType(path: "\(at).\(key)", expected: "an integer ≥ \(min)", found: v.typeName)
            }
            return Int(x)
        }
        var metric = Metric.val_acc
        if let m = spec["metric"] {
            guard case .string(let s) = m, let x = Metric(rawValue: s) else {
                throw .invalidValue(path: "\(at).metric", message: "\({ if case .string(let s) = m { return displayString(s) }; return m.typeName }()) is not one of \(quotedList(Metric.allCases.map(\.rawValue)))")
            }
            metric = x
        }
        let h = Halving(metric: metric, graceEpochs: try int("grace_epochs", min: 1, default: 1),
                        reductionFactor: try int("reduction_factor", min: 2, default: 3),
                        maxEpochs: try int("max_epochs", min: 1, default: numEpochs))
        guard h.graceEpochs <= h.maxEpochs else {
            throw .invalidValue(path: "\(at).grace_epochs", message: "is \(h.graceEpochs), more than max_epochs (\(h.maxEpochs))")
        }
        return h
    }
}
