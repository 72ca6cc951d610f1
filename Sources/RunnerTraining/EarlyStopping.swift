/// `training.early_stopping`: end training when the metric has not improved by more than
/// `minDelta` for `patience` accuracy checks (one per epoch) in a row. The trial still ends
/// `finished`, with the best parameters restored (as at the normal end).
///
/// Its state (the best value so far, checks since it) is a function of the accuracy
/// history alone (`state(of:)`), so nothing has to be saved to resume a run.
public struct EarlyStopping: Equatable, Sendable {
    /// The history column watched (`metrics`).
    public var metric: String
    public var patience: Int
    public var minDelta: Double
    public init(metric: String = "val_acc", patience: Int, minDelta: Double = 0) {
        self.metric = metric; self.patience = patience; self.minDelta = minDelta
    }

    /// The metrics it can watch (higher is better), as the history names them.
    public static let metrics = ["val_acc", "train_acc"]

    public func value(_ r: EpochRecord) -> Double { metric == "train_acc" ? r.trainAccuracy : r.valAccuracy }

    /// Best value so far and the checks since it improved.
    public struct State: Equatable, Sendable {
        public var best = -Double.infinity
        public var since = 0
        public init(best: Double = -.infinity, since: Int = 0) { self.best = best; self.since = since }
        /// One check: an improvement is a value above `best + minDelta` (the first check
        /// always is); anything else counts one more check without improvement.
        public mutating func observe(_ x: Double, minDelta: Double) {
            if x > best + minDelta { best = x; since = 0 } else { since += 1 }
        }
    }

    /// The state after every check of `history` (epoch 0, the check after the first
    /// iteration, included). Cost: O(history).
    public func state(of history: [EpochRecord]) -> State {
        var s = State()
        for r in history { s.observe(value(r), minDelta: minDelta) }
        return s
    }

    /// Whether training stops after the last check of `history`.
    public func shouldStop(_ history: [EpochRecord]) -> Bool { state(of: history).since >= patience }
}
