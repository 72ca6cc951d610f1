import XCTest
import Foundation
import Runner

/// `runner` as a user runs it: in this process through `RunnerCLI.main` where a separate
/// process adds nothing (see `runnerInProcess`), and as the built executable for its exit
/// codes and for killing a run.
final class CLITests: XCTestCase {
    static var binary: String? { shardRunnerBinary() }

    struct Output { let code: Int32; let stdout: String; let stderr: String }

    func launch(_ args: [String], cwd: String = repoRoot) throws -> Process {
        guard let bin = Self.binary else { throw XCTSkip("runner executable not built next to the tests") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = shardEnvironment()
        return p
    }

    func run(_ args: [String], cwd: String = repoRoot) throws -> Output {
        let p = try launch(args, cwd: cwd)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    /// In process (`runnerInProcess`); `testExecutableExitCodes` checks the real binary.
    func testUsageAndExitCodes() throws {
        let help = runnerInProcess(["--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.stdout.contains("EXIT CODES"))
        XCTAssertEqual(runnerInProcess(["help", "plan"]).code, 0)
        XCTAssertEqual(runnerInProcess([]).code, 2)
        let badOption = runnerInProcess(["configs/fc_sample.json", "--jobz", "2"])
        XCTAssertEqual(badOption.code, 2)
        XCTAssertEqual(badOption.stderr, "error: unknown option --jobz (did you mean --jobs?)\n")
        let missing = runnerInProcess(["nope.json"])
        XCTAssertEqual(missing.code, 2)
        XCTAssertEqual(missing.stderr, "config error: cannot read config nope.json: no such file\n")

        let d = tempDir("cli")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try write(#"{"model": {"hiden_dims": [10]}}"#, d + "/bad.json")
        let bad = runnerInProcess(["validate", d + "/bad.json"])
        XCTAssertEqual(bad.code, 2)
        XCTAssertEqual(bad.stderr, "config error: model: unknown key \"hiden_dims\" (did you mean \"hidden_dims\"?)\n")
        let good = runnerInProcess(["validate", "configs/batchnorm_sweep.json"], cwd: repoRoot)
        XCTAssertEqual(good.code, 0)
        XCTAssertEqual(good.stdout, "configs/batchnorm_sweep.json: valid (batchnorm_sweep, 40 trials)\n")
        let plan = runnerInProcess(["plan", "configs/optimizer_comparison.json"], cwd: repoRoot)
        XCTAssertEqual(plan.code, 0)
        XCTAssertTrue(plan.stdout.contains("rmsprop_1e-4"))
        XCTAssertTrue(plan.stdout.contains("total work ≈"))
        // Bad data: named in the message, exit code 1.
        try write(#"{"data": {"dir": "\#(d)/nowhere"}, "output": {"dir": "\#(d)/out"}}"#, d + "/nodata.json")
        let nodata = runnerInProcess([d + "/nodata.json"])
        XCTAssertEqual(nodata.code, 1)
        XCTAssertTrue(nodata.stderr.contains("data folder \(d)/nowhere does not exist"), nodata.stderr)
    }

    /// The built executable returns the library's exit codes and writes to stdout/stderr.
    func testExecutableExitCodes() throws {
        let help = try run(["--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.stdout.contains("EXIT CODES"))
        let none = try run([])
        XCTAssertEqual(none.code, 2)
        XCTAssertTrue(none.stdout.contains("EXIT CODES"))
        let badOption = try run(["configs/fc_sample.json", "--jobz", "2"])
        XCTAssertEqual(badOption.code, 2)
        XCTAssertEqual(badOption.stderr, "error: unknown option --jobz (did you mean --jobs?)\n")
        let d = tempDir("cli-exe")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try write(#"{"data": {"dir": "\#(d)/nowhere"}, "output": {"dir": "\#(d)/out"}}"#, d + "/nodata.json")
        let nodata = try run([d + "/nodata.json"])
        XCTAssertEqual(nodata.code, 1)
        XCTAssertTrue(nodata.stderr.contains("data folder \(d)/nowhere does not exist"), nodata.stderr)
    }

    /// SIGKILL mid-sweep (a runner process), rerun: only unfinished trials run again and the
    /// summary equals that of an uninterrupted run.
    func testKilledSweepResumes() throws {
        #if DEBUG
        throw XCTSkip("trains real nets: run the tests in release (swift test -c release)")
        #endif
        let d = tempDir("kill")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let config = """
        {"name": "killme", "seed": 5,
         "data": {"dir": "\(repoRoot)/data/cifar10-sample", "num_train": 1000, "num_test": 0},
         "model": {"hidden_dims": [64, 64]}, "optimizer": {"type": "adam"},
         "training": {"num_epochs": 3, "batch_size": 50},
         "sweep": {"grid": {"model.weight_scale": {"logspace": [-3, -1, 4]}},
                   "arms": {"baseline": {"model.normalization": "none"}, "batchnorm": {"model.normalization": "batchnorm"}}}}
        """
        try write(config.replacingOccurrences(of: "\"seed\"", with: "\"output\": {\"dir\": \"\(d)/a\"}, \"seed\""), d + "/a.json")
        try write(config.replacingOccurrences(of: "\"seed\"", with: "\"output\": {\"dir\": \"\(d)/b\"}, \"seed\""), d + "/b.json")

        let reference = runnerInProcess([d + "/a.json", "--jobs", "2", "--quiet"])
        XCTAssertEqual(reference.code, 0, reference.stderr)

        let p = try launch([d + "/b.json", "--jobs", "1", "--quiet"])
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let trials = d + "/b/killme/trials"
        func finished() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: trials)) ?? []).filter {
                FileManager.default.fileExists(atPath: "\(trials)/\($0)/record.json")   // the completion mark
            }.count
        }
        let deadline = Date().addingTimeInterval(60)
        while finished() < 2 && Date() < deadline && p.isRunning { usleep(20_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = finished()
        XCTAssertGreaterThanOrEqual(before, 2)
        XCTAssertLessThan(before, 8, "the sweep finished before it could be killed; make the trials longer")

        let rerun = runnerInProcess([d + "/b.json", "--jobs", "2"])
        XCTAssertEqual(rerun.code, 0, rerun.stderr)
        XCTAssertTrue(rerun.stdout.contains("\(before) trials were already finished and skipped"), rerun.stdout)
        func table(_ dir: String) throws -> [String] {
            let lines = try String(contentsOfFile: dir + "/killme/summary.csv", encoding: .utf8).split(separator: "\n")
            let header = parseCSVLine(String(lines[0]))
            let drop = header.firstIndex(of: "seconds")!
            return lines.map { l in var c = parseCSVLine(String(l)); c.remove(at: drop); return c.joined(separator: ",") }
        }
        XCTAssertEqual(try table(d + "/a"), try table(d + "/b"))
        XCTAssertEqual(try String(contentsOfFile: d + "/a/killme/val_acc.csv", encoding: .utf8),
                       try String(contentsOfFile: d + "/b/killme/val_acc.csv", encoding: .utf8))
    }

    /// `runner init` writes a commented config that validates and plans as written, and
    /// refuses to overwrite; `runner help config` lists every field of the schema.
    func testInitAndConfigHelp() throws {
        let d = tempDir("init")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let made = runnerInProcess(["init", "mine"], cwd: d)
        XCTAssertEqual(made.code, 0, made.stderr)
        let text = try String(contentsOfFile: d + "/mine.json", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("// mine: a runner experiment."))
        // Point the data at the bundled sample (the config's default path is relative).
        try text.replacingOccurrences(of: "\"data/cifar10-sample\"", with: "\"\(repoRoot)/data/cifar10-sample\"")
            .write(toFile: d + "/mine.json", atomically: true, encoding: .utf8)
        let valid = runnerInProcess(["validate", "mine.json"], cwd: d)
        XCTAssertEqual(valid.stdout, "mine.json: valid (mine, 6 trials)\n", valid.stderr)
        XCTAssertEqual(runnerInProcess(["plan", "mine.json"], cwd: d).code, 0)
        let again = runnerInProcess(["init", "mine"], cwd: d)
        XCTAssertEqual(again.code, 2)
        XCTAssertEqual(again.stderr, "error: mine.json exists; choose another name\n")
        let help = runnerInProcess(["help", "config"])
        XCTAssertEqual(help.code, 0)
        for path in Schema.allPaths { XCTAssertTrue(help.stdout.contains(path), "help config misses \(path)") }
    }
}
