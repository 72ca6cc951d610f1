import XCTest
import Foundation
import Runner

// The real Slurm integration test: a small sweep submitted through `runner slurm --submit`
// to the single-node cluster that .ci/slurm-up.sh starts (CI does; see .ci/run). Skipped,
// with the reason, where no such cluster is up. Uses the `shard…` helpers of ShardTests.swift.

/// Runs a Slurm client command (`sinfo`, `squeue`, …) found on PATH, stopping it after
/// `timeout` seconds; nil when it cannot start.
func slurmCommand(_ args: [String], timeout: TimeInterval = 30) -> (code: Int32, output: String)? {
    final class Box: @unchecked Sendable { var data = Data() }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    p.standardInput = FileHandle.nullDevice
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    do { try p.run() } catch { return nil }
    let box = Box(), read = DispatchSemaphore(value: 0)
    Thread.detachNewThread { box.data = out.fileHandleForReading.readDataToEndOfFile(); read.signal() }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    read.wait()
    return (p.terminationStatus, String(decoding: box.data, as: UTF8.self))
}

final class SlurmTests: XCTestCase {
    /// 6 tiny trials: 3 weight scales × {baseline, batchnorm}, results under ./results.
    static let config = """
    {"name": "slurm_sweep", "seed": 21,
     "data": {"dir": "\(repoRoot)/data/cifar10-sample", "num_train": 500, "num_val": 500, "num_test": 100},
     "model": {"hidden_dims": [50]}, "optimizer": {"type": "adam"},
     "training": {"num_epochs": 2, "batch_size": 50},
     "sweep": {"grid": {"model.weight_scale": {"logspace": [-3, -1, 3]}},
               "arms": {"baseline": {"model.normalization": "none"}, "batchnorm": {"model.normalization": "batchnorm"}}}}
    """

    /// Waits (at most `timeout` seconds) until none of `jobs` is queued or running.
    func slurmWait(_ jobs: [Int], timeout: TimeInterval = 300) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            guard let q = slurmCommand(["squeue", "-h", "-j", jobs.map(String.init).joined(separator: ","), "-o", "%i %T %r"]) else { break }
            last = q.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if (q.code == 0 && last.isEmpty) || last.contains("Invalid job id") { return true }
            usleep(500_000)
        }
        XCTFail("jobs \(jobs) did not end within \(Int(timeout)) s; squeue:\n\(last)")
        _ = slurmCommand(["scancel"] + jobs.map(String.init))
        return false
    }

    /// What slurmctld still knows of a finished job (no accounting here: sacct cannot tell).
    func slurmJobState(_ job: Int) -> String {
        guard let r = slurmCommand(["scontrol", "show", "job", "\(job)"]), r.code == 0 else { return "(purged)" }
        return r.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .filter { $0.hasPrefix("JobState=") || $0.hasPrefix("ExitCode=") }.joined(separator: " ")
    }

    /// The merge job's log: it exists and reports every trial complete.
    func slurmCheckMergeLog(_ dir: String, job: Int) {
        let path = "\(dir)/slurm/merge_\(job).out"
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "the merge job \(job) wrote no log")
        let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("slurm_sweep: 6 of 6 trials complete"), log)
        XCTAssertFalse(log.contains("missing"), log)
        let state = slurmJobState(job)
        if state != "(purged)" { XCTAssertTrue(state.contains("JobState=COMPLETED"), state) }
        print("merge job \(job): \(state)\n---- merge_\(job).out ----\n\(log)----")
    }

    func testJobArrayOnRealSlurmMergesToLocalRun() throws {
        guard let sinfo = slurmCommand(["sinfo", "-h", "-N", "-o", "%N %T"]), sinfo.code == 0 else {
            throw XCTSkip("no Slurm cluster: sinfo is not installed or cannot reach slurmctld (CI starts one with .ci/slurm-up.sh, as root)")
        }
        guard sinfo.output.split(separator: "\n").contains(where: { $0.hasSuffix(" idle") || $0.hasSuffix(" mixed") }) else {
            throw XCTSkip("no idle Slurm node (sinfo: \(sinfo.output.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        guard shardRunnerBinary() != nil else { throw XCTSkip("runner executable not built next to the tests") }
        print("sinfo: \(sinfo.output.trimmingCharacters(in: .whitespacesAndNewlines))")

        let d = tempDir("slurm")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let config = d + "/slurm_sweep.json"
        try Self.config.write(toFile: config, atomically: true, encoding: .utf8)
        for sub in ["local", "cluster"] { try FileManager.default.createDirectory(atPath: d + "/" + sub, withIntermediateDirectories: true) }

        // Reference: the same config run locally (results/ relative to its own folder).
        let local = try shardRun([config, "--quiet"], cwd: d + "/local")
        XCTAssertEqual(local.code, 0, local.stderr)
        let reference = try shardSummaryRows(d + "/local/results/slurm_sweep/summary.csv")
        XCTAssertEqual(reference.count, 7)

        // Submit from the cluster folder: results/slurm_sweep/ there, logs in its slurm/.
        let started = Date()
        let submit = try shardRun(["slurm", config, "--max-parallel", "2", "--submit"], cwd: d + "/cluster")
        print("runner slurm --submit (exit \(submit.code)):\n\(submit.stdout)\(submit.stderr)")
        XCTAssertEqual(submit.code, 0, submit.stderr)
        let dir = d + "/cluster/results/slurm_sweep"
        let arraySbatch = try String(contentsOfFile: dir + "/slurm/array.sbatch", encoding: .utf8)
        let mergeSbatch = try String(contentsOfFile: dir + "/slurm/merge.sbatch", encoding: .utf8)
        print("---- array.sbatch ----\n\(arraySbatch)---- merge.sbatch ----\n\(mergeSbatch)----")
        XCTAssertTrue(arraySbatch.contains("#SBATCH --array=0-5%2\n"), arraySbatch)
        XCTAssertTrue(arraySbatch.contains("%A_%a.out"), arraySbatch)
        let ids = submit.stdout.split(separator: "\n").first { $0.hasPrefix("submitted job array ") }?
            .split(separator: " ").compactMap { Int($0) } ?? []
        guard ids.count == 2 else { return XCTFail("no job ids in: \(submit.stdout)") }
        let (arrayJob, mergeJob) = (ids[0], ids[1])
        guard slurmWait([arrayJob, mergeJob]) else { return }
        print("array + merge jobs ended after \(String(format: "%.1f", Date().timeIntervalSince(started))) s")

        // No accounting on this cluster (sacct says so), so the evidence is the log files and
        // what slurmctld still holds of the merge job.
        if let sacct = slurmCommand(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", "\(arrayJob),\(mergeJob)"]) {
            let text = sacct.output.trimmingCharacters(in: .whitespacesAndNewlines)
            print("sacct (exit \(sacct.code)): \(text)")
            if sacct.code == 0 && !text.isEmpty && !text.contains("disabled") {   // a cluster with accounting
                for line in text.split(separator: "\n") { XCTAssertTrue(line.hasSuffix("|COMPLETED"), String(line)) }
            }
        }
        for task in 0..<6 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/slurm/\(arrayJob)_\(task).out"), "no log of array task \(task)")
        }
        slurmCheckMergeLog(dir, job: mergeJob)
        let merged = try String(contentsOfFile: dir + "/summary.csv", encoding: .utf8)
        print("---- merged summary.csv ----\n\(merged)----")
        XCTAssertEqual(try shardSummaryRows(dir + "/summary.csv"), reference, "the Slurm run differs from the local run")
        XCTAssertEqual(try String(contentsOfFile: dir + "/val_acc.csv", encoding: .utf8),
                       try String(contentsOfFile: d + "/local/results/slurm_sweep/val_acc.csv", encoding: .utf8))

        // Rerun a subset the Slurm way: drop trials 1 and 4, resubmit the same script with
        // --array=1,4 and merge again; each task must train its own trial.
        let plan = try Sweep.plan(try readConfigFile(config), defaultName: "slurm_sweep")
        for k in [1, 4] { try FileManager.default.removeItem(atPath: "\(dir)/trials/\(plan.trials[k].folderName)") }
        let rerunStarted = Date()
        func sbatch(_ args: [String]) -> Int? {
            guard let r = slurmCommand(["sbatch", "--parsable"] + args), r.code == 0 else { return nil }
            return Int(r.output.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        }
        guard let rerunJob = sbatch(["--array=1,4", dir + "/slurm/array.sbatch"]),
              let remergeJob = sbatch(["--dependency=afterany:\(rerunJob)", dir + "/slurm/merge.sbatch"]) else {
            return XCTFail("sbatch of the rerun failed")
        }
        guard slurmWait([rerunJob, remergeJob]) else { return }
        print("rerun of trials 1 and 4 (sbatch --array=1,4) + merge ended after \(String(format: "%.1f", Date().timeIntervalSince(rerunStarted))) s")
        for task in [1, 4] {
            let log = (try? String(contentsOfFile: "\(dir)/slurm/\(rerunJob)_\(task).out", encoding: .utf8)) ?? "(no log)"
            XCTAssertFalse(log.contains("error"), "task \(task): \(log)")
        }
        slurmCheckMergeLog(dir, job: remergeJob)
        XCTAssertEqual(try shardSummaryRows(dir + "/summary.csv"), reference, "the rerun trials differ from the local run")
    }
}
