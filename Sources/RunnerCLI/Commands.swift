import Foundation
import Runner

/// Runs `runner ARGUMENTS` (the arguments after the program name) and returns the exit
/// code: 0 ok, 1 a trial failed or the run could not complete, 2 usage or config error,
/// 130 interrupted (Ctrl-C). Everything is written through `console`.
public func main(arguments: [String], console: Console = .standard, context: Context = .process) -> Int32 {
    let cli = CLI(console: console, context: context)
    do {
        return try cli.execute(try parseCommandLine(arguments))
    } catch let e as UsageError {
        console.err("error: \(e.message)"); return 2
    } catch let e as ConfigError {
        if let d = e.dataError { console.err("data error: \(d)"); return 1 }
        console.err("config error: \(e)"); return 2
    } catch let e as DataError {
        console.err("data error: \(e)"); return 1
    } catch let e as FileError {
        console.err("error: \(e)"); return 1
    } catch let e as ModelError {
        console.err("model error: \(e)"); return 1
    } catch let e as SafeTensorsError {
        console.err("model error: \(e)"); return 1
    } catch {
        console.err("error: \(error)"); return 1
    }
}

/// The command bodies. Each returns the exit code or throws (`main` turns the error into
/// its message and exit code).
public struct CLI: Sendable {
    public let console: Console
    public let context: Context

    public init(console: Console = .standard, context: Context = .process) {
        self.console = console; self.context = context
    }

    func say(_ s: String) { console.out(s) }
    func eprint(_ s: String) { console.err(s) }

    public func execute(_ o: Invocation) throws -> Int32 {
        switch o.command {
        case "version": return version(o)
        case "help": return try help(o)
        case "validate": return try validate(o)
        case "plan": return try plan(o)
        case "merge": return try merge(o)
        case "slurm": return try slurm(o)
        case "init": return try initCommand(o)
        case "plot": return try plot(o)
        case "status": return try status(o)
        case "compare": return try compare(o)
        case "eval": return try evaluate(o)
        case "predict": return try predict(o)
        default:
            if o.positional.isEmpty { say(CommandSpec.mainHelp); return 2 }
            return try run(o)
        }
    }

    public func version(_ o: Invocation) -> Int32 {
        say("runner \(runnerVersion)"); return 0
    }

    public func help(_ o: Invocation) throws -> Int32 {
        guard let c = o.positional.first else { say(CommandSpec.mainHelp); return 0 }
        if c == "config" { say(configReference()); return 0 }
        guard let cmd = CommandSpec.named(c) else {
            throw UsageError("no command \"\(c)\" (commands: \(CommandSpec.all.map(\.name).joined(separator: ", ")), or: runner help config)")
        }
        say(cmd.help); return 0
    }

    // MARK: helpers

    func positiveInt(_ o: Invocation, _ option: OptionSpec) throws -> Int? {
        guard let v = o.value(option) else { return nil }
        guard let n = Int(v), n >= 1 else { throw UsageError("\(option.name) needs a positive integer, got \"\(v)\"") }
        return n
    }

    /// Reads the config at `path` (relative to the working directory); errors name `path` as given.
    func readConfig(_ path: String) throws(ConfigError) -> JSON {
        let resolved = context.resolve(path)
        if resolved == path { return try readConfigFile(path) }
        do { return try readConfigFile(resolved) } catch {
            switch error {
            case let .unreadable(_, reason): throw .unreadable(file: path, reason: reason)
            case let .syntax(_, line, column, message): throw .syntax(file: path, line: line, column: column, message: message)
            default: throw error
            }
        }
    }

    func loadPlan(_ o: Invocation) throws -> ExperimentPlan {
        guard let path = o.positional.first else { throw UsageError("missing CONFIG.json (try: runner help \(o.command))") }
        guard o.positional.count == 1 else { throw UsageError("unexpected argument \(o.positional[1])") }
        let json = try readConfig(path)
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var plan = try Sweep.plan(json, defaultName: stem, dataOverride: o.value(.data))
        plan.configPath = context.absolute(path)
        return plan
    }

    /// Results and data folders named in a config are opened relative to the process's
    /// directory, so the commands that write results run only there.
    func requireProcessDirectory(_ o: Invocation) throws {
        if let wd = context.workingDirectory, wd != FileManager.default.currentDirectoryPath {
            throw UsageError("runner \(o.command) runs in the process's current directory, not in \(wd)")
        }
    }

    func selection(_ o: Invocation, plan: ExperimentPlan) throws -> TrialSelection {
        if o.value(.shard) != nil && o.value(.trial) != nil { throw UsageError("use either --shard or --trial, not both") }
        var sel = TrialSelection.all
        if let s = o.value(.shard) {
            guard let parsed = TrialSelection.parseShard(s) else { throw UsageError("--shard needs I/N with 0 ≤ I < N, got \"\(s)\"") }
            sel = parsed
        } else if let t = o.value(.trial) {
            guard let k = Int(t), k >= 0 else { throw UsageError("--trial needs a trial index ≥ 0, got \"\(t)\"") }
            sel = .trial(index: k, source: "--trial")
        } else if let env = try TrialSelection.fromEnvironment(context.environment) {
            sel = env
        }
        if case .trial(let k, let src) = sel, k >= plan.trials.count {
            throw UsageError("trial \(k) (from \(src)) does not exist: the experiment has \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") (0–\(plan.trials.count - 1))")
        }
        return sel
    }

    /// The figures (training.svg, sweep.svg) and plots.gp next to the CSVs.
    func writeResultPlots(directory: String, name: String) throws -> [String] {
        try writePlots(resultsDirectory: directory, experimentName: name)
    }

    // MARK: commands

    public func run(_ o: Invocation) throws -> Int32 {
        try requireProcessDirectory(o)
        let plan = try loadPlan(o)
        try plan.checkShapes()
        let sel = try selection(o, plan: plan)
        let selected = plan.trials.filter { sel.contains($0.index) }
        let quiet = o.has(.quiet)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var jobs = try positiveInt(o, .jobs) ?? cores
        if o.value(.jobs) == nil, let c = context.environment["SLURM_CPUS_PER_TASK"], let n = Int(c), n >= 1 { jobs = n }
        if jobs > cores {
            if !quiet { say("note: --jobs \(jobs) is more than the \(cores) cores; using \(cores)") }
            jobs = cores
        }
        let verbosity: ProgressDisplay.Verbosity = quiet ? .quiet : o.has(.verbose) ? .verbose : .normal
        let display = ProgressDisplay(plan: plan, verbosity: verbosity, isTerminal: console.isTerminal, out: console.out)
        var options = RunOptions(jobs: jobs)
        options.fresh = o.has(.fresh)
        options.selection = sel
        if !quiet {
            let what = sel == .all ? "" : " — running \(selected.count) of them: \(sel.description)"
            say("\(plan.name): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s")\(what), \(min(jobs, max(selected.count, 1))) in parallel → \(plan.directory)/")
        }
        let signalSources = context.installsInterruptHandler ? installInterruptHandler(options.context) : []
        defer { withExtendedLifetime(signalSources) {} }
        let cache = DataCache()
        // Data of the trials still to run is loaded up front, so a missing or malformed file
        // stops the run at once with the file's name (finished trials need no data), before
        // anything is written.
        let existing = try? ResultsFolder(plan.directory, create: false)
        let dirs = existing.map { TrialDirectories(plan, folder: $0) }
        for t in selected where o.has(.fresh) || !(existing.map { isTrialComplete(t, folder: $0, directories: dirs!) } ?? false) {
            _ = try cache.data(for: t.config)
        }
        let report = try runExperiment(plan, options: options, cache: cache) { display.handle($0) }
        if !report.staleTrialDirs.isEmpty {
            say("note: \(report.staleTrialDirs.count) trial folder(s) in \(plan.directory)/trials were run with a different config and are not part of this experiment; they are kept and left out of the summary (a run with --fresh deletes their results)")
        }
        if report.skipped > 0 && !quiet {
            say("\(report.skipped) trial\(report.skipped == 1 ? " was" : "s were") already finished and skipped (--fresh deletes their results and reruns them)")
        }
        if report.byOtherProcesses > 0 && !quiet {
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
        if !table.isEmpty && !quiet {
            say(plan.trials.count == 1 ? "" : "\nbest trials:")
            say(table)
        }
        if plan.trials.count == 1, let s = complete.first, s.status != .failed {
            say(String(format: "best val_acc %.4f (epoch %d)", s.bestValAcc ?? .nan, s.bestEpoch ?? 0) + (s.testAcc.map { String(format: ", test_acc %.4f", $0) } ?? "") + ", final loss \(s.finalLoss), \(String(format: "%.1f", s.seconds)) s")
        }
        say("results: \(plan.directory)/summary.csv")
        if !plotNote.isEmpty && !quiet { say(plotNote) }
        for f in report.failed { eprint("trial \(f.label) (\(f.id)) failed: \(f.message)") }
        let missingSelected = missing.filter { sel.contains($0.index) }
        if report.interrupted {
            eprint("interrupted: \(missingSelected.count) trial(s) not finished; run the same command again to resume")
            return 130
        }
        return report.failed.isEmpty && missingSelected.isEmpty && !plotsFailed ? 0 : 1
    }

    public func validate(_ o: Invocation) throws -> Int32 {
        let plan = try loadPlan(o)
        try plan.checkShapes()
        say("\(o.positional[0]): valid (\(plan.name), \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s"))")
        return 0
    }

    public func plan(_ o: Invocation) throws -> Int32 {
        let plan = try loadPlan(o)
        try plan.checkShapes()
        var rows = [["#", "id", "arm"] + plan.sweptPaths + ["params", "work", "memory", "time (1 core)"]]
        var total = 0.0, times: [Double] = []
        let calibration = Calibration.current(environment: context.environment, version: runnerVersion)
        for t in plan.trials {
            let cost: TrialCost
            do { cost = try estimateCost(t) } catch { throw ConfigError.inTrial(index: t.index, arm: t.arm, underlying: ConfigErrorBox(error)) }
            total += cost.flops
            times.append(calibration.seconds(t, cost: cost))
            rows.append(["\(t.index)", t.id, t.arm ?? "-"] + t.parameters.map { p in
                if case .string(let s) = p.value { return s }
                if case .number(let x) = p.value { return JSON.format(x) }
                return p.value.compact
            } + ["\(cost.parameters)", formatFlops(cost.flops), formatBytes(cost.memory.total), "~" + formatDuration(times.last!)])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        say("\(plan.name): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") → \(plan.directory)/")
        if let d = plan.trials.first?.config.description, !d.isEmpty { say(d) }
        for r in rows { say(r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)) }
        say("total work ≈ \(formatFlops(total)); memory is per trial (trials running in parallel each need theirs)")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let how = calibration.fromCache ? "cached in \(calibration.cachePath ?? "")"
            : String(format: "measured just now in %.1f s", calibration.seconds) + (calibration.cachePath.map { ", cached in \($0)" } ?? ", not cached")
        say("estimated time ≈ \(formatDuration(estimatedWallTime(times, jobs: cores))) with \(cores) trial\(cores == 1 ? "" : "s") in parallel (\(formatDuration(times.reduce(0, +))) of training in all): an estimate from a calibration of this machine (\(how)); real times vary with the load and data loading")
        let n = plan.trials.count
        let cfg = shellQuote(o.positional[0])
        let data = o.value(.data).map { " --data \(shellQuote($0))" } ?? ""
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

    public func merge(_ o: Invocation) throws -> Int32 {
        try requireProcessDirectory(o)
        guard let dir = o.positional.first, o.positional.count == 1 else { throw UsageError("usage: runner merge RESULTS_DIR") }
        guard FileManager.default.fileExists(atPath: dir + "/experiment.json") else {
            throw UsageError("\(dir) is not a results folder (no experiment.json)")
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
            for t in missing { say("  \(t.label)  →  runner run \(config)\(data) --trial \(t.index)") }
        }
        for s in failed { say("failed: \(s.label): \(s.message)  →  runner run \(config)\(data) --trial \(s.index)") }
        if complete.count > 0 { say(bestTrialsTable(complete)) }
        return missing.isEmpty && failed.isEmpty ? 0 : 1
    }

    public func status(_ o: Invocation) throws -> Int32 {
        try requireProcessDirectory(o)
        guard o.positional.count <= 1 else { throw UsageError("usage: runner status [RESULTS]") }
        let root = o.positional.first ?? "results"
        let list = experimentStatuses(under: root)
        guard !list.isEmpty else { say("no experiments in \(root)"); return 0 }
        var rows = [["experiment", "trials", "finished", "stopped", "diverged", "failed", "remaining", "best val", "best trial"]]
        for s in list {
            if let p = s.problem { rows.append([s.name] + Array(repeating: "-", count: rows[0].count - 3) + ["unreadable: \(p)"]); continue }
            let best = s.best?.label ?? "-"
            rows.append([s.name, "\(s.total)", "\(s.finished)", "\(s.stopped)", "\(s.diverged)", "\(s.failed)", "\(s.remaining)",
                         s.best?.bestValAcc.map { String(format: "%.3f", $0) } ?? "-", best])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for r in rows { say(r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)) }
        return 0
    }

    public func compare(_ o: Invocation) throws -> Int32 {
        try requireProcessDirectory(o)
        guard o.positional.count >= 2 else { throw UsageError("usage: runner compare RESULTS_A RESULTS_B … [--output DIR]") }
        for d in o.positional where !FileManager.default.fileExists(atPath: (d as NSString).appendingPathComponent("experiment.json")) {
            throw UsageError("\(displayString(d)) is not a results folder (no experiment.json)")
        }
        let comparison = try Comparison.load(o.positional)
        say(comparison.tableText)
        let out = o.value(.compareOutput) ?? {
            var name = "compare_" + comparison.names.joined(separator: "_vs_")
            if name.count > 120 { name = "compare_\(comparison.names[0])_and_\(comparison.names.count - 1)_more" }
            return ((o.positional[0] as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        }()
        let folder = try ResultsFolder(out, create: true)
        try folder.write(comparison.csvText, to: "compare.csv")
        try folder.write(comparison.figureSVG, to: "compare.svg")
        say("wrote \(folder.display("compare.csv")), \(folder.display("compare.svg"))")
        return 0
    }

    public func plot(_ o: Invocation) throws -> Int32 {
        try requireProcessDirectory(o)
        guard let dir = o.positional.first, o.positional.count == 1 else { throw UsageError("usage: runner plot RESULTS_DIR") }
        guard FileManager.default.fileExists(atPath: dir + "/summary.csv") else { throw UsageError("\(dir) is not a results folder (no summary.csv)") }
        let name = (dir as NSString).lastPathComponent
        let files = try writeResultPlots(directory: dir, name: name)
        say(files.isEmpty ? "nothing to plot in \(dir)" : "wrote " + files.joined(separator: ", "))
        return 0
    }

    public func slurm(_ o: Invocation) throws -> Int32 {
        try requireProcessDirectory(o)
        let plan = try loadPlan(o)
        let scripts = try SlurmScripts(plan: plan, runner: context.executablePath, configPath: plan.configPath ?? o.positional[0],
                                       workingDirectory: context.currentDirectory,
                                       partition: o.value(.partition), time: o.value(.time),
                                       cpusPerTask: try positiveInt(o, .cpusPerTask) ?? 1,
                                       maxParallel: try positiveInt(o, .maxParallel), dataOverride: plan.dataOverride)
        let dir = context.absolute(plan.directory) + "/slurm"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let folder = try ResultsFolder(plan.directory, create: true)
        try folder.write(scripts.array, to: "slurm/array.sbatch")
        try folder.write(scripts.merge, to: "slurm/merge.sbatch")
        say("wrote \(dir)/array.sbatch (\(plan.trials.count) tasks) and \(dir)/merge.sbatch")
        guard o.has(.submit) else {
            say("submit with:  jid=$(sbatch --parsable \(shellQuote(dir + "/array.sbatch"))) && sbatch --dependency=afterany:$jid \(shellQuote(dir + "/merge.sbatch"))")
            return 0
        }
        func sbatch(_ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["sbatch", "--parsable"] + args
            let out = Pipe(), err = Pipe()
            p.standardOutput = out; p.standardError = err
            do { try p.run() } catch { throw UsageError("cannot run sbatch: \(error)") }
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let etext = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw UsageError("sbatch failed (exit \(p.terminationStatus)): \(etext.trimmingCharacters(in: .whitespacesAndNewlines))") }
            return text.split(separator: ";").first.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        }
        let arrayJob = try sbatch([dir + "/array.sbatch"])
        let mergeJob = try sbatch(["--dependency=afterany:\(arrayJob)", dir + "/merge.sbatch"])
        say("submitted job array \(arrayJob) and merge job \(mergeJob)")
        return 0
    }

    public func initCommand(_ o: Invocation) throws -> Int32 {
        guard let name = o.positional.first, o.positional.count == 1 else { throw UsageError("usage: runner init NAME") }
        let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        do { try Schema.checkName(stem, path: "NAME") } catch { throw UsageError("\(error) (runner init writes NAME.json in the current folder)") }
        let path = stem + ".json"
        guard (try? FileManager.default.attributesOfItem(atPath: context.resolve(path))) == nil else { throw UsageError("\(path) exists; choose another name") }
        try writeAtomically(starterConfig(name: stem), to: context.resolve(path))
        say("wrote \(path): edit it, check it with `runner validate \(path)`, run it with `runner \(path)`")
        return 0
    }
}
