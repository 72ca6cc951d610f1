import Foundation
import Dispatch
import Synchronization

/// Installs the Ctrl-C handler (SIGINT, SIGTERM) of a run: the first signal cancels
/// `context` (trials stop at their next iteration; finished trials keep their files), a
/// second one exits at once with 130. Keep the returned sources alive while the run lasts.
public func installInterruptHandler(_ context: ComputeContext) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)   // delivered to the dispatch source instead
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            if context.isCancelled { _exit(130) }
            context.cancel()
        }
        source.resume()
        return source
    }
}

/// Loads each distinct data set once and shares it, read-only, with every trial.
public final class DataCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: Dataset] = [:]
    public let directoryOverride: String?
    public init(directoryOverride: String? = nil) { self.directoryOverride = directoryOverride }

    public func data(for c: ExperimentConfig) throws -> Dataset {
        let key = "\(c.dataSource)|\(c.dataRequest.resolvingPaths())"
        lock.lock(); defer { lock.unlock() }
        if let d = cache[key] { return d }
        let d = try c.loadData()
        cache[key] = d
        return d
    }
}

/// What a display hears about; called from worker threads (the display serialises).
public enum RunEvent: Sendable {
    case skipped(TrialPlan)
    case started(TrialPlan)
    case progress(TrialPlan, TrainingEvent)
    case finished(TrialPlan, TrialSummary)
}

/// Trains one trial in its config's dtype. Never throws: problems become a `failed` result.
public func runTrial(_ trial: TrialPlan, data: Dataset, context: ComputeContext = ComputeContext(),
                     progress: ((TrainingEvent) -> Void)? = nil) -> TrainingResult {
    func go<T: Real>(_: T.Type) -> TrainingResult {
        do {
            let net = try trial.config.makeNetwork(T.self, seed: trial.seed, context: context)
            let opt = Optimizer<T>(settings: trial.config.optimizer, parameters: net.parameters)
            let solver = Solver(network: net, optimizer: opt, data: data, settings: trial.config.training, seed: trial.seed)
            return solver.train(progress: progress, shouldStop: { context.isCancelled })
        } catch {
            var r = TrainingResult(); r.status = .failed; r.message = "\(error)"; return r
        }
    }
    return trial.config.dtype == "float64" ? go(Double.self) : go(Float.self)
}

public struct RunOptions: Sendable {
    public var jobs: Int
    public var fresh = false
    /// The trials this process runs (sharding); others are left to other processes.
    public var selection = TrialSelection.all
    /// Thread budget and cancellation of the run (Ctrl-C cancels it; see `installInterruptHandler`).
    public var context = ComputeContext()
    public init(jobs: Int) { self.jobs = jobs }
}

public struct RunReport: Sendable {
    public var ran: [TrialSummary] = []
    /// Trials that were already complete when this run reached them.
    public var skipped = 0
    /// Trials another process (sharing the results folder) ran while this one was running.
    public var byOtherProcesses = 0
    public var failed: [TrialSummary] = []
    public var interrupted = false
    public var staleTrialDirs: [String] = []
    /// Every complete trial of the plan (this run's and earlier ones), in plan order.
    public var complete: [TrialSummary] = []
    /// Trials of the plan without results (other shards' or not yet run).
    public var missing: [TrialPlan] = []
}

/// Runs the plan's trials on `jobs` worker threads (one compute thread each), writing every
/// finished trial atomically and skipping trials whose results already exist with the
/// same config. Trial order of execution does not affect any number written.
///
/// Several processes may run one plan on one results folder at once (on one machine or on
/// a shared file system): each trial is claimed (`TrialClaim`) before it runs, so every trial
/// is trained once; a process that finds a trial claimed by another comes back to it at the
/// end and waits for it, and runs it itself if the other process ended without results.
public func runExperiment(_ plan: ExperimentPlan, options: RunOptions, cache: DataCache,
                          onEvent: @escaping @Sendable (RunEvent) -> Void) throws -> RunReport {
    let folder = try ResultsFolder(plan.directory, create: true)
    let started = Date()
    folder.removeStaleTemporaries()
    try folder.write(plan.experimentJSON.serialized() + "\n", to: "experiment.json")
    var report = RunReport()
    report.staleTrialDirs = staleTrialFolders(plan, folder: folder)
    if options.fresh, options.selection == .all {
        // Folders of this experiment run with another config: the runner's files in them go.
        for d in report.staleTrialDirs { try folder.removeRunnerFiles(TrialFiles.runnerFiles, in: "trials/" + d) }
        report.staleTrialDirs = staleTrialFolders(plan, folder: folder)
    }

    var todo: [TrialPlan] = []
    for t in plan.trials where options.selection.contains(t.index) {
        if !options.fresh, isTrialComplete(t, folder: folder) {
            report.skipped += 1
            onEvent(.skipped(t))
            continue
        }
        todo.append(t)
    }
    // The class names in class order (for CSV tables with string labels, the mapping of
    // names to the class indices every accuracy and prediction uses).
    if let first = todo.first, let data = try? cache.data(for: first.config) {
        try folder.write(csv(["class", "name"], data.classNames.enumerated().map { [String($0.offset), $0.element] }), to: "classes.csv")
    }
    let workers = max(1, min(options.jobs, todo.count))
    let context = options.context
    let shared = SharedRun(todo: todo, workers: workers, budget: options.jobs, context: context)
    let group = DispatchGroup()
    for _ in 0..<workers {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            defer { shared.workerDone() }
            while let (t, wait) = shared.take() {
                let claim: FileLock
                do {
                    guard let c = try waitForClaim(t, folder: folder, wait: wait, context: context) else { shared.postpone(t); continue }
                    claim = c
                } catch {
                    let s = failed(t, "\(error)"); shared.record(s); onEvent(.finished(t, s)); continue
                }
                defer { claim.release() }
                folder.removeStaleTemporaries(in: TrialFiles(id: t.id).directory)
                // Another process may have finished it in the meantime (or during this run).
                if finishedElsewhere(t, folder: folder, fresh: options.fresh, since: started) {
                    shared.recordOther()
                    onEvent(.skipped(t))
                    continue
                }
                if options.fresh {
                    do { try folder.removeRunnerFiles(TrialFiles.runnerFiles, in: TrialFiles(id: t.id).directory) }
                    catch { let s = failed(t, "\(error)"); shared.record(s); onEvent(.finished(t, s)); continue }
                }
                onEvent(.started(t))
                var result: TrainingResult
                do {
                    let data = try cache.data(for: t.config)
                    result = runTrial(t, data: data, context: context) { e in onEvent(.progress(t, e)) }
                } catch {
                    result = TrainingResult(); result.status = .failed; result.message = "\(error)"
                }
                var summary = summarize(t, result: result)
                if result.status != .interrupted {   // failed trials are recorded too (a rerun retries them)
                    do { summary = try writeTrial(t, result: result, folder: folder) }
                    catch {
                        // Not complete: its record (the completion mark) must not be there.
                        _ = try? folder.removeRunnerFiles(["record.json"], in: TrialFiles(id: t.id).directory)
                        summary.status = .failed
                        summary.message = "\(error)"
                    }
                }
                shared.record(summary)
                onEvent(.finished(t, summary))
            }
        }
    }
    group.wait()
    let results = shared.outcome()
    report.ran = results.sorted { $0.index < $1.index }
    report.failed = report.ran.filter { $0.status == .failed }
    report.byOtherProcesses = shared.others
    report.interrupted = context.isCancelled
    (report.complete, report.missing) = try writeSweepTablesLocked(plan: plan, folder: folder)
    return report
}

func failed(_ t: TrialPlan, _ message: String) -> TrialSummary {
    var r = TrainingResult(); r.status = .failed; r.message = message
    return summarize(t, result: r)
}

/// Claims `t`: at once (nil when another process holds it) or, with `wait`, polling until
/// the other process lets go (it finished, failed or died) or Ctrl-C.
func waitForClaim(_ t: TrialPlan, folder: ResultsFolder, wait: Bool, context: ComputeContext) throws(FileError) -> FileLock? {
    while true {
        if let c = try TrialClaim.take(folder, trial: TrialFiles(id: t.id).directory) { return c }
        if !wait || context.isCancelled { return nil }
        Thread.sleep(forTimeInterval: 0.1)
    }
}

/// Whether another process completed `t` (or recorded its failure) while this run was going:
/// true for results written since `since`, and for any complete results unless `fresh`.
func finishedElsewhere(_ t: TrialPlan, folder: ResultsFolder, fresh: Bool, since: Date) -> Bool {
    guard let r = folder.record(t.id) else { return false }
    if (folder.modified(TrialFiles(id: t.id).record) ?? .distantPast) >= since { return true }
    return !fresh && r.isComplete
}

/// Trial folders in `trials/` that are not trials of `plan` (another config of the
/// experiment); the runner's temporaries and dot files are not counted.
func staleTrialFolders(_ plan: ExperimentPlan, folder: ResultsFolder) -> [String] {
    let ids = Set(plan.trials.map(\.id))
    let names = folder.list("trials")
    return names.filter { !ids.contains($0) && !$0.hasPrefix(".") && pathKind(folder.root + "/trials/" + $0) == .directory }.sorted()
}

/// `writeSweepTables` under the experiment's table lock, so processes sharing the folder
/// write the tables one after the other and the last one sees every trial.
public func writeSweepTablesLocked(plan: ExperimentPlan, folder: ResultsFolder) throws(FileError) -> (complete: [TrialSummary], missing: [TrialPlan]) {
    let lock = try experimentLock(folder)
    defer { lock.release() }
    return try writeSweepTables(plan: plan, folder: folder)
}

/// Whether `t` already has results (finished or diverged); such trials are skipped. The
/// folder name is the trial's id, a hash of everything that determines its numbers, so a
/// complete record there means the same trial. Failed and interrupted trials are not complete.
public func isTrialComplete(_ t: TrialPlan, folder: ResultsFolder) -> Bool {
    folder.record(t.id)?.isComplete ?? false
}

extension ExperimentPlan {
    /// Re-plans an experiment from the `experiment.json` in its results folder (for merge).
    public static func fromResults(directory: String) throws -> ExperimentPlan {
        let path = (directory as NSString).appendingPathComponent("experiment.json")
        let json = try readConfigFile(path)
        guard let source = json["config"], case .string(let name)? = json["name"] else {
            throw ConfigError.invalidValue(path: path, message: "is not an experiment record written by runner")
        }
        var override: String? = nil
        if case .string(let d)? = json["data_override"] { override = d }
        var plan = try Sweep.plan(source, defaultName: name, dataOverride: override)
        if case .string(let c)? = json["config_path"] { plan.configPath = c }
        return plan
    }

    /// A record of the whole experiment: name and each trial's id, arm and parameters.
    public var experimentJSON: JSON {
        .object([
            ("name", .string(name)),
            ("config_path", configPath.map { .string($0) } ?? .null),
            ("data_override", dataOverride.map { .string($0) } ?? .null),
            ("config", source),
            ("trials", .array(trials.map { t in
                .object([("index", .number(Double(t.index))), ("id", .string(t.id)), ("arm", t.arm.map { .string($0) } ?? .null),
                         ("parameters", .object(t.parameters.map { ($0.path, $0.value) }))])
            })),
        ])
    }
}

/// The work list and results shared by the worker threads (guarded by a lock). Trials
/// another process holds are postponed and handed out again, to wait for, at the end.
final class SharedRun: @unchecked Sendable {
    private let lock = NSLock()
    private let todo: [TrialPlan]
    private var next = 0
    private var postponed: [TrialPlan] = []
    private var results: [TrialSummary] = []
    private(set) var others = 0
    private var activeWorkers: Int
    private let budget: Int
    private let context: ComputeContext

    /// `budget` compute threads in all: while fewer workers than that remain (the tail of a
    /// sweep, or a single trial), each running trial's matrix products get the spare cores.
    init(todo: [TrialPlan], workers: Int, budget: Int, context: ComputeContext) {
        self.todo = todo
        activeWorkers = workers
        self.budget = max(1, budget)
        self.context = context
        context.setProductThreads(self.budget / max(1, workers))
    }

    func workerDone() {
        lock.lock(); defer { lock.unlock() }
        activeWorkers -= 1
        context.setProductThreads(budget / max(1, activeWorkers))
    }

    /// The next trial, and whether to wait for its claim (a postponed trial).
    func take() -> (TrialPlan, Bool)? {
        lock.lock(); defer { lock.unlock() }
        guard !context.isCancelled else { return nil }
        if next < todo.count { next += 1; return (todo[next - 1], false) }
        guard !postponed.isEmpty else { return nil }
        return (postponed.removeFirst(), true)
    }
    func postpone(_ t: TrialPlan) { lock.lock(); postponed.append(t); lock.unlock() }
    func record(_ s: TrialSummary) { lock.lock(); results.append(s); lock.unlock() }
    func recordOther() { lock.lock(); others += 1; lock.unlock() }
    func outcome() -> [TrialSummary] { lock.lock(); defer { lock.unlock() }; return results }
}
