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

/// A trial's checkpoint file (`trials/<folder>/checkpoint.bin`, see `CheckpointFile`).
public struct TrialCheckpoints: Sendable {
    public let folder: ResultsFolder
    public let trial: TrialPlan
    /// The trial's folder (see `TrialDirectories`).
    public let files: TrialFiles
    public init(folder: ResultsFolder, trial: TrialPlan, files: TrialFiles) { self.folder = folder; self.trial = trial; self.files = files }
    var file: String { files.checkpoint }

    /// The saved state, nil when there is none or it is not this trial's (damaged, another
    /// version): the trial then starts from the beginning.
    func load<T: Real>(_: T.Type) -> TrainingState<T>? {
        guard let data = folder.readData(file) else { return nil }
        return try? CheckpointFile.decode(data, key: trial.id, as: T.self)
    }

    /// Saves `state` atomically (a kill leaves the previous checkpoint or this one, never half of one).
    func save<T: Real>(_ state: TrainingState<T>) throws(FileError) {
        try folder.write(CheckpointFile.encode(state, key: trial.id), to: file)
    }

    func remove() throws(FileError) { try folder.removeRunnerFiles(["checkpoint.bin"], in: files.directory) }
}

/// Trains one trial in its config's dtype. Never throws: problems become a `failed` result.
///
/// With `checkpoints`, the trial resumes from its checkpoint when there is one that fits and
/// saves one every `training.checkpoint_every` epochs; `stopAfterEpoch` pauses it at that
/// epoch (status `stopped`, see `Solver.train`).
public func runTrial(_ trial: TrialPlan, data: Dataset, context: ComputeContext = ComputeContext(),
                     checkpoints: TrialCheckpoints? = nil, stopAfterEpoch: Int? = nil,
                     progress: ((TrainingEvent) -> Void)? = nil) -> TrainingResult {
    trainTrial(trial, data: data, context: context, checkpoints: checkpoints, stopAfterEpoch: stopAfterEpoch, progress: progress).result
}

/// A trained trial: its histories and, when it finished, its best parameters (the saved
/// model) and their confusion matrices on the validation and test splits.
public struct TrialOutcome: Sendable {
    public var result: TrainingResult
    public var model: SavedModel?
    public var evaluation: TrialEvaluation?
    public init(result: TrainingResult, model: SavedModel? = nil, evaluation: TrialEvaluation? = nil) {
        self.result = result; self.model = model; self.evaluation = evaluation
    }
}

/// `runTrial`, keeping what a finished trial leaves besides its histories: the network (with
/// the best parameters, which the solver restores at the end) saved and evaluated per class.
public func trainTrial(_ trial: TrialPlan, data: Dataset, context: ComputeContext = ComputeContext(),
                       checkpoints: TrialCheckpoints? = nil, stopAfterEpoch: Int? = nil,
                       progress: ((TrainingEvent) -> Void)? = nil) -> TrialOutcome {
    func go<T: Real>(_: T.Type) -> TrialOutcome {
        do {
            let net = try trial.config.makeNetwork(T.self, seed: trial.seed, context: context)
            let opt = Optimizer<T>(settings: trial.config.optimizer, parameters: net.parameters)
            opt.context = context
            let solver = Solver(network: net, optimizer: opt, data: data, settings: trial.config.training, seed: trial.seed)
            let saved = checkpoints?.load(T.self).flatMap { solver.canResume(from: $0) ? $0 : nil }
            var saveError: FileError? = nil
            var result = solver.train(
                resumingFrom: saved, stopAfterEpoch: stopAfterEpoch,
                checkpointEvery: checkpoints == nil ? 0 : trial.config.training.checkpointEvery,
                onCheckpoint: { state in
                    do throws(FileError) { try checkpoints?.save(state); saveError = nil } catch { saveError = error }
                },
                progress: progress, shouldStop: { context.isCancelled })
            // A pause must leave its checkpoint behind, or the trial could not go on.
            if result.status == TrialStatus.stopped, let saveError { result.status = TrialStatus.failed; result.message = "\(saveError)" }
            guard result.status == .finished else { return TrialOutcome(result: result) }
            return TrialOutcome(result: result, model: SavedModel(network: net, trial: trial, data: data),
                                evaluation: TrialEvaluation(network: net, data: data, batch: trial.config.training.evalBatchSize))
        } catch {
            var r = TrainingResult(); r.status = .failed; r.message = "\(error)"; return TrialOutcome(result: r)
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
    /// Trials that were already complete when this run reached them (this run trained none of them).
    public var skipped: Int { skippedTrials.count }
    var skippedTrials: Set<Int> = []
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
    // The class names in class order (for CSV tables with string labels, the mapping of
    // names to the class indices every accuracy and prediction uses).
    if !folder.exists("classes.csv"), let first = plan.trials.first(where: { options.selection.contains($0.index) }),
       let data = try? cache.data(for: first.config) {
        try folder.write(csv(["class", "name"], data.classNames.enumerated().map { [String($0.offset), $0.element] }), to: "classes.csv")
    }
    let dirs = TrialDirectories(plan, folder: folder)
    let run = TrialRunner(folder: folder, dirs: dirs, options: options, cache: cache, started: started, onEvent: onEvent)

    if let halving = plan.halving {
        guard options.selection == .all else {
            throw ConfigError.invalidValue(path: "sweep.scheduler", message: "decides at each rung from every trial's results, so it runs in one job, not in shards")
        }
        if options.fresh {
            for t in plan.trials { try folder.removeRunnerFiles(TrialFiles.runnerFiles, in: dirs[t].directory) }
        }
        // One pass per rung: every trial sent there reaches it, then the rung decides.
        var alive = plan.trials
        for rung in halving.rungs {
            let pause = rung < halving.maxEpochs ? rung : nil
            let outcome = run.pass(alive, skipping: { halving.reached($0, rung: rung) }, fresh: false, stopAfterEpoch: pause)
            report.absorb(outcome)
            if outcome.failed > 0 || options.context.isCancelled || pause == nil { break }
            var reached: [(index: Int, value: Double)] = []
            for t in alive {
                if let r = folder.record(dirs[t]), let v = halving.value(r, at: rung) { reached.append((t.index, v)) }
            }
            let promoted = Set(halving.promoted(reached))
            alive = alive.filter { promoted.contains($0.index) }
        }
    } else {
        let outcome = run.pass(plan.trials.filter { options.selection.contains($0.index) }, skipping: { $0.isComplete },
                               fresh: options.fresh, stopAfterEpoch: nil)
        report.absorb(outcome)
    }
    report.ran.sort { $0.index < $1.index }
    report.failed = report.ran.filter { $0.status == .failed }
    report.interrupted = options.context.isCancelled
    (report.complete, report.missing) = try writeSweepTablesLocked(plan: plan, folder: folder)
    return report
}

extension RunReport {
    /// Adds one pass's counts (a trial run in several passes counts once, with its last result).
    mutating func absorb(_ o: TrialRunner.Outcome) {
        let again = Set(o.ran.map(\.index))
        ran.removeAll { again.contains($0.index) }
        ran += o.ran
        skippedTrials.formUnion(o.skipped)
        skippedTrials.subtract(ran.map(\.index))
        byOtherProcesses += o.byOthers
    }
}

/// Runs lists of trials on the worker threads of one run: claims, resumes from checkpoints,
/// writes each trial's record, and skips trials whose record already holds what is asked.
struct TrialRunner: Sendable {
    let folder: ResultsFolder
    let dirs: TrialDirectories
    let options: RunOptions
    let cache: DataCache
    /// When the run began: records written since then by another process count as its work.
    let started: Date
    let onEvent: @Sendable (RunEvent) -> Void

    struct Outcome { var ran: [TrialSummary] = []; var skipped: Set<Int> = []; var byOthers = 0; var failed = 0 }

    /// Trains each of `trials` that has no record satisfying `skipping` (all of them with
    /// `fresh`), to the end or to the end of epoch `stopAfterEpoch` (status `stopped`).
    func pass(_ trials: [TrialPlan], skipping done: @escaping @Sendable (TrialRecord) -> Bool, fresh: Bool, stopAfterEpoch: Int?) -> Outcome {
        var outcome = Outcome()
        var todo: [TrialPlan] = []
        for t in trials {
            if !fresh, let r = folder.record(dirs[t]), done(r) {
                outcome.skipped.insert(t.index)
                onEvent(.skipped(t))
            } else {
                todo.append(t)
            }
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
                    if let s = runOne(t, wait: wait, fresh: fresh, done: done, stopAfterEpoch: stopAfterEpoch, shared: shared) {
                        shared.record(s)
                        onEvent(.finished(t, s))
                    }
                }
            }
        }
        group.wait()
        outcome.ran = shared.outcome()
        outcome.byOthers = shared.others
        outcome.failed = outcome.ran.filter { $0.status == .failed || $0.status == .interrupted }.count
        return outcome
    }

    /// One trial on a worker thread; nil when it was postponed or another process did it.
    private func runOne(_ t: TrialPlan, wait: Bool, fresh: Bool, done: (TrialRecord) -> Bool, stopAfterEpoch: Int?,
                        shared: SharedRun) -> TrialSummary? {
        let files = dirs[t]
        let claim: FileLock
        do {
            guard let c = try waitForClaim(files, folder: folder, wait: wait, context: options.context) else { shared.postpone(t); return nil }
            claim = c
        } catch {
            return failed(t, "\(error)")
        }
        defer { claim.release() }
        folder.removeStaleTemporaries(in: files.directory)
        // Another process may have done it in the meantime (or during this run).
        if let r = folder.record(files),
           (!fresh && done(r)) || ((done(r) || r.status == .failed) && (folder.modified(files.record) ?? .distantPast) >= started) {
            shared.recordOther()
            onEvent(.skipped(t))
            return nil
        }
        if fresh {
            do { try folder.removeRunnerFiles(TrialFiles.runnerFiles, in: files.directory) }
            catch { return failed(t, "\(error)") }
        }
        onEvent(.started(t))
        var outcome: TrialOutcome
        let checkpoints = TrialCheckpoints(folder: folder, trial: t, files: files)
        do {
            let data = try cache.data(for: t.config)
            outcome = trainTrial(t, data: data, context: options.context, checkpoints: checkpoints, stopAfterEpoch: stopAfterEpoch) { e in
                onEvent(.progress(t, e))
            }
        } catch {
            var r = TrainingResult(); r.status = .failed; r.message = "\(error)"
            outcome = TrialOutcome(result: r)
        }
        let result = outcome.result
        var summary = summarize(t, result: result)
        guard result.status != .interrupted else { return summary }   // its checkpoint stays; a rerun resumes
        // Failed trials are recorded too (a rerun retries them).
        do {
            summary = try writeTrial(t, outcome: outcome, folder: folder, files: files)
            if result.status == .finished || result.status == .diverged { try checkpoints.remove() }
        } catch {
            // Not complete: its record (the completion mark) must not be there.
            _ = try? folder.removeRunnerFiles(["record.json"], in: files.directory)
            summary.status = .failed
            summary.message = "\(error)"
        }
        return summary
    }
}

func failed(_ t: TrialPlan, _ message: String) -> TrialSummary {
    var r = TrainingResult(); r.status = .failed; r.message = message
    return summarize(t, result: r)
}

/// Claims the trial of folder `files`: at once (nil when another process holds it) or, with
/// `wait`, polling until the other process lets go (it finished, failed or died) or Ctrl-C.
func waitForClaim(_ files: TrialFiles, folder: ResultsFolder, wait: Bool, context: ComputeContext) throws(FileError) -> FileLock? {
    while true {
        if let c = try TrialClaim.take(folder, trial: files.directory) { return c }
        if !wait || context.isCancelled { return nil }
        Thread.sleep(forTimeInterval: 0.1)
    }
}

/// Trial folders in `trials/` that are not trials of `plan` (another config of the
/// experiment: their id, the end of the name, is not one of the plan's); the runner's
/// temporaries and dot files are not counted.
func staleTrialFolders(_ plan: ExperimentPlan, folder: ResultsFolder) -> [String] {
    let ids = Set(plan.trials.map(\.id))
    let names = folder.list("trials")
    return names.filter { !ids.contains(TrialNames.id(ofFolder: $0)) && !$0.hasPrefix(".") && pathKind(folder.root + "/trials/" + $0) == .directory }.sorted()
}

/// `writeSweepTables` under the experiment's table lock, so processes sharing the folder
/// write the tables one after the other and the last one sees every trial.
public func writeSweepTablesLocked(plan: ExperimentPlan, folder: ResultsFolder) throws(FileError) -> (complete: [TrialSummary], missing: [TrialPlan]) {
    let lock = try experimentLock(folder)
    defer { lock.release() }
    return try writeSweepTables(plan: plan, folder: folder)
}

/// Whether `t` already has results (finished or diverged); such trials are skipped. The
/// folder name ends with the trial's id, a hash of everything that determines its numbers,
/// so a complete record there means the same trial. Failed and interrupted trials are not
/// complete. `directories`: the plan's `TrialDirectories` (listed once for many trials).
public func isTrialComplete(_ t: TrialPlan, folder: ResultsFolder, directories: TrialDirectories) -> Bool {
    folder.record(directories[t])?.isComplete ?? false
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
