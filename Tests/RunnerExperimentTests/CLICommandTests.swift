import XCTest
import Foundation
import Runner
import RunnerCLI

/// What `runner ARGS` printed and returned, run in this process.
struct CLIResult { let code: Int32; let stdout: String; let stderr: String }

/// Runs `runner args` in this process through `RunnerCLI.main`, with the environment of a
/// launched runner (no cluster variables, see `shardEnvironment`) and without installing
/// the Ctrl-C handler. `cwd` is the working directory for the paths on the command line
/// (validate, plan, init); nil: this process's.
func runnerInProcess(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) -> CLIResult {
    let (console, captured) = Console.capturing()
    let context = Context(workingDirectory: cwd, environment: shardEnvironment(env), installsInterruptHandler: false)
    let code = RunnerCLI.main(arguments: args, console: console, context: context)
    return CLIResult(code: code, stdout: captured.stdout, stderr: captured.stderr)
}

/// The command line as a library: parser messages, generated help, exit codes.
final class CLICommandTests: XCTestCase {
    let sample = repoRoot + "/configs/fc_sample.json"

    /// `runner compare`: trials matched by arm and common swept values, side by side; an
    /// experiment that sweeps more paths shows its best trial at each key and the count.
    func testCompare() throws {
        let d = tempDir("compare")
        defer { try? FileManager.default.removeItem(atPath: d) }
        func run(_ name: String, epochs: Int, extra: String = "") throws {
            let plan = try Sweep.plan(JSON.parse("""
                {"name": "\(name)", "output": {"dir": "\(d)"}, "data": {"source": "synthetic", "num_train": 200, "num_val": 50, "num_test": 50},
                 "model": {"hidden_dims": [8]}, "training": {"num_epochs": \(epochs), "batch_size": 20},
                 "sweep": {"grid": {"model.weight_scale": [1e-3, 1e-2]\(extra)}, "arms": {"plain": {}, "bn": {"model.normalization": "batchnorm"}}}}
                """), defaultName: name)
            _ = try runExperiment(plan, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        }
        try run("a", epochs: 1)
        try run("b", epochs: 2, extra: #", "model.reg": [0, 0.1]"#)
        let r = runnerInProcess(["compare", d + "/a", d + "/b"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init),
                       ["trial", "(arm,", "weight_scale,", "normalization)", "a", "val", "test", "status", "b", "val", "test", "status"])
        XCTAssertEqual(lines.filter { $0.contains("(best of 2)") }.count, 4, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("best of a: t") }, r.stdout)
        XCTAssertEqual(lines.last, "wrote \(d)/compare_a_vs_b/compare.csv, \(d)/compare_a_vs_b/compare.svg")
        let table = try String(contentsOfFile: d + "/compare_a_vs_b/compare.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(table.count, 5, "header and 2 scales × 2 arms")
        XCTAssertTrue(table[0].hasPrefix("arm,model.weight_scale,model.normalization,a.trial,a.status,a.epochs,a.n,a.best_val_acc,a.test_acc,b.trial"))
        XCTAssertTrue(table[1].hasPrefix("plain,0.001,none,0,finished,1,1,"), String(table[1]))
        let svg = try String(contentsOfFile: d + "/compare_a_vs_b/compare.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("compare: a vs b") && svg.contains("Test accuracy"))
        XCTAssertEqual(runnerInProcess(["compare", d + "/a"]).stderr, "error: usage: runner compare RESULTS_A RESULTS_B … [--output DIR]\n")
        XCTAssertEqual(runnerInProcess(["compare", d + "/a", d]).stderr, "error: \"\(d)\" is not a results folder (no experiment.json)\n")
    }

    /// `runner status`: every experiment under a folder, with its counts and best trial.
    func testStatus() throws {
        let d = tempDir("status")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plan = try tinySyntheticSweep("st", in: d, grid: #"{"model.reg": [0, 0.1, 0.2]}"#)
        var options = RunOptions(jobs: 1)
        options.selection = .shard(index: 0, count: 2, source: "test")   // trials 0 and 2 only
        _ = try runExperiment(plan, options: options, cache: DataCache()) { _ in }
        let all = runnerInProcess(["status", d])
        XCTAssertEqual(all.code, 0, all.stderr)
        let lines = all.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(lines.first, ["experiment", "trials", "finished", "stopped", "diverged", "failed", "remaining", "best", "val", "best", "trial"])
        XCTAssertEqual(Array(lines[1].prefix(7)), ["st", "3", "2", "0", "0", "0", "1"], all.stdout)
        XCTAssertEqual(runnerInProcess(["status", d + "/st"]).stdout, all.stdout, "a results folder itself")
        XCTAssertEqual(runnerInProcess(["status", d + "/nothing-here"]).stdout, "no experiments in \(d)/nothing-here\n")
        XCTAssertEqual(runnerInProcess(["status", "a", "b"]).stderr, "error: usage: runner status [RESULTS]\n")
    }

    func testParsedInvocation() throws {
        let o = try parseCommandLine(["x.json", "--jobs=3", "-q", "--data", "d", "--fresh=yes"])
        XCTAssertEqual(o, Invocation(command: "run", positional: ["x.json"], values: ["--jobs": "3", "--data": "d"], flags: ["--quiet", "--fresh"]))
        XCTAssertEqual(try parseCommandLine(["slurm", "c.json", "--partition", "gpu", "--submit"]),
                       Invocation(command: "slurm", positional: ["c.json"], values: ["--partition": "gpu"], flags: ["--submit"]))
        // `-` and non-ASCII dashes are operands; `--jobs` takes the next word even if it looks like an option.
        XCTAssertEqual(try parseCommandLine(["-", "—jobs"]).positional, ["-", "—jobs"])
        XCTAssertEqual(try parseCommandLine(["x.json", "--data", "--help"]).values, ["--data": "--help"])
        // --help and --version end the parse; `runner CONFIG --help` is the overview.
        XCTAssertEqual(try parseCommandLine(["x.json", "--help", "--bogus"]), Invocation(command: "help"))
        XCTAssertEqual(try parseCommandLine(["run", "-h"]), Invocation(command: "help", positional: ["run"]))
        XCTAssertEqual(try parseCommandLine(["merge", "--help=1"]), Invocation(command: "help", positional: ["merge"]))
        XCTAssertEqual(try parseCommandLine(["plan", "--version"]), Invocation(command: "version"))
        // `version` is not a command: it names a config.
        XCTAssertEqual(try parseCommandLine(["version"]), Invocation(command: "run", positional: ["version"]))
    }

    /// Every user-facing message of the parser and of the argument checks, exactly.
    func testUsageMessages() throws {
        let trials = try Sweep.plan(try readConfigFile(sample), defaultName: "fc_sample").trials.count
        let cases: [(args: [String], code: Int32, stderr: String)] = [
            (["configs/fc_sample.json", "--jobz", "2"], 2, "error: unknown option --jobz (did you mean --jobs?)\n"),
            (["c.json", "--frseh"], 2, "error: unknown option --frseh (did you mean --fresh?)\n"),
            (["c.json", "--qiet"], 2, "error: unknown option --qiet (did you mean --quiet?)\n"),
            (["validate", "c.json", "--dat", "d"], 2, "error: unknown option --dat (did you mean --data?)\n"),
            (["slurm", "c.json", "--partitoin=x"], 2, "error: unknown option --partitoin=x (did you mean --partition?)\n"),
            (["c.json", "--shrad", "0/2"], 2, "error: unknown option --shrad (did you mean --shard?)\n"),
            (["c.json", "--versoin"], 2, "error: unknown option --versoin (did you mean --version?)\n"),
            (["c.json", "-x"], 2, "error: unknown option -x\n"),
            (["c.json", "--zzzzzzzz"], 2, "error: unknown option --zzzzzzzz\n"),
            (["validate", "c.json", "-q"], 2, "error: unknown option -q\n"),   // -q is --quiet, which validate does not take
            (["plan", "c.json", "--submit"], 2, "error: unknown option --submit\n"),
            (["c.json", "--jobs"], 2, "error: --jobs needs a value (see runner help run)\n"),
            (["c.json", "-j"], 2, "error: --jobs needs a value (see runner help run)\n"),
            (["plan", "c.json", "--data"], 2, "error: --data needs a value (see runner help plan)\n"),
            (["slurm", "c.json", "--time"], 2, "error: --time needs a value (see runner help slurm)\n"),
            ([sample, "--jobs", "0"], 2, "error: --jobs needs a positive integer, got \"0\"\n"),
            ([sample, "--jobs=abc"], 2, "error: --jobs needs a positive integer, got \"abc\"\n"),
            ([sample, "-j", "99999999999999999999999"], 2, "error: --jobs needs a positive integer, got \"99999999999999999999999\"\n"),
            ([sample, "--jobs="], 2, "error: --jobs needs a positive integer, got \"\"\n"),
            (["slurm", sample, "--cpus-per-task", "0"], 2, "error: --cpus-per-task needs a positive integer, got \"0\"\n"),
            (["slurm", sample, "--max-parallel", "x"], 2, "error: --max-parallel needs a positive integer, got \"x\"\n"),
            ([sample, "--shard", "1/0"], 2, "error: --shard needs I/N with 0 ≤ I < N, got \"1/0\"\n"),
            ([sample, "--shard", "-1/2"], 2, "error: --shard needs I/N with 0 ≤ I < N, got \"-1/2\"\n"),
            ([sample, "--shard", "0/2", "--trial", "1"], 2, "error: use either --shard or --trial, not both\n"),
            ([sample, "--trial", "-1"], 2, "error: --trial needs a trial index ≥ 0, got \"-1\"\n"),
            ([sample, "--trial", "99"], 2, "error: trial 99 (from --trial) does not exist: the experiment has \(trials) trial\(trials == 1 ? "" : "s") (0–\(trials - 1))\n"),
            (["validate", "a.json", "b.json"], 2, "error: unexpected argument b.json\n"),
            ([sample, sample], 2, "error: unexpected argument \(sample)\n"),
            (["validate"], 2, "error: missing CONFIG.json (try: runner help validate)\n"),
            (["plan", "--data", "d"], 2, "error: missing CONFIG.json (try: runner help plan)\n"),
            (["merge"], 2, "error: usage: runner merge RESULTS_DIR\n"),
            (["merge", "/nonexistent-results"], 2, "error: /nonexistent-results is not a results folder (no experiment.json)\n"),
            (["plot", "a", "b"], 2, "error: usage: runner plot RESULTS_DIR\n"),
            (["plot", "/nonexistent-results"], 2, "error: /nonexistent-results is not a results folder (no summary.csv)\n"),
            (["init"], 2, "error: usage: runner init NAME\n"),
            (["help", "nope"], 2, "error: no command \"nope\" (commands: run, validate, plan, merge, slurm, plot, status, compare, eval, predict, init, help, or: runner help config)\n"),
            (["help", "version"], 2, "error: no command \"version\" (commands: run, validate, plan, merge, slurm, plot, status, compare, eval, predict, init, help, or: runner help config)\n"),
            (["nope.json"], 2, "config error: cannot read config nope.json: no such file\n"),
            (["version"], 2, "config error: cannot read config version: no such file\n"),
        ]
        for c in cases {
            let r = runnerInProcess(c.args)
            XCTAssertEqual(r.code, c.code, "\(c.args): \(r.stderr)")
            XCTAssertEqual(r.stderr, c.stderr, "\(c.args)")
            XCTAssertEqual(r.stdout, "", "\(c.args)")
        }
        // The same messages from the parser itself.
        XCTAssertThrowsError(try parseCommandLine(["c.json", "--jobz"])) { XCTAssertEqual($0 as? UsageError, UsageError("unknown option --jobz (did you mean --jobs?)")) }
    }

    func testExitCodesAndVersion() {
        let none = runnerInProcess([])
        XCTAssertEqual(none.code, 2)
        XCTAssertEqual(none.stdout, CommandSpec.mainHelp + "\n")
        XCTAssertEqual(runnerInProcess(["run", "--quiet"]).code, 2)
        let version = runnerInProcess(["--version"])
        XCTAssertEqual(version.code, 0)
        XCTAssertEqual(version.stdout, "runner \(runnerVersion)\n")
        XCTAssertEqual(runnerInProcess(["init", "x", "--version"]).stdout, "runner \(runnerVersion)\n")
    }

    /// `runner help NAME`, `runner NAME --help` and `runner --help` come from the declarations:
    /// every option is in its command's help, and once in the overview.
    func testHelpIsGeneratedFromTheDeclarations() {
        let main = runnerInProcess(["--help"])
        XCTAssertEqual(main.code, 0)
        XCTAssertEqual(main.stdout, CommandSpec.mainHelp + "\n")
        XCTAssertEqual(runnerInProcess(["-h"]).stdout, main.stdout)
        XCTAssertEqual(runnerInProcess(["help"]).stdout, main.stdout)
        XCTAssertEqual(runnerInProcess(["some.json", "--help"]).stdout, main.stdout)
        for section in ["USAGE", "COMMANDS", "OPTIONS", "EXAMPLES", "OUTPUT (results/<name>/)", "EXIT CODES"] {
            XCTAssertTrue(main.stdout.contains("\n" + section), "overview lacks \(section)")
        }
        let lines = main.stdout.split(separator: "\n").map(String.init)
        func rows(_ label: String) -> Int { lines.filter { $0.hasPrefix("  " + label + "  ") }.count }
        var seen: [String] = []
        for cmd in CommandSpec.all {
            XCTAssertEqual(rows(cmd.name), 1, "overview lists \(cmd.name) once")
            let help = runnerInProcess(["help", cmd.name])
            XCTAssertEqual(help.code, 0)
            XCTAssertEqual(help.stdout, cmd.help + "\n")
            XCTAssertTrue(help.stdout.hasPrefix("runner \(cmd.name) \(cmd.operands)"), help.stdout)
            XCTAssertEqual(runnerInProcess([cmd.name, "--help"]).stdout, help.stdout, cmd.name)
            for o in cmd.options {
                XCTAssertTrue(help.stdout.contains("\n  \(o.label)  "), "help \(cmd.name) lacks \(o.label)")
                XCTAssertTrue(cmd.usage.contains("[\(o.name)"), "usage of \(cmd.name) lacks \(o.name)")
                XCTAssertEqual(rows(o.label), 1, "overview should list \(o.label) once")
                seen.append(o.name)
            }
        }
        for o in OptionSpec.global { XCTAssertEqual(rows(o.label), 1, "overview should list \(o.label) once") }
        XCTAssertEqual(Set(seen).count, 14)   // --data is shared by five commands; compare and predict both have --output
        // Each short alias is declared once.
        let shorts = (CommandSpec.all.flatMap(\.options) + OptionSpec.global).compactMap(\.short)
        XCTAssertEqual(Set(shorts), ["-j", "-q", "-v", "-h", "-o"])

        let config = runnerInProcess(["help", "config"])
        XCTAssertEqual(config.code, 0)
        XCTAssertEqual(config.stdout, configReference() + "\n")
    }

    func testValidateAndPlanInProcess() {
        let good = runnerInProcess(["validate", "configs/batchnorm_sweep.json"], cwd: repoRoot)
        XCTAssertEqual(good.code, 0, good.stderr)
        XCTAssertEqual(good.stdout, "configs/batchnorm_sweep.json: valid (batchnorm_sweep, 40 trials)\n")
        let plan = runnerInProcess(["plan", "configs/optimizer_comparison.json", "--data", "some dir"], cwd: repoRoot)
        XCTAssertEqual(plan.code, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("rmsprop_1e-4"))
        XCTAssertTrue(plan.stdout.contains("total work ≈"))
        XCTAssertTrue(plan.stdout.contains("runner slurm configs/optimizer_comparison.json --data 'some dir' --max-parallel 8 --submit"), plan.stdout)
        // A relative config resolves against the working directory, and errors name it as given.
        let missing = runnerInProcess(["validate", "configs/nope.json"], cwd: repoRoot)
        XCTAssertEqual(missing.code, 2)
        XCTAssertEqual(missing.stderr, "config error: cannot read config configs/nope.json: no such file\n")
    }

    /// init writes into the given working directory, not this process's.
    func testInitInWorkingDirectory() throws {
        let d = tempDir("cli-init")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = runnerInProcess(["init", "fresh.json"], cwd: d)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.stdout, "wrote fresh.json: edit it, check it with `runner validate fresh.json`, run it with `runner fresh.json`\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: d + "/fresh.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/fresh.json"))
        let bad = runnerInProcess(["init", "a/b"], cwd: d)
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("error: NAME"), bad.stderr)
        XCTAssertTrue(bad.stderr.hasSuffix(" (runner init writes NAME.json in the current folder)\n"), bad.stderr)
        // Commands that write results run in the process's directory only.
        let run = runnerInProcess(["fresh.json"], cwd: d)
        XCTAssertEqual(run.code, 2)
        XCTAssertEqual(run.stderr, "error: runner run runs in the process's current directory, not in \(d)\n")
    }
}
