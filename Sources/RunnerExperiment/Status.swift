import Foundation

/// Where an experiment stands, read from its results folder (plan and records; nothing is
/// written): for `runner status`.
public struct ExperimentStatus: Sendable {
    public var directory: String
    public var name: String
    public var total = 0, finished = 0, diverged = 0, failed = 0
    /// Trials the sweep's scheduler stopped at a rung (`sweep.scheduler`).
    public var stopped = 0
    /// Trials without a record (not run yet, running, or interrupted).
    public var remaining: Int { total - finished - diverged - failed - stopped }
    /// The finished trial with the best validation accuracy.
    public var best: TrialSummary?
    /// Why the folder could not be read, when it could not.
    public var problem: String?
}

/// The experiments in `root`: `root` itself when it is a results folder (has
/// experiment.json), otherwise each such folder directly inside it, by name.
public func experimentStatuses(under root: String) -> [ExperimentStatus] {
    let fm = FileManager.default
    func isResults(_ d: String) -> Bool { fm.fileExists(atPath: (d as NSString).appendingPathComponent("experiment.json")) }
    let dirs = isResults(root) ? [root]
        : ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted().map { (root as NSString).appendingPathComponent($0) }.filter(isResults)
    return dirs.map { dir in
        var s = ExperimentStatus(directory: dir, name: (dir as NSString).lastPathComponent)
        do {
            let plan = try ExperimentPlan.fromResults(directory: dir)
            s.name = plan.name
            s.total = plan.trials.count
            let records = try ResultsFolder(dir, create: false).records(of: plan).records
            for r in records {
                switch r.status {
                case .finished: s.finished += 1
                case .diverged: s.diverged += 1
                case .failed: s.failed += 1
                case .stopped: s.stopped += 1
                case .interrupted: break
                }
            }
            s.best = records.filter { $0.status == .finished }.map(\.summary).max { ($0.bestValAcc ?? -1) < ($1.bestValAcc ?? -1) }
        } catch {
            s.problem = "\(error)"
        }
        return s
    }
}
