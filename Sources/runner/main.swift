import Foundation
import Runner

// The command-line interface. Exit codes: 0 ok, 1 a trial failed or the run could not
// complete, 2 usage or config error, 130 interrupted (Ctrl-C).

let version = "0.2.0"

func eprint(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

struct UsageError: Error { let message: String }

struct Options {
    var command = "run"
    var positional: [String] = []
    var values: [String: String] = [:]
    var flags: Set<String> = []
    func has(_ f: String) -> Bool { flags.contains(f) }
}

struct Command {
    let name: String
    let summary: String
    let valueOptions: [String]
    let flagOptions: [String]
    let help: String
}

let runValueOptions = ["--jobs", "--data", "--shard", "--trial"]
let runFlags = ["--fresh", "--quiet", "--verbose"]

let commands: [Command] = [
    Command(name: "run", summary: "train the experiment a config describes (the default command)",
            valueOptions: runValueOptions, flagOptions: runFlags, help: """
    runner run CONFIG.json [--jobs N] [--data DIR] [--fresh] [--quiet|--verbose]
                           [--shard I/N | --trial INDEX]

    Expands the config's sweep into trials and trains them in parallel, one thread per
    trial. Finished trials are written atomically to results/<name>/trials/<id>/ and
    skipped when the same command runs again, so an interrupted sweep resumes where it
    stopped. Ctrl-C stops promptly; a second Ctrl-C exits at once.

      -j, --jobs N      trials in parallel (default: cores, or SLURM_CPUS_PER_TASK)
      --data DIR        CIFAR-10 folder; overrides data.dir
      --fresh           rerun the selected trials, discarding their earlier results
      --shard I/N       run only trials with index % N == I (several processes or machines
                        sharing one results folder); then `runner merge`
      --trial INDEX     run exactly one trial
      -q, --quiet       only the final summary and errors
      -v, --verbose     per-epoch lines for every trial (iteration losses for one trial)

    Without --shard/--trial the selection comes from the environment when present:
    SLURM_ARRAY_TASK_ID (+ SLURM_ARRAY_TASK_COUNT or _MIN/_MAX), JOB_COMPLETION_INDEX
    (Kubernetes Indexed Job), PARALLEL_SEQ (GNU parallel, 1-based).
    """),
    Command(name: "validate", summary: "check a config without running it", valueOptions: ["--data"], flagOptions: [], help: """
    runner validate CONFIG.json

    Checks the config without training: unknown keys (with the nearest valid key), wrong
    types, impossible values, sweep syntax, and that every layer shape fits. Prints the
    number of trials. Exit code 0 when valid, 2 otherwise.
    """),
    Command(name: "plan", summary: "list the trials a config expands to, with their size and cost", valueOptions: ["--data"], flagOptions: [], help: """
    runner plan CONFIG.json [--data DIR]

    Prints the expanded trial list in run order: index, id, arm, swept values, parameter
    count and an estimate of the floating-point work, with the total; then how to run the
    trials on a cluster (Slurm, a Kubernetes Indexed Job, GNU parallel).
    """),
    Command(name: "merge", summary: "rebuild summary and tables of a results folder; list missing trials", valueOptions: [], flagOptions: [], help: """
    runner merge RESULTS_DIR

    Rebuilds summary.csv, the wide tables and the plots from whatever trials are complete
    in RESULTS_DIR (e.g. after shards ran on several machines), and lists the missing or
    failed trials with the exact command that runs each again. Exit code 0 when every
    trial is complete, 1 otherwise.
    """),
    Command(name: "slurm", summary: "write (and optionally submit) a Slurm job array for a sweep",
            valueOptions: ["--partition", "--time", "--cpus-per-task", "--max-parallel", "--data"], flagOptions: ["--submit"], help: """
    runner slurm CONFIG.json [--partition P] [--time T] [--cpus-per-task C]
                             [--max-parallel K] [--data DIR] [--submit]

    Writes results/<name>/slurm/array.sbatch (a job array, one task per trial:
    --array=0-(n-1)%K, logs %A_%a.out) and merge.sbatch (runner merge). With --submit,
    submits the array with sbatch and the merge as a dependent job (afterany).
    """),
    Command(name: "plot", summary: "redraw the figures of a results folder", valueOptions: [], flagOptions: [], help: """
    runner plot RESULTS_DIR

    Writes training.svg (loss per iteration, train and validation accuracy per epoch),
    sweep.svg (best accuracies and final loss against the swept parameter, one line per
    arm) and plots.gp (the same figures with gnuplot: `gnuplot RESULTS_DIR/plots.gp`)
    from the CSVs in RESULTS_DIR. `runner run` does this at the end of every run.
    """),
    Command(name: "init", summary: "write a commented starting config", valueOptions: [], flagOptions: [], help: """
    runner init NAME

    Writes NAME.json (in the current folder) with every field, its default and a comment;
    edit it and run `runner NAME.json`.
    """),
    Command(name: "help", summary: "show help for a command (or `runner help config`)", valueOptions: [], flagOptions: [], help: """
    runner help [COMMAND | config]

    Shows the overview, the help of one command, or every config field with its default.
    """),
]

let shortOptions = ["-j": "--jobs", "-q": "--quiet", "-v": "--verbose", "-h": "--help"]

func parse(_ args: [String]) throws -> Options {
    var o = Options()
    var rest = args[...]
    if let first = rest.first, commands.contains(where: { $0.name == first }) { o.command = first; rest = rest.dropFirst() }
    let cmd = commands.first { $0.name == o.command }!
    while let raw = rest.popFirst() {
        var a = shortOptions[raw] ?? raw
        var inline: String? = nil
        if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") { inline = String(a[a.index(after: eq)...]); a = String(a[..<eq]) }
        switch a {
        case "--help": o.positional = o.command == "run" && args.first != "run" ? [] : [o.command]; o.command = "help"; return o
        case "--version": o.command = "version"; return o
        default:
            if cmd.valueOptions.contains(a) {
                guard let v = inline ?? rest.popFirst() else { throw UsageError(message: "\(a) needs a value (see runner help \(o.command))") }
                o.values[a] = v
            } else if cmd.flagOptions.contains(a) {
                o.flags.insert(a)
            } else if a.hasPrefix("-") && a.count > 1 {
                let known = cmd.valueOptions + cmd.flagOptions + ["--help", "--version"]
                let hint = known.min { levenshtein(a, $0) < levenshtein(a, $1) }.flatMap { levenshtein(a, $0) <= 3 ? " (did you mean \($0)?)" : nil } ?? ""
                throw UsageError(message: "unknown option \(raw)\(hint)")
            } else {
                o.positional.append(raw)
            }
        }
    }
    return o
}

func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + [Int](repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
        prev = cur
    }
    return prev[b.count]
}

func positiveInt(_ o: Options, _ key: String) throws -> Int? {
    guard let v = o.values[key] else { return nil }
    guard let n = Int(v), n >= 1 else { throw UsageError(message: "\(key) needs a positive integer, got \"\(v)\"") }
    return n
}

let mainHelp = """
runner \(version): declarative neural-network experiments on CIFAR-10

USAGE
  runner CONFIG.json [options]        train what the config describes (same as: runner run)
  runner <command> [arguments]

COMMANDS
\(commands.map { "  " + $0.name.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

OPTIONS (run)
  -j, --jobs N     trials in parallel (default: number of cores; at most the cores)
  --data DIR       CIFAR-10 folder (binary layout); overrides data.dir of the config
  --fresh          rerun every trial, discarding earlier results of this experiment
  --shard I/N      run trials with index % N == I;  --trial INDEX: exactly one trial
  -q, --quiet      only the final summary and errors
  -v, --verbose    more detail (per-epoch lines for every trial, iteration losses)
  -h, --help       this help;  runner help <command> for one command
  --version        print the version

EXAMPLES
  swift run -c release runner configs/batchnorm_sweep.json
  runner configs/fc_deep_adam.json --data ../cifar-10-batches-bin
  runner plan configs/optimizer_comparison.json
  runner validate my_experiment.json
  runner init my_experiment

OUTPUT (results/<name>/)
  summary.csv                 one row per trial: id, arm, swept values, accuracies, status, seconds
  val_acc.csv, train_acc.csv  epoch × trial accuracy tables (gnuplot/spreadsheet ready)
  loss.csv                    iteration × trial loss table
  trials/<id>/                config.json (resolved), loss.csv, accuracy.csv, summary.csv

EXIT CODES
  0 ok (diverged trials are results, not errors)   1 a trial failed or the run could not finish
  2 usage or config error                           130 interrupted (Ctrl-C); rerun to resume
"""

func loadPlan(_ o: Options) throws -> ExperimentPlan {
    guard let path = o.positional.first else { throw UsageError(message: "missing CONFIG.json (try: runner help \(o.command))") }
    guard o.positional.count == 1 else { throw UsageError(message: "unexpected argument \(o.positional[1])") }
    let json = try readConfigFile(path)
    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    var plan = try Sweep.plan(json, defaultName: stem, dataOverride: o.values["--data"])
    plan.configPath = absolute(path)
    return plan
}

func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
}

func selection(_ o: Options, plan: ExperimentPlan) throws -> TrialSelection {
    if o.values["--shard"] != nil && o.values["--trial"] != nil { throw UsageError(message: "use either --shard or --trial, not both") }
    var sel = TrialSelection.all
    if let s = o.values["--shard"] {
        guard let parsed = TrialSelection.parseShard(s) else { throw UsageError(message: "--shard needs I/N with 0 ≤ I < N, got \"\(s)\"") }
        sel = parsed
    } else if let t = o.values["--trial"] {
        guard let k = Int(t), k >= 0 else { throw UsageError(message: "--trial needs a trial index ≥ 0, got \"\(t)\"") }
        sel = .trial(index: k, source: "--trial")
    } else if let env = try TrialSelection.fromEnvironment(ProcessInfo.processInfo.environment) {
        sel = env
    }
    if case .trial(let k, let src) = sel, k >= plan.trials.count {
        throw UsageError(message: "trial \(k) (from \(src)) does not exist: the experiment has \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") (0–\(plan.trials.count - 1))")
    }
    return sel
}

func run(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    try plan.checkShapes()
    let sel = try selection(o, plan: plan)
    let selected = plan.trials.filter { sel.contains($0.index) }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var jobs = try positiveInt(o, "--jobs") ?? cores
    if o.values["--jobs"] == nil, let c = ProcessInfo.processInfo.environment["SLURM_CPUS_PER_TASK"], let n = Int(c), n >= 1 { jobs = n }
    if jobs > cores {
        if !o.has("--quiet") { say("note: --jobs \(jobs) is more than the \(cores) cores; using \(cores)") }
        jobs = cores
    }
    let verbosity: ProgressDisplay.Verbosity = o.has("--quiet") ? .quiet : o.has("--verbose") ? .verbose : .normal
    let display = ProgressDisplay(plan: plan, verbosity: verbosity)
    var options = RunOptions(jobs: jobs)
    options.fresh = o.has("--fresh")
    options.selection = sel
    if !o.has("--quiet") {
        let what = sel == .all ? "" : " — running \(selected.count) of them: \(sel.description)"
        say("\(plan.name): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s")\(what), \(min(jobs, max(selected.count, 1))) in parallel → \(plan.directory)/")
    }
    installInterruptHandler()
    let cache = DataCache()
    // Data of the trials still to run is loaded up front, so a missing or malformed file
    // stops the run at once with the file's name (finished trials need no data), before
    // anything is written.
    let existing = try? ResultsFolder(plan.directory, create: false)
    for t in selected where o.has("--fresh") || !(existing.map { isTrialComplete(t, folder: $0) } ?? false) {
        _ = try cache.data(for: t.config)
    }
    let report = try runExperiment(plan, options: options, cache: cache) { display.handle($0) }
    if !report.staleTrialDirs.isEmpty {
        say("note: \(report.staleTrialDirs.count) trial folder(s) in \(plan.directory)/trials were run with a different config and are not part of this experiment; they are kept and left out of the summary (a run with --fresh deletes their results)")
    }
    if report.skipped > 0 && !o.has("--quiet") {
        say("\(report.skipped) trial\(report.skipped == 1 ? " was" : "s were") already finished and skipped (--fresh deletes their results and reruns them)")
    }
    if report.byOtherProcesses > 0 && !o.has("--quiet") {
        say("\(report.byOtherProcesses) trial\(report.byOtherProcesses == 1 ? " was" : "s were") run by another runner process sharing \(plan.directory)/")
    }
    let (complete, missing) = (report.complete, report.missing)
    var plotNote = ""
    var plotsFailed = false
    do {
        let files = try writeResultPlots(directory: plan.directory, name: plan.name)
        if !files.isEmpty { plotNote = "plots: " + files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + " (gnuplot \(shellQuote(plan.directory + "/plots.gp")) for PNGs)" }
    } catch {
        eprint("error: the figures are not up to date: \(error)")
        plotsFailed = true
    }
    let table = bestTrialsTable(complete)
    if !table.isEmpty && !o.has("--quiet") {
        say(plan.trials.count == 1 ? "" : "\nbest trials:")
        say(table)
    }
    if plan.trials.count == 1, let s = complete.first, s.status != .failed {
        say(String(format: "best val_acc %.4f (epoch %d)", s.bestValAcc ?? .nan, s.bestEpoch ?? 0) + (s.testAcc.map { String(format: ", test_acc %.4f", $0) } ?? "") + ", final loss \(s.finalLoss), \(String(format: "%.1f", s.seconds)) s")
    }
    say("results: \(plan.directory)/summary.csv")
    if !plotNote.isEmpty && !o.has("--quiet") { say(plotNote) }
    for f in report.failed { eprint("trial t\(f.index) (\(f.id)) failed: \(f.message)") }
    let missingSelected = missing.filter { sel.contains($0.index) }
    if report.interrupted {
        eprint("interrupted: \(missingSelected.count) trial(s) not finished; run the same command again to resume")
        return 130
    }
    return report.failed.isEmpty && missingSelected.isEmpty && !plotsFailed ? 0 : 1
}

func validate(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    try plan.checkShapes()
    say("\(o.positional[0]): valid (\(plan.name), \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s"))")
    return 0
}

func planCommand(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    try plan.checkShapes()
    var rows = [["#", "id", "arm"] + plan.sweptPaths + ["params", "work", "memory"]]
    var total = 0.0
    for t in plan.trials {
        let cost: TrialCost
        do { cost = try estimateCost(t) } catch { throw ConfigError.inTrial(index: t.index, arm: t.arm, underlying: ConfigErrorBox(error)) }
        total += cost.flops
        rows.append(["\(t.index)", t.id, t.arm ?? "-"] + t.parameters.map { p in
            if case .string(let s) = p.value { return s }
            if case .number(let x) = p.value { return JSON.format(x) }
            return p.value.compact
        } + ["\(cost.parameters)", formatFlops(cost.flops), formatBytes(cost.memory.total)])
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    say("\(plan.name): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") → \(plan.directory)/")
    if let d = plan.trials.first?.config.description, !d.isEmpty { say(d) }
    for r in rows { say(r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)) }
    say("total work ≈ \(formatFlops(total)); memory is per trial (trials running in parallel each need theirs)")
    let n = plan.trials.count
    let cfg = shellQuote(o.positional[0])
    let data = o.values["--data"].map { " --data \(shellQuote($0))" } ?? ""
    say("""

    on a cluster (every process writes into \(plan.directory)/, then `runner merge \(shellQuote(plan.directory))`):
      Slurm:        runner slurm \(cfg)\(data) --max-parallel 8 --submit
      GNU parallel: seq 0 \(n - 1) | parallel -j 8 --joblog \(plan.name).joblog runner run \(cfg)\(data) --trial {} --quiet
                    (rerun failed jobs: add --resume-failed)
      Kubernetes:   an Indexed Job with completions: \(n), running `runner run \(cfg)\(data) --quiet`
                    (each pod reads JOB_COMPLETION_INDEX; see README "Running on a cluster")
    """)
    return 0
}

func merge(_ o: Options) throws -> Int32 {
    guard let dir = o.positional.first, o.positional.count == 1 else { throw UsageError(message: "usage: runner merge RESULTS_DIR") }
    guard FileManager.default.fileExists(atPath: dir + "/experiment.json") else {
        throw UsageError(message: "\(dir) is not a results folder (no experiment.json)")
    }
    let plan = try ExperimentPlan.fromResults(directory: dir)
    let (complete, missing) = try writeSweepTablesLocked(plan: plan, folder: try ResultsFolder(dir, create: false))
    let plots = (try? writeResultPlots(directory: dir, name: plan.name)) ?? []
    say("\(plan.name): \(complete.count) of \(plan.trials.count) trials complete → \(dir)/summary.csv" + (plots.isEmpty ? "" : " (+ \(plots.count) plot files)"))
    let failed = complete.filter { $0.status == .failed }
    let config = plan.configPath.map(shellQuote) ?? "CONFIG.json"
    let data = plan.dataOverride.map { " --data \(shellQuote($0))" } ?? ""
    if !missing.isEmpty {
        say("missing (\(missing.count)):")
        for t in missing { say("  t\(t.index) \(t.arm ?? "")  →  runner run \(config)\(data) --trial \(t.index)") }
    }
    for s in failed { say("failed: t\(s.index) \(s.message)  →  runner run \(config)\(data) --trial \(s.index)") }
    if complete.count > 0 { say(bestTrialsTable(complete)) }
    return missing.isEmpty && failed.isEmpty ? 0 : 1
}

/// The figures (training.svg, sweep.svg) and plots.gp next to the CSVs.
func writeResultPlots(directory: String, name: String) throws -> [String] {
    try writePlots(resultsDirectory: directory, experimentName: name)
}

func slurm(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    let runnerPath = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    let scripts = try SlurmScripts(plan: plan, runner: runnerPath, configPath: plan.configPath ?? o.positional[0],
                               workingDirectory: FileManager.default.currentDirectoryPath,
                               partition: o.values["--partition"], time: o.values["--time"],
                               cpusPerTask: try positiveInt(o, "--cpus-per-task") ?? 1,
                               maxParallel: try positiveInt(o, "--max-parallel"), dataOverride: plan.dataOverride)
    let dir = absolute(plan.directory) + "/slurm"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let folder = try ResultsFolder(plan.directory, create: true)
    try folder.write(scripts.array, to: "slurm/array.sbatch")
    try folder.write(scripts.merge, to: "slurm/merge.sbatch")
    say("wrote \(dir)/array.sbatch (\(plan.trials.count) tasks) and \(dir)/merge.sbatch")
    guard o.has("--submit") else {
        say("submit with:  jid=$(sbatch --parsable \(shellQuote(dir + "/array.sbatch"))) && sbatch --dependency=afterany:$jid \(shellQuote(dir + "/merge.sbatch"))")
        return 0
    }
    func sbatch(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sbatch", "--parsable"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        do { try p.run() } catch { throw UsageError(message: "cannot run sbatch: \(error)") }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let etext = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw UsageError(message: "sbatch failed (exit \(p.terminationStatus)): \(etext.trimmingCharacters(in: .whitespacesAndNewlines))") }
        return text.split(separator: ";").first.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }
    let arrayJob = try sbatch([dir + "/array.sbatch"])
    let mergeJob = try sbatch(["--dependency=afterany:\(arrayJob)", dir + "/merge.sbatch"])
    say("submitted job array \(arrayJob) and merge job \(mergeJob)")
    return 0
}

func initCommand(_ o: Options) throws -> Int32 {
    guard let name = o.positional.first, o.positional.count == 1 else { throw UsageError(message: "usage: runner init NAME") }
    let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
    do { try Schema.checkName(stem, path: "NAME") } catch { throw UsageError(message: "\(error) (runner init writes NAME.json in the current folder)") }
    let path = stem + ".json"
    guard (try? FileManager.default.attributesOfItem(atPath: path)) == nil else { throw UsageError(message: "\(path) exists; choose another name") }
    try writeAtomically(starterConfig(name: stem), to: path)
    say("wrote \(path): edit it, check it with `runner validate \(path)`, run it with `runner \(path)`")
    return 0
}

func main() -> Int32 {
    let args = Array(CommandLine.arguments.dropFirst())
    do {
        let o = try parse(args)
        switch o.command {
        case "version": say("runner \(version)"); return 0
        case "help":
            guard let c = o.positional.first else { say(mainHelp); return 0 }
            if c == "config" { say(configReference()); return 0 }
            guard let cmd = commands.first(where: { $0.name == c }) else {
                throw UsageError(message: "no command \"\(c)\" (commands: \(commands.map(\.name).joined(separator: ", ")), or: runner help config)")
            }
            say(cmd.help); return 0
        case "validate": return try validate(o)
        case "plan": return try planCommand(o)
        case "merge": return try merge(o)
        case "slurm": return try slurm(o)
        case "init": return try initCommand(o)
        case "plot":
            guard let dir = o.positional.first, o.positional.count == 1 else { throw UsageError(message: "usage: runner plot RESULTS_DIR") }
            guard FileManager.default.fileExists(atPath: dir + "/summary.csv") else { throw UsageError(message: "\(dir) is not a results folder (no summary.csv)") }
            let name = (dir as NSString).lastPathComponent
            let files = try writeResultPlots(directory: dir, name: name)
            say(files.isEmpty ? "nothing to plot in \(dir)" : "wrote " + files.joined(separator: ", "))
            return 0
        default:
            if o.positional.isEmpty { say(mainHelp); return 2 }
            return try run(o)
        }
    } catch let e as UsageError {
        eprint("error: \(e.message)"); return 2
    } catch let e as ConfigError {
        eprint("config error: \(e)"); return 2
    } catch let e as DataError {
        eprint("data error: \(e)"); return 1
    } catch let e as FileError {
        eprint("error: \(e)"); return 1
    } catch {
        eprint("error: \(error)"); return 1
    }
}

exit(main())
