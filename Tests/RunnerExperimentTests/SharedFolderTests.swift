import XCTest
import Foundation
import Runner

/// Several processes on one results folder, a full disk, and what interrupted writes leave.
final class SharedFolderTests: XCTestCase {
    /// A sweep of `n` small synthetic trials writing into `out`.
    func sweepConfig(out: String, trials n: Int = 8, epochs: Int = 4) -> String {
        """
        {"name": "shared", "output": {"dir": "\(out)"},
         "data": {"source": "synthetic", "num_train": 400, "num_val": 100, "num_test": 50},
         "model": {"hidden_dims": [64, 64]}, "optimizer": {"type": "adam"},
         "training": {"num_epochs": \(epochs), "batch_size": 20},
         "sweep": {"grid": {"model.weight_scale": {"logspace": [-3, -1, \(n)]}}}}
        """
    }

    func runner(_ args: [String], cwd: String) throws -> (Process, Pipe, Pipe) {
        guard let bin = shardRunnerBinary() else { throw XCTSkip("runner executable not built next to the tests") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = shardEnvironment()
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle.nullDevice
        return (p, out, err)
    }

    func finish(_ r: (Process, Pipe, Pipe)) -> (code: Int32, stdout: String, stderr: String) {
        let o = r.1.fileHandleForReading.readDataToEndOfFile(), e = r.2.fileHandleForReading.readDataToEndOfFile()
        r.0.waitUntilExit()
        XCTAssertEqual(r.0.terminationReason, .exit)
        return (r.0.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Every file of every trial and the wide tables, byte for byte; summary.csv without
    /// its `seconds` column (wall-clock time).
    func assertSameResults(_ a: String, _ b: String, plan: ExperimentPlan, file: StaticString = #filePath, line: UInt = #line) {
        func read(_ p: String) -> String? { try? String(contentsOfFile: p, encoding: .utf8) }
        for t in plan.trials {
            for f in ["loss.csv", "accuracy.csv", "config.json"] {
                // config.json differs only in output.dir (where the results go).
                func clean(_ s: String?) -> String? { s?.split(separator: "\n").filter { !$0.contains("\"dir\": \"/") }.joined(separator: "\n") }
                let x = clean(read("\(a)/trials/\(t.folderName)/\(f)")), y = clean(read("\(b)/trials/\(t.folderName)/\(f)"))
                XCTAssertNotNil(x, "trial \(t.index) \(f) missing", file: file, line: line)
                XCTAssertEqual(x, y, "trial \(t.index) \(f)", file: file, line: line)
            }
        }
        for f in ["val_acc.csv", "train_acc.csv", "loss.csv"] { XCTAssertEqual(read(a + "/" + f), read(b + "/" + f), f, file: file, line: line) }
        func summary(_ d: String) -> [[String]] {
            let rows = (read(d + "/summary.csv") ?? "").split(separator: "\n").map { parseCSVLine(String($0)) }
            guard let s = rows.first?.firstIndex(of: "seconds") else { return rows }
            return rows.map { r in r.enumerated().filter { $0.offset != s }.map(\.element) }
        }
        XCTAssertEqual(summary(a), summary(b), "summary.csv", file: file, line: line)
    }

    /// Two processes started at the same moment on one sweep train every trial exactly once
    /// and write the same files as one process does.
    func testTwoProcessesShareOneSweep() throws {
        let d = tempDir("two")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try sweepConfig(out: d + "/both").write(toFile: d + "/both.json", atomically: true, encoding: .utf8)
        try sweepConfig(out: d + "/one").write(toFile: d + "/one.json", atomically: true, encoding: .utf8)
        let plan = try Sweep.plan(try JSON.parse(sweepConfig(out: d + "/one")), defaultName: "shared")

        let reference = finish(try { let r = try runner(["one.json", "--jobs", "1"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(reference.code, 0, reference.stderr)

        let a = try runner(["both.json", "--jobs", "1"], cwd: d), b = try runner(["both.json", "--jobs", "1"], cwd: d)
        try a.0.run(); try b.0.run()
        let ra = finish(a), rb = finish(b)
        XCTAssertEqual(ra.code, 0, ra.stderr)
        XCTAssertEqual(rb.code, 0, rb.stderr)
        func trained(_ s: String) -> Int { s.split(separator: "\n").filter { $0.contains(": finished") }.count }
        XCTAssertEqual(trained(ra.stdout) + trained(rb.stdout), plan.trials.count, "each trial trained exactly once\nA:\n\(ra.stdout)\nB:\n\(rb.stdout)")
        XCTAssertGreaterThan(trained(ra.stdout), 0, "both processes worked\n\(ra.stdout)")
        XCTAssertGreaterThan(trained(rb.stdout), 0, "both processes worked\n\(rb.stdout)")
        assertSameResults(d + "/both/shared", d + "/one/shared", plan: plan)
    }

    /// A disk that fills up: no trial counts as finished without its files, the message says
    /// why and where, exit 1; after space is freed a rerun completes the sweep with the same
    /// results as a run that never hit the limit. Needs root (it mounts a tiny tmpfs).
    func testFullDisk() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let d = tempDir("full")
        let mnt = d + "/mnt"
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        func sh(_ cmd: String) -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", cmd]
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { return -1 }
            p.waitUntilExit()
            return p.terminationStatus
        }
        guard sh("mount -t tmpfs -o size=96k tmpfs '\(mnt)'") == 0 else { throw XCTSkip("cannot mount a tmpfs here") }
        defer { _ = sh("umount '\(mnt)'"); try? FileManager.default.removeItem(atPath: d) }

        try sweepConfig(out: mnt, trials: 12, epochs: 2).write(toFile: d + "/full.json", atomically: true, encoding: .utf8)
        try sweepConfig(out: d + "/ref", trials: 12, epochs: 2).write(toFile: d + "/ref.json", atomically: true, encoding: .utf8)
        let plan = try Sweep.plan(try JSON.parse(sweepConfig(out: mnt, trials: 12, epochs: 2)), defaultName: "shared")

        let full = finish(try { let r = try runner(["full.json", "--jobs", "2"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(full.code, 1, "a full disk is a failed run\n\(full.stdout)\n\(full.stderr)")
        XCTAssertTrue((full.stdout + full.stderr).contains("no space left on device"), full.stdout + full.stderr)
        XCTAssertFalse(full.stdout.contains("[12/12] ") && !full.stdout.contains("failed"), full.stdout)
        // Every trial with a record (the completion mark) that says finished has all its files.
        let results = mnt + "/shared"
        var complete = 0
        for t in plan.trials where FileManager.default.fileExists(atPath: "\(results)/trials/\(t.folderName)/record.json") {
            let record = try String(contentsOfFile: "\(results)/trials/\(t.folderName)/record.json", encoding: .utf8)
            guard record.contains("\"status\":\"finished\"") else { continue }
            complete += 1
            for f in ["config.json", "loss.csv", "accuracy.csv", "summary.csv"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(results)/trials/\(t.folderName)/\(f)"), "trial \(t.index) counted as finished without \(f)")
            }
        }
        XCTAssertLessThan(complete, plan.trials.count, "the disk was meant to fill up")

        // Free space, rerun: the sweep completes, the same numbers as an undisturbed run.
        XCTAssertEqual(sh("mount -o remount,size=64m '\(mnt)'"), 0)
        let again = finish(try { let r = try runner(["full.json", "--jobs", "2"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(again.code, 0, again.stdout + again.stderr)
        let reference = finish(try { let r = try runner(["ref.json", "--jobs", "2"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(reference.code, 0, reference.stderr)
        assertSameResults(results, d + "/ref/shared", plan: plan)
        // No temporaries left behind.
        let leftovers = (FileManager.default.enumerator(atPath: results)?.allObjects as? [String] ?? []).filter { ($0 as NSString).lastPathComponent.hasPrefix(".runner-tmp.") }
        XCTAssertEqual(leftovers, [])
    }

    /// A read-only results location: exit 1, the path and "read-only file system" (root:
    /// a read-only tmpfs; otherwise a folder without write permission, "permission denied").
    func testReadOnlyResultsFolder() throws {
        let d = tempDir("ro")
        let ro = d + "/ro"
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        var mounted = false
        if geteuid() == 0 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/mount")
            p.arguments = ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro]
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            try? p.run(); p.waitUntilExit()
            mounted = p.terminationStatus == 0
            guard mounted else { throw XCTSkip("cannot mount a read-only tmpfs here") }
        } else {
            chmod(ro, 0o555)
        }
        defer {
            if mounted {
                let p = Process(); p.executableURL = URL(fileURLWithPath: "/bin/umount"); p.arguments = [ro]
                try? p.run(); p.waitUntilExit()
            }
            chmod(ro, 0o755)
            try? FileManager.default.removeItem(atPath: d)
        }
        try sweepConfig(out: ro, trials: 2, epochs: 1).write(toFile: d + "/c.json", atomically: true, encoding: .utf8)
        let r = finish(try { let r = try runner(["c.json", "--quiet"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(r.code, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains(ro + "/shared"), r.stderr)
        XCTAssertTrue(r.stderr.contains(mounted ? "read-only file system" : "permission denied"), r.stderr)
        XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
    }

    /// Temporaries an interrupted write left (kill -9 mid-write) are removed by the next run,
    /// and a trial's config.json reproduces the trial into its own results folder without
    /// touching the sweep's files.
    func testTemporariesCleanedAndTrialConfigReproduces() throws {
        let d = tempDir("tmpclean")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try sweepConfig(out: d + "/r", trials: 3, epochs: 2).write(toFile: d + "/c.json", atomically: true, encoding: .utf8)
        let plan = try Sweep.plan(try JSON.parse(sweepConfig(out: d + "/r", trials: 3, epochs: 2)), defaultName: "shared")
        let dir = d + "/r/shared"
        let trialDir = "\(dir)/trials/\(plan.trials[1].folderName)"
        try FileManager.default.createDirectory(atPath: trialDir, withIntermediateDirectories: true)
        let stale = ["\(dir)/.dat.nosync1a2b.x", "\(trialDir)/.dat.nosync99.loss.csv", "\(trialDir)/.runner-tmp.otherhost.12345.1.summary.csv"]
        for f in stale { try "partial".write(toFile: f, atomically: false, encoding: .utf8) }
        let old = Date(timeIntervalSinceNow: -7200)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: stale[2])

        let first = finish(try { let r = try runner(["c.json", "--quiet"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(first.code, 0, first.stderr)
        for f in stale { XCTAssertFalse(FileManager.default.fileExists(atPath: f), "\(f) left behind") }

        // Rerun one trial from its config.json: same histories, own folder, sweep untouched.
        let before = try String(contentsOfFile: dir + "/summary.csv", encoding: .utf8)
        let t = plan.trials[2]
        let single = finish(try { let r = try runner(["\(dir)/trials/\(t.folderName)/config.json", "--quiet"], cwd: d); try r.0.run(); return r }())
        XCTAssertEqual(single.code, 0, single.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/summary.csv", encoding: .utf8), before, "the sweep's summary was rewritten")
        let own = "\(d)/r/shared.t2/trials/t00-\(t.id)"   // the single trial of its own plan
        for f in ["loss.csv", "accuracy.csv"] {
            XCTAssertEqual(try String(contentsOfFile: "\(own)/\(f)", encoding: .utf8),
                           try String(contentsOfFile: "\(dir)/trials/\(t.folderName)/\(f)", encoding: .utf8), "\(f) of the rerun trial")
        }
        XCTAssertFalse(single.stdout.contains("stale") || single.stderr.contains("--fresh"), single.stdout)
    }
}
