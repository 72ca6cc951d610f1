import Foundation
import Dispatch
import Synchronization

/// Set by Ctrl-C (SIGINT/SIGTERM); every training loop polls it each iteration.
public let stopRequested = Atomic<Bool>(false)

/// Installs the Ctrl-C handler: first signal asks trials to stop (finished trials keep
/// their files), a second one exits at once.
public func installInterruptHandler() {
    let handler: @convention(c) (Int32) -> Void = { _ in
        if stopRequested.load(ordering: .relaxed) { _exit(130) }
        stopRequested.store(true, ordering: .relaxed)
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
}

/// Loads each distinct data set once and shares it, read-only, with every trial.
public final class DataCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: Dataset] = [:]
    public let directoryOverride: String?
    public init(directoryOverride: String? = nil) { self.directoryOverride = directoryOverride }

    public func data(for c: ExperimentConfig) throws -> Dataset {
        let key = "\(c.dataSource)|\(c.dataDir)|\(c.numTrain ?? -1)|\(c.numVal)|\(c.numTest)"
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
public func runTrial(_ trial: TrialPlan, data: Dataset, progress: ((TrainingEvent) -> Void)? = nil) -> TrainingResult {
    func go<T: Real>(_: T.Type) -> TrainingResult {
        do {
            let net = try trial.config.makeNetwork(T.self, seed: trial.seed)
            let opt = Optimizer<T>(settings: trial.config.optimizer, parameters: net.parameters)
            let solver = Solver(network: net, optimizer: opt, data: data, settings: trial.config.training, seed: trial.seed)
            return solver.train(progress: progress, shouldStop: { stopRequested.load(ordering: .relaxed) })
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
    public init(jobs: Int) { self.jobs = jobs }
}

public struct RunReport: Sendable {
    public var ran: [TrialSummary] = []
    public var skipped = 0
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
public func runExperiment(_ plan: ExperimentPlan, options: RunOptions, cache: DataCache,
                          onEvent: @escaping @Sendable (RunEvent) -> Void) throws -> RunReport {
    let dir = plan.directory
    let fm = FileManager.default
    if options.fresh, options.selection == .all, fm.fileExists(atPath: dir + "/trials") {
        try fm.removeItem(atPath: dir + "/trials")
    } else if options.fresh {
        // Only the selected trials' folders: other shards may be writing theirs.
        for t in plan.trials where options.selection.contains(t.index) {
            let d = TrialFiles(experimentDir: dir, id: t.id).directory
            if fm.fileExists(atPath: d) { try fm.removeItem(atPath: d) }
        }
    }
    try fm.createDirectory(atPath: dir + "/trials", withIntermediateDirectories: true)
    try writeAtomically(plan.experimentJSON.serialized() + "\n", to: dir + "/experiment.json")
    var report = RunReport()
    let ids = Set(plan.trials.map(\.id))
    report.staleTrialDirs = ((try? fm.contentsOfDirectory(atPath: dir + "/trials")) ?? []).filter { !ids.contains($0) && !$0.hasPrefix(".") }.sorted()

    var todo: [TrialPlan] = []
    for t in plan.trials where options.selection.contains(t.index) {
        if isTrialComplete(t, experimentDir: dir) {
            report.skipped += 1
            onEvent(.skipped(t))
            continue
        }
        todo.append(t)
    }
    let workers = max(1, min(options.jobs, todo.count))
    let shared = SharedRun(todo: todo, workers: workers, budget: options.jobs)
    let group = DispatchGroup()
    for _ in 0..<workers {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            defer { shared.workerDone() }
            while let t = shared.take() {
                onEvent(.started(t))
                var result: TrainingResult
                do {
                    let data = try cache.data(for: t.config)
                    result = runTrial(t, data: data) { e in onEvent(.progress(t, e)) }
                } catch {
                    result = TrainingResult(); result.status = .failed; result.message = "\(error)"
                }
                var summary = summarize(t, result: result)
                if result.status != .interrupted {   // failed trials are recorded too (a rerun retries them)
                    do { summary = try writeTrial(t, result: result, files: TrialFiles(experimentDir: dir, id: t.id)) }
                    catch { shared.record(error: error) }
                }
                shared.record(summary)
                onEvent(.finished(t, summary))
            }
        }
    }
    group.wait()
    productThreads.store(1, ordering: .relaxed)
    let (results, errors) = shared.outcome()
    if let e = errors.first { throw e }
    report.ran = results.sorted { $0.index < $1.index }
    report.failed = report.ran.filter { $0.status == "failed" }
    report.interrupted = stopRequested.load(ordering: .relaxed)
    (report.complete, report.missing) = try writeSweepTables(plan: plan, directory: dir)
    return report
}

/// Whether `t` already has results (finished or diverged) written with the same config;
/// such trials are skipped. Failed and interrupted trials are not complete.
public func isTrialComplete(_ t: TrialPlan, experimentDir dir: String) -> Bool {
    let files = TrialFiles(experimentDir: dir, id: t.id)
    guard let existing = TrialSummary.read(path: files.summary),
          let cfg = try? String(contentsOfFile: files.config, encoding: .utf8) else { return false }
    return cfg == t.config.resolved.serialized() + "\n" && (existing["status"] == "finished" || existing["status"] == "diverged")
}

extension ExperimentPlan {
    /// Re-plans an experiment from the `experiment.json` in its results folder (for merge).
    public static func fromResults(directory: String) throws -> ExperimentPlan {
        let path = directory + "/experiment.json"
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
    var experimentJSON: JSON {
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

/// The work list and results shared by the worker threads (guarded by a lock).
final class SharedRun: @unchecked Sendable {
    private let lock = NSLock()
    private let todo: [TrialPlan]
    private var next = 0
    private var results: [TrialSummary] = []
    private var errors: [Error] = []
    private var activeWorkers: Int
    private let budget: Int

    /// `budget` compute threads in all: while fewer workers than that remain (the tail of a
    /// sweep, or a single trial), each running trial's matrix products get the spare cores.
    init(todo: [TrialPlan], workers: Int, budget: Int) {
        self.todo = todo
        activeWorkers = workers
        self.budget = max(1, budget)
        productThreads.store(max(1, self.budget / max(1, workers)), ordering: .relaxed)
    }

    func workerDone() {
        lock.lock(); defer { lock.unlock() }
        activeWorkers -= 1
        productThreads.store(max(1, budget / max(1, activeWorkers)), ordering: .relaxed)
    }

    func take() -> TrialPlan? {
        lock.lock(); defer { lock.unlock() }
        guard next < todo.count, !stopRequested.load(ordering: .relaxed) else { return nil }
        next += 1
        return todo[next - 1]
    }
    func record(_ s: TrialSummary) { lock.lock(); results.append(s); lock.unlock() }
    func record(error: Error) { lock.lock(); errors.append(error); lock.unlock() }
    func outcome() -> ([TrialSummary], [Error]) { lock.lock(); defer { lock.unlock() }; return (results, errors) }
}
