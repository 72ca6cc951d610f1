import XCTest
import Foundation
import Runner
import RunnerCLI

/// `runner plan`'s time estimates: work divided by the calibrated rate of the trial's kind,
/// scheduled like the runner does, the calibration cached per machine and version.
final class CalibrationTests: XCTestCase {
    func testWallTimeSchedulesLikeTheRunner() {
        XCTAssertEqual(estimatedWallTime([3, 1, 1, 1], jobs: 2), 3)      // 3 | 1+1+1
        XCTAssertEqual(estimatedWallTime([1, 1, 1, 3], jobs: 2), 4)      // 1+1 | 1+3
        XCTAssertEqual(estimatedWallTime([2, 2, 2], jobs: 1), 6)
        XCTAssertEqual(estimatedWallTime([4], jobs: 2), 2, "a lone trial's products use both cores")
        XCTAssertEqual(estimatedWallTime([], jobs: 4), 0)
    }

    func testSecondsAreWorkOverTheRateOfTheTrialsKind() throws {
        let c = Calibration(fcRate: 2e9, convRate: 5e8)
        for (file, rate) in [("fc_sample", 2e9), ("cnn_overfit", 5e8)] {
            let plan = try Sweep.plan(JSON.parse(String(contentsOfFile: repoRoot + "/configs/\(file).json", encoding: .utf8)), defaultName: file)
            let t = plan.trials[0], cost = try estimateCost(t)
            XCTAssertEqual(c.seconds(t, cost: cost), cost.flops / rate, accuracy: 1e-9 * cost.flops / rate, file)
        }
        XCTAssertEqual(formatDuration(4.44), "4.4 s")
        XCTAssertEqual(formatDuration(200), "3 min 20 s")
        XCTAssertEqual(formatDuration(7500), "2 h 05 min")
    }

    /// The calibration is measured once, cached under XDG_CACHE_HOME (HOME/.cache without
    /// it; a relative XDG_CACHE_HOME is ignored), reused, and measured again for another
    /// runner version; `plan` prints the estimates from it and says they are estimates.
    func testCacheAndPlanOutput() throws {
        let d = tempDir("calibration")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let env = ["XDG_CACHE_HOME": d + "/xdg", "HOME": d + "/home"]
        let first = Calibration.current(environment: env, version: "test")
        XCTAssertFalse(first.fromCache)
        XCTAssertEqual(first.cachePath, d + "/xdg/runner/calibration.json")
        XCTAssertGreaterThan(first.fcRate, 1e7)
        XCTAssertGreaterThan(first.convRate, 1e7)
        let again = Calibration.current(environment: env, version: "test")
        XCTAssertTrue(again.fromCache)
        XCTAssertEqual(again.fcRate, first.fcRate.rounded())
        XCTAssertFalse(Calibration.current(environment: env, version: "other").fromCache)
        let home = Calibration.current(environment: ["XDG_CACHE_HOME": "relative", "HOME": d + "/home"], version: "test")
        XCTAssertEqual(home.cachePath, d + "/home/.cache/runner/calibration.json")

        // plan, with a cache of known rates
        let cache = #"{"format": "runner calibration 1", "machine": \#(JSON.string(Calibration.machineKey()).compact), "version": "\#(runnerVersion)", "#
            + #""measured": \#(Int(Date().timeIntervalSince1970)), "fc_flops_per_second": 1000000000, "conv_flops_per_second": 100000000}"#
        try FileManager.default.createDirectory(atPath: d + "/plan/runner", withIntermediateDirectories: true)
        try cache.write(toFile: d + "/plan/runner/calibration.json", atomically: false, encoding: .utf8)
        let r = runnerInProcess(["plan", "configs/fc_sample.json"], cwd: repoRoot, env: ["XDG_CACHE_HOME": d + "/plan"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let plan = try Sweep.plan(JSON.parse(String(contentsOfFile: repoRoot + "/configs/fc_sample.json", encoding: .utf8)), defaultName: "fc_sample")
        let seconds = try estimateCost(plan.trials[0]).flops / 1e9
        XCTAssertTrue(r.stdout.contains("  ~" + formatDuration(seconds) + "\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("estimated time ≈ \(formatDuration(seconds / Double(max(1, ProcessInfo.processInfo.activeProcessorCount)))) with"), r.stdout)
        XCTAssertTrue(r.stdout.contains("an estimate from a calibration of this machine (cached in \(d)/plan/runner/calibration.json)"), r.stdout)
    }
}
