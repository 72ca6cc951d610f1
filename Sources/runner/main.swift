import Foundation
import Runner

// The command-line interface. Exit codes: 0 ok, 1 a trial failed or the run could not
// complete, 2 usage or config error, 130 interrupted (Ctrl-C).

let version = "0.1.0"

func eprint(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

struct UsageError: Error { let message: String }

struct Options {
    var command = "run"
    var positional: [String] = []
    var jobs: Int? = nil
    var data: String? = nil
    var fresh = false
    var quiet = false
    var verbose = false
}

let commands: [(name: String, summary: String)] = [
    ("run", "train the experiment a config describes (the default command)"),
    ("validate", "check a config without running it"),
    ("plan", "list the trials a config expands to, with their size and cost"),
    ("help", "show help for a command"),
]

func parse(_ args: [String]) throws -> Options {
    var o = Options()
    var rest = args[...]
    if let first = rest.first, commands.contains(where: { $0.name == first }) { o.command = first; rest = rest.dropFirst() }
    while let a = rest.popFirst() {
        switch a {
        case "-h", "--help": o.command = "help"; if o.positional.isEmpty, let c = args.first, c != a { o.positional = [c] }; return o
        case "--version": o.command = "version"; return o
        case "-j", "--jobs":
            guard let v = rest.popFirst(), let n = Int(v), n >= 1 else { throw UsageError(message: "\(a) needs a positive number of parallel trials") }
            o.jobs = n
        case "--data":
            guard let v = rest.popFirst() else { throw UsageError(message: "--data needs a folder") }
            o.data = v
        case "--fresh": o.fresh = true
        case "-q", "--quiet": o.quiet = true
        case "-v", "--verbose": o.verbose = true
        default:
            if a.hasPrefix("-") {
                let known = ["--jobs", "--data", "--fresh", "--quiet", "--verbose", "--help", "--version"]
                let hint = known.min { levenshtein(a, $0) < levenshtein(a, $1) }.flatMap { levenshtein(a, $0) <= 3 ? " (did you mean \($0)?)" : nil } ?? ""
                throw UsageError(message: "unknown option \(a)\(hint)")
            }
            o.positional.append(a)
        }
    }
    return o
}

func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var prev = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var cur = [i] + [Int](repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
        prev = cur
    }
    return prev[b.count]
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
  -q, --quiet      only the final summary and errors
  -v, --verbose    more detail (per-epoch lines for every trial, iteration losses)
  -h, --help       this help;  runner help <command> for one command
  --version        print the version

EXAMPLES
  swift run -c release runner configs/batchnorm_sweep.json
  runner configs/fc_deep_adam.json --data ../cifar-10-batches-bin
  runner plan configs/optimizer_comparison.json
  runner validate my_experiment.json

OUTPUT (results/<name>/)
  summary.csv                 one row per trial: id, arm, swept values, accuracies, status, seconds
  val_acc.csv, train_acc.csv  epoch × trial accuracy tables (gnuplot/spreadsheet ready)
  loss.csv                    iteration × trial loss table
  trials/<id>/                config.json (resolved), loss.csv, accuracy.csv, summary.csv

EXIT CODES
  0 ok (diverged trials are results, not errors)   1 a trial failed or the run could not finish
  2 usage or config error                           130 interrupted (Ctrl-C); rerun to resume
"""

let commandHelp: [String: String] = [
    "run": """
    runner run CONFIG.json [--jobs N] [--data DIR] [--fresh] [--quiet|--verbose]

    Expands the config's sweep into trials and trains them in parallel, one thread per
    trial. Finished trials are written atomically to results/<name>/trials/<id>/ and
    skipped when the same command runs again, so an interrupted sweep resumes where it
    stopped. Ctrl-C stops promptly; a second Ctrl-C exits at once.
    """,
    "validate": """
    runner validate CONFIG.json

    Checks the config without training: unknown keys (with the nearest valid key), wrong
    types, impossible values, sweep syntax, and that every layer shape fits. Prints the
    number of trials. Exit code 0 when valid, 2 otherwise.
    """,
    "plan": """
    runner plan CONFIG.json [--data DIR]

    Prints the expanded trial list in run order: index, id, arm, swept values, parameter
    count and an estimate of the floating-point work, with the total.
    """,
    "help": "runner help [COMMAND]\n\nShows the overview, or the help of one command.",
]

func loadPlan(_ o: Options) throws -> ExperimentPlan {
    guard let path = o.positional.first else { throw UsageError(message: "missing CONFIG.json (try: runner --help)") }
    guard o.positional.count == 1 else { throw UsageError(message: "unexpected argument \(o.positional[1])") }
    let json = try readConfigFile(path)
    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    return try Sweep.plan(json, defaultName: stem, dataOverride: o.data)
}

func run(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    for t in plan.trials { try t.config.checkShapes() }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var jobs = o.jobs ?? cores
    if jobs > cores { if !o.quiet { say("note: --jobs \(jobs) is more than the \(cores) cores; using \(cores)") }; jobs = cores }
    let verbosity: ProgressDisplay.Verbosity = o.quiet ? .quiet : o.verbose ? .verbose : .normal
    let display = ProgressDisplay(plan: plan, verbosity: verbosity)
    var options = RunOptions(jobs: jobs)
    options.fresh = o.fresh
    if !o.quiet {
        say("\(plan.name): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s"), \(min(jobs, max(plan.trials.count, 1))) in parallel → \(plan.directory)/")
    }
    installInterruptHandler()
    let cache = DataCache()
    for t in plan.trials where !report_skipsData(t) { _ = try cache.data(for: t.config) }   // fail early, naming the file
    let report = try runExperiment(plan, options: options, cache: cache) { display.handle($0) }
    if !report.staleTrialDirs.isEmpty {
        say("note: \(report.staleTrialDirs.count) trial folder(s) in \(plan.directory)/trials were run with a different config and are not part of this experiment (ignored; --fresh removes them)")
    }
    if report.skipped > 0 && !o.quiet {
        say("\(report.skipped) trial\(report.skipped == 1 ? " was" : "s were") already finished and skipped (--fresh reruns everything)")
    }
    let (complete, missing) = try writeSweepTables(plan: plan, directory: plan.directory)
    let table = bestTrialsTable(complete)
    if !table.isEmpty {
        say(plan.trials.count == 1 ? "" : "\nbest trials:")
        say(table)
    }
    if plan.trials.count == 1, let s = complete.first {
        say(String(format: "best val_acc %.4f (epoch %d)", s.bestValAcc ?? .nan, s.bestEpoch ?? 0) + (s.testAcc.map { String(format: ", test_acc %.4f", $0) } ?? "") + ", final loss \(s.finalLoss), \(String(format: "%.1f", s.seconds)) s")
    }
    say("results: \(plan.directory)/summary.csv")
    for f in report.failed { eprint("trial t\(f.index) (\(f.id)) failed: \(f.message)") }
    if report.interrupted {
        eprint("interrupted: \(missing.count) trial(s) not finished; run the same command again to resume")
        return 130
    }
    return report.failed.isEmpty && missing.isEmpty ? 0 : 1
}

/// Data is loaded up front (once per distinct data setting) so a missing file stops the
/// run before any trial starts.
func report_skipsData(_ t: TrialPlan) -> Bool { false }

func validate(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    for t in plan.trials {
        do { try t.config.checkShapes() } catch { throw ConfigError.inTrial(index: t.index, arm: t.arm, underlying: ConfigErrorBox(error)) }
    }
    say("\(o.positional[0]): valid (\(plan.name), \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s"))")
    return 0
}

func planCommand(_ o: Options) throws -> Int32 {
    let plan = try loadPlan(o)
    var rows = [["#", "id", "arm"] + plan.sweptPaths + ["params", "work"]]
    var total = 0.0
    for t in plan.trials {
        let cost: TrialCost
        do { cost = try estimateCost(t) } catch { throw ConfigError.inTrial(index: t.index, arm: t.arm, underlying: ConfigErrorBox(error)) }
        total += cost.flops
        rows.append(["\(t.index)", t.id, t.arm ?? "-"] + t.parameters.map { p in
            if case .string(let s) = p.value { return s }
            if case .number(let x) = p.value { return JSON.format(x) }
            return p.value.compact
        } + ["\(cost.parameters)", formatFlops(cost.flops)])
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    say("\(plan.name): \(plan.trials.count) trial\(plan.trials.count == 1 ? "" : "s") → \(plan.directory)/")
    for r in rows { say(r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
    say("total work ≈ \(formatFlops(total))")
    return 0
}

func main() -> Int32 {
    let args = Array(CommandLine.arguments.dropFirst())
    do {
        let o = try parse(args)
        switch o.command {
        case "version": say("runner \(version)"); return 0
        case "help":
            if let c = o.positional.first, c != "help" || o.positional.count > 0 {
                if let h = commandHelp[c] { say(h); return 0 }
                if o.command == "help", commands.contains(where: { $0.name == c }) == false, args.first == "help" {
                    throw UsageError(message: "no command \"\(c)\" (commands: \(commands.map(\.name).joined(separator: ", ")))")
                }
            }
            say(mainHelp); return 0
        case "validate": return try validate(o)
        case "plan": return try planCommand(o)
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
    } catch {
        eprint("error: \(error)"); return 1
    }
}

exit(main())
