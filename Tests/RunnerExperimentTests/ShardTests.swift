import XCTest
import Foundation
import Runner

// Sharding without a cluster: the built `runner` binary run as separate processes (as
// `--shard I/N`, `--trial INDEX` or under a cluster engine's environment variables), all
// writing into one results folder, then `runner merge`. Runs that need no process of their
// own (no concurrency, no kill, no working directory of their own) call the command line
// in this process (`runnerInProcess`).
//
// The `shard…` helpers below are also used by SlurmTests.swift.

/// The `runner` executable built next to the tests (nil: not built).
func shardRunnerBinary() -> String? {
    let candidates = [
        Bundle.main.bundleURL.appendingPathComponent("runner").path,
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("runner").path,
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("runner").path,
        repoRoot + "/.build/release/runner",
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// This process's environment without any cluster engine's selection variables (the tests
/// may themselves run inside a Slurm job or under GNU parallel), plus `extra`.
func shardEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment.filter {
        !$0.key.hasPrefix("SLURM_") && $0.key != "JOB_COMPLETION_INDEX" && $0.key != "PARALLEL_SEQ"
    }
    env.merge(extra) { $1 }
    return env
}

/// A `runner` process (not started) whose stdout and stderr go to files.
final class ShardProcess {
    let process = Process()
    let stdoutPath: String, stderrPath: String

    init(_ args: [String], cwd: String, env: [String: String] = [:]) throws {
        guard let bin = shardRunnerBinary() else { throw XCTSkip("runner executable not built next to the tests") }
        let logs = tempDir("shard-log")
        stdoutPath = logs + "/stdout"; stderrPath = logs + "/stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        process.environment = shardEnvironment(env)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
    }

    func start() throws { try process.run() }

    /// Waits for the end; the exit code (or 128 + signal) and the output.
    func finish() -> (code: Int32, stdout: String, stderr: String) {
        process.waitUntilExit()
        let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: (stdoutPath as NSString).deletingLastPathComponent)
        return (code, out, err)
    }
}

/// Runs `runner args` to the end.
func shardRun(_ args: [String], cwd: String, env: [String: String] = [:]) throws -> (code: Int32, stdout: String, stderr: String) {
    let p = try ShardProcess(args, cwd: cwd, env: env)
    try p.start()
    return p.finish()
}

/// The rows of a summary.csv without the `seconds` column (the only one that may differ
/// between two runs of the same trials).
func shardSummaryRows(_ path: String) throws -> [String] {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    guard let first = lines.first else { return [] }
    guard let drop = parseCSVLine(String(first)).firstIndex(of: "seconds") else {
        XCTFail("\(path) has no seconds column"); return []
    }
    return lines.map { l in var c = parseCSVLine(String(l)); c.remove(at: drop); return c.joined(separator: ",") }
}

/// Ids of the trials in `experimentDir/trials` whose record.json (the completion mark) exists.
func shardFinishedTrials(_ experimentDir: String) -> Set<String> {
    let trials = experimentDir + "/trials"
    return Set(((try? FileManager.default.contentsOfDirectory(atPath: trials)) ?? []).filter {
        FileManager.default.fileExists(atPath: "\(trials)/\($0)/record.json")   // the completion mark
    }.map(TrialNames.id(ofFolder:)))   // the trial id ends the folder name
}

final class ShardTests: XCTestCase {
    /// 9 trials of a small fc net on the bundled sample, each ~0.2–0.4 s on one core (long
    /// enough to kill a shard between two of its trials).
    static func config(output: String, name: String = "shards") -> String {
        """
        {"name": "\(name)", "seed": 11,
         "data": {"dir": "\(repoRoot)/data/cifar10-sample", "num_train": 2000, "num_val": 500, "num_test": 100},
         "model": {"hidden_dims": [200, 100]}, "optimizer": {"type": "adam"},
         "training": {"num_epochs": 4, "batch_size": 50},
         "output": {"dir": "\(output)"},
         "sweep": {"grid": {"model.weight_scale": {"logspace": [-3, -2, 3]},
                            "optimizer.learning_rate": [5e-4, 1e-3, 2e-3]}}}
        """
    }

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    func plan(_ configPath: String) throws -> ExperimentPlan {
        try Sweep.plan(try readConfigFile(configPath), defaultName: "shards")
    }

    /// One plain run (A) versus three concurrent shard processes (B), one of them SIGKILLed
    /// after its first finished trial and rerun: `runner merge` of B equals A.
    func testThreeShardsWithKilledShardMergeToSingleRun() throws {
        let d = tempDir("shards")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try write(Self.config(output: d + "/a"), d + "/a.json")
        try write(Self.config(output: d + "/b"), d + "/b.json")
        let b = d + "/b/shards"
        let ids = try plan(d + "/b.json").trials.map(\.id)
        XCTAssertEqual(ids.count, 9)
        XCTAssertEqual(ids, try plan(d + "/a.json").trials.map(\.id), "the output folder must not change trial ids")

        let started = Date()
        let single = runnerInProcess([d + "/a.json", "--jobs", "2", "--quiet"])
        XCTAssertEqual(single.code, 0, single.stderr)
        print("single run of 9 trials: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")

        // Three shards at once; shard 1 (trials 1, 4, 7) is killed after its first trial.
        let shardStart = Date()
        let shards = try (0..<3).map { k in try ShardProcess([d + "/b.json", "--shard", "\(k)/3", "--jobs", "1", "--quiet"], cwd: d) }
        for s in shards { try s.start() }
        let shard1 = Set([1, 4, 7].map { ids[$0] })
        let deadline = Date().addingTimeInterval(120)
        while shardFinishedTrials(b).intersection(shard1).isEmpty && shards[1].process.isRunning && Date() < deadline { usleep(5_000) }
        kill(shards[1].process.processIdentifier, SIGKILL)
        let killed = shards[1].finish()
        XCTAssertEqual(killed.code, 128 + SIGKILL, "shard 1 was not killed: it ended with \(killed.code) \(killed.stderr)")
        let doneBeforeKill = shardFinishedTrials(b).intersection(shard1).count
        XCTAssertGreaterThanOrEqual(doneBeforeKill, 1)
        XCTAssertLessThan(doneBeforeKill, 3, "shard 1 finished before it could be killed; make the trials longer")
        for k in [0, 2] {
            let r = shards[k].finish()
            XCTAssertEqual(r.code, 0, "shard \(k): \(r.stderr)")
        }
        // Other shards' trials are never touched by a shard: exactly shards 0 and 2 and part of 1.
        XCTAssertEqual(shardFinishedTrials(b).subtracting(shard1), Set([0, 2, 3, 5, 6, 8].map { ids[$0] }))

        // Merge now: incomplete, names exactly shard 1's unfinished trials.
        let partial = runnerInProcess(["merge", b])
        XCTAssertEqual(partial.code, 1, partial.stdout + partial.stderr)
        let unfinished = [1, 4, 7].filter { !shardFinishedTrials(b).contains(ids[$0]) }
        XCTAssertEqual(Self.trialsNamed(partial.stdout), unfinished, partial.stdout)

        // Rerun the killed shard: it skips what it had finished.
        let rerun = runnerInProcess([d + "/b.json", "--shard", "1/3", "--jobs", "1"])
        XCTAssertEqual(rerun.code, 0, rerun.stderr)
        let skipped = doneBeforeKill == 1 ? "1 trial was already finished and skipped" : "\(doneBeforeKill) trials were already finished and skipped"
        XCTAssertTrue(rerun.stdout.contains(skipped), rerun.stdout)
        XCTAssertTrue(rerun.stdout.contains("shard 1/3 (from --shard)"), rerun.stdout)
        print("3 shards (one killed after \(doneBeforeKill) trial(s) and rerun): \(String(format: "%.1f", Date().timeIntervalSince(shardStart))) s")

        let merged = runnerInProcess(["merge", b])
        XCTAssertEqual(merged.code, 0, merged.stdout + merged.stderr)
        XCTAssertTrue(merged.stdout.contains("shards: 9 of 9 trials complete"), merged.stdout)
        XCTAssertFalse(merged.stdout.contains("missing"), merged.stdout)
        let rowsA = try shardSummaryRows(d + "/a/shards/summary.csv")
        XCTAssertEqual(rowsA.count, 10)
        XCTAssertEqual(rowsA, try shardSummaryRows(b + "/summary.csv"))
        for table in ["val_acc.csv", "train_acc.csv", "loss.csv"] {
            XCTAssertEqual(try String(contentsOfFile: d + "/a/shards/" + table, encoding: .utf8),
                           try String(contentsOfFile: b + "/" + table, encoding: .utf8), table)
        }
    }

    /// The trial indices that `runner merge` output lists with a `--trial INDEX` command.
    static func trialsNamed(_ mergeOutput: String) -> [Int] {
        mergeOutput.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains("→"), let r = line.range(of: "--trial ") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
    }

    /// After only shard 0 of 3 ran, `runner merge` exits 1 and lists exactly the other six
    /// trials, each with a command that runs it.
    func testMergeOfPartlyFinishedFolderListsMissingTrials() throws {
        let d = tempDir("shard-partial")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try write(Self.config(output: d + "/out"), d + "/c.json")
        let dir = d + "/out/shards"
        let shard0 = runnerInProcess([d + "/c.json", "--shard", "0/3", "--quiet"])
        XCTAssertEqual(shard0.code, 0, shard0.stderr)   // its own trials are complete

        let merge = runnerInProcess(["merge", dir])
        XCTAssertEqual(merge.code, 1, merge.stdout + merge.stderr)
        XCTAssertTrue(merge.stdout.contains("shards: 3 of 9 trials complete"), merge.stdout)
        XCTAssertTrue(merge.stdout.contains("missing (6):"), merge.stdout)
        XCTAssertEqual(Self.trialsNamed(merge.stdout), [1, 2, 4, 5, 7, 8], merge.stdout)
        for k in [1, 2, 4, 5, 7, 8] {
            XCTAssertTrue(merge.stdout.contains("runner run \(d)/c.json --trial \(k)\n"), "no command for trial \(k):\n\(merge.stdout)")
        }
        // The summary holds the complete trials only.
        XCTAssertEqual(try shardSummaryRows(dir + "/summary.csv").dropFirst().map { $0.prefix(2) }, ["0,", "3,", "6,"])

        // The listed command works: run one, and the list shrinks by exactly that trial.
        let line = merge.stdout.split(separator: "\n").first { $0.hasSuffix("--trial 5") }!
        let args = line.components(separatedBy: "→  runner ")[1].split(separator: " ").map(String.init)
        let one = runnerInProcess(args + ["--quiet"])
        XCTAssertEqual(one.code, 0, one.stderr)
        let again = runnerInProcess(["merge", dir])
        XCTAssertEqual(again.code, 1)
        XCTAssertEqual(Self.trialsNamed(again.stdout), [1, 2, 4, 7, 8], again.stdout)
    }

    /// Without --shard/--trial the trial comes from the engine's environment, and the run
    /// says which variable it used. (Separate processes: each case runs in its own folder.)
    func testSelectionFromEnvironment() throws {
        let d = tempDir("shard-env")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try write(Self.config(output: "out"), d + "/e.json")   // relative: one results folder per case
        let ids = try plan(d + "/e.json").trials.map(\.id)
        let cases: [(env: [String: String], trial: Int, says: String)] = [
            (["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "9"], 2, "from SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=9"),
            (["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9"], 5,
             "from SLURM_ARRAY_TASK_ID=6, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=9"),
            (["PARALLEL_SEQ": "1"], 0, "trial 0 (from PARALLEL_SEQ=1)"),
            (["JOB_COMPLETION_INDEX": "4"], 4, "trial 4 (from JOB_COMPLETION_INDEX=4)"),
        ]
        for (n, c) in cases.enumerated() {
            let cwd = d + "/case\(n)"
            try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
            let r = try shardRun([d + "/e.json"], cwd: cwd, env: c.env)
            XCTAssertEqual(r.code, 0, "\(c.env): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("running 1 of them"), "\(c.env): \(r.stdout)")
            XCTAssertTrue(r.stdout.contains(c.says), "\(c.env) should be named in:\n\(r.stdout)")
            XCTAssertEqual(shardFinishedTrials(cwd + "/out/shards"), [ids[c.trial]], "\(c.env) should run exactly trial \(c.trial)")
        }
        // A flag wins over the environment.
        let cwd = d + "/flag"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let flag = try shardRun([d + "/e.json", "--trial", "7", "--quiet"], cwd: cwd, env: ["PARALLEL_SEQ": "1"])
        XCTAssertEqual(flag.code, 0, flag.stderr)
        XCTAssertEqual(shardFinishedTrials(cwd + "/out/shards"), [ids[7]])

        // Indices outside the experiment are usage errors (exit 2) that say so, and run nothing.
        let bad = try shardRun([d + "/e.json", "--trial", "99"], cwd: cwd)
        XCTAssertEqual(bad.code, 2, bad.stdout + bad.stderr)
        XCTAssertTrue(bad.stderr.contains("trial 99 (from --trial) does not exist"), bad.stderr)
        let badEnv = try shardRun([d + "/e.json"], cwd: cwd, env: ["JOB_COMPLETION_INDEX": "9"])
        XCTAssertEqual(badEnv.code, 2, badEnv.stdout + badEnv.stderr)
        XCTAssertTrue(badEnv.stderr.contains("JOB_COMPLETION_INDEX=9"), badEnv.stderr)
        XCTAssertEqual(shardFinishedTrials(cwd + "/out/shards"), [ids[7]])
    }
}
